import { IntegrityError, UserInputError } from '../../core/errors.js';

/**
 * rpm's "ndb" backend (`Packages.db`, SUSE): a 32-byte header, then `slotPages` pages of 4 KiB holding
 * 16-byte slots (the header takes the first two); each used slot points at a block (in 16-byte units)
 * holding a blob header, one rpm header blob, padding, and a tail (Adler-32 of everything before it in
 * the block, the blob length, "BlbE"). Little-endian (rpm lib/backend/ndb/rpmpkg.c).
 */

const PAGE = 4096;
const SLOT = 16;
const BLOCK = 16;
const HEADER_MAGIC = 0x506d7052; // "RpmP"
const SLOT_MAGIC = 0x746f6c53; // "Slot"
const BLOB_MAGIC = 0x53626c42; // "BlbS"
const TAIL_MAGIC = 0x45626c42; // "BlbE"
const TAIL = 12;
/** The slot index is read whole; 2048 pages (512k packages) is far above any real system. */
const MAX_SLOT_PAGES = 2048;

export function readNdbBlobs(file: Buffer): Buffer[] {
  if (file.length < 32 || file.readUInt32LE(0) !== HEADER_MAGIC) throw bad('not an rpm ndb database');
  if (file.readUInt32LE(4) !== 0) throw bad(`unsupported version ${file.readUInt32LE(4)}`);
  const slotPages = file.readUInt32LE(12);
  if (slotPages === 0 || slotPages > MAX_SLOT_PAGES) throw bad(`slot page count ${slotPages} out of range`);
  const slotsEnd = slotPages * PAGE;
  if (slotsEnd > file.length) throw bad(`${slotPages} slot pages do not fit in a ${file.length}-byte file`);
  const blobs: Buffer[] = [];
  // Slots pointing at the same blocks would make us parse one blob many times; real slots never
  // overlap, so the blocks of all packages together fit in the file.
  let claimedBytes = 0;
  for (let at = 32; at < slotsEnd; at += SLOT) {
    if (file.readUInt32LE(at) !== SLOT_MAGIC) throw bad(`bad slot magic at offset ${at}`);
    const pkgIndex = file.readUInt32LE(at + 4);
    if (pkgIndex === 0) continue; // free slot
    const start = file.readUInt32LE(at + 8) * BLOCK;
    const blocks = file.readUInt32LE(at + 12);
    const end = start + blocks * BLOCK;
    if (start < slotsEnd || end > file.length || blocks === 0) {
      throw bad(`package ${pkgIndex}: block ${start}..${end} outside the data area`);
    }
    claimedBytes += end - start;
    if (claimedBytes > file.length - slotsEnd) throw bad('package blocks overlap');
    if (file.readUInt32LE(start) !== BLOB_MAGIC) throw bad(`package ${pkgIndex}: bad blob magic`);
    if (file.readUInt32LE(start + 4) !== pkgIndex)
      throw bad(`package ${pkgIndex}: blob belongs to package ${file.readUInt32LE(start + 4)}`);
    const len = file.readUInt32LE(start + 12);
    if (start + 16 + len + TAIL > end)
      throw bad(`package ${pkgIndex}: blob of ${len} bytes overruns its ${blocks} blocks`);
    if (file.readUInt32LE(end - 4) !== TAIL_MAGIC || file.readUInt32LE(end - 8) !== len) {
      throw bad(`package ${pkgIndex}: bad blob tail`);
    }
    if (adler32(file.subarray(start, end - TAIL)) !== file.readUInt32LE(end - TAIL)) {
      throw new IntegrityError(`rpm Packages.db: package ${pkgIndex}: blob checksum mismatch`);
    }
    blobs.push(file.subarray(start + 16, start + 16 + len));
  }
  return blobs;
}

function bad(why: string): UserInputError {
  return new UserInputError(`rpm Packages.db: ${why}`);
}

/** RFC 1950 Adler-32 (what rpm's ndb uses for blob checksums; node:zlib does not expose it). */
export function adler32(buf: Buffer): number {
  let a = 1;
  let b = 0;
  // 5552 is the largest run for which the sums cannot overflow 2^32 before the modulo.
  for (let i = 0; i < buf.length; ) {
    const end = Math.min(i + 5552, buf.length);
    for (; i < end; i++) {
      a += buf[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}
