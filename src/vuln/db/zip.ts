import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';
import { LimitExceededError, UserInputError } from '../../core/errors.js';

/**
 * A synchronous, bounded reader for OSV's all.zip files (ZIP and ZIP64). The central directory
 * is read once; each entry is then read with one positional read and inflated in one call.
 * (yauzl's per-entry asynchronous reads made a 300,000-entry import wait on the thread pool
 * most of the time.) Every size is checked before anything is allocated or inflated, inflation
 * stops at the declared size, and CRC-32s are verified: a damaged or hostile zip fails cleanly.
 */

export interface ZipEntryInfo {
  /** Where its record starts in the central directory (`entryAt` reads it again from there). */
  at: number;
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  encrypted: boolean;
}

const EOCD = 0x06054b50;
const Z64_LOCATOR = 0x07064b50;
const Z64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_CENTRAL_DIRECTORY = 512 * 1024 * 1024;
/** Bytes read at once while walking entries. */
const WINDOW = 4 * 1024 * 1024;

export class ZipReader {
  private readonly fd: number;
  private readonly size: number;
  readonly entryCount: number;
  private readonly cdOffset: number;
  private readonly cdSize: number;

  constructor(
    readonly path: string,
    maxEntries: number,
  ) {
    this.fd = openSync(path, 'r');
    try {
      this.size = fstatSync(this.fd).size;
      const { entries, cdOffset, cdSize, end } = this.findEnd();
      if (entries > maxEntries) throw new LimitExceededError(`${path} has ${entries} entries (limit ${maxEntries})`);
      if (cdSize > MAX_CENTRAL_DIRECTORY) throw new LimitExceededError(`${path}: central directory of ${cdSize} bytes`);
      if (cdOffset + cdSize > end)
        throw new UserInputError(`${path} is not a readable zip (central directory out of bounds)`);
      this.entryCount = entries;
      this.cdOffset = cdOffset;
      this.cdSize = cdSize;
    } catch (err) {
      closeSync(this.fd);
      throw err;
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  /**
   * A window of the file: entries are laid out in order, so most reads are slices of one big read.
   * One buffer serves every window (a fresh one each time cost a page fault per 4 KiB): a slice
   * `read` returns is good until the next `read`.
   */
  private windowBuffer: Buffer | null = null;
  private win: Buffer = Buffer.alloc(0);
  private winStart = 0;

  private read(pos: number, len: number): Buffer {
    if (pos < 0 || pos + len > this.size) throw new UserInputError(`${this.path} is not a readable zip (truncated)`);
    if (pos >= this.winStart && pos + len <= this.winStart + this.win.length)
      return this.win.subarray(pos - this.winStart, pos - this.winStart + len);
    const want = len > WINDOW ? len : Math.min(WINDOW, this.size - pos);
    let buf: Buffer;
    if (len > WINDOW) buf = Buffer.allocUnsafe(want);
    else {
      this.windowBuffer ??= Buffer.allocUnsafe(WINDOW);
      buf = this.windowBuffer.subarray(0, want);
    }
    let got = 0;
    while (got < want) {
      const n = readSync(this.fd, buf, got, want - got, pos + got);
      if (n === 0) throw new UserInputError(`${this.path} is not a readable zip (truncated)`);
      got += n;
    }
    if (len <= WINDOW) {
      this.win = buf;
      this.winStart = pos;
    }
    return buf.subarray(0, len);
  }

  /** The end-of-central-directory record (and its ZIP64 form when the counts overflow). */
  private findEnd(): { entries: number; cdOffset: number; cdSize: number; end: number } {
    const tail = Math.min(this.size, 22 + 65535);
    const buf = this.read(this.size - tail, tail);
    for (let i = tail - 22; i >= 0; i--) {
      if (buf.readUInt32LE(i) !== EOCD || i + 22 + buf.readUInt16LE(i + 20) !== tail) continue;
      const eocdPos = this.size - tail + i;
      let entries = buf.readUInt16LE(i + 10);
      let cdSize = buf.readUInt32LE(i + 12);
      let cdOffset = buf.readUInt32LE(i + 16);
      let end = eocdPos;
      if (entries === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
        const loc = this.read(eocdPos - 20, 20);
        if (loc.readUInt32LE(0) !== Z64_LOCATOR)
          throw new UserInputError(`${this.path} is not a readable zip (no ZIP64 locator)`);
        const z64At = Number(loc.readBigUInt64LE(8));
        const z64 = this.read(z64At, 56);
        if (z64.readUInt32LE(0) !== Z64_EOCD)
          throw new UserInputError(`${this.path} is not a readable zip (bad ZIP64 end)`);
        entries = Number(z64.readBigUInt64LE(32));
        cdSize = Number(z64.readBigUInt64LE(40));
        cdOffset = Number(z64.readBigUInt64LE(48));
        end = z64At;
      }
      return { entries, cdOffset, cdSize, end };
    }
    throw new UserInputError(`${this.path} is not a readable zip (no end of central directory: truncated?)`);
  }

  /** The central directory, read once and kept: an import indexes it, then reads entries out of order. */
  private cd: Buffer | null = null;

  private centralDirectory(): Buffer {
    if (!this.cd) {
      const bytes = this.read(this.cdOffset, this.cdSize);
      // A read within the window is a view of it: copied, so the window can move on.
      this.cd = this.cdSize > WINDOW ? bytes : Buffer.from(bytes);
    }
    return this.cd;
  }

  /** The central directory, entry by entry. */
  *entries(): Generator<ZipEntryInfo> {
    let p = 0;
    for (let i = 0; i < this.entryCount; i++) {
      const e = this.entryAt(p);
      yield e;
      p = e.next;
    }
  }

  /** The entry whose central directory record starts at `p` (and where the next one starts). */
  entryAt(p: number): ZipEntryInfo & { next: number } {
    const cd = this.centralDirectory();
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL)
      throw new UserInputError(`${this.path} is not a readable zip (damaged central directory)`);
    const flags = cd.readUInt16LE(p + 8);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    if (p + 46 + nameLen + extraLen + commentLen > cd.length)
      throw new UserInputError(`${this.path} is not a readable zip (damaged central directory)`);
    let compressedSize = cd.readUInt32LE(p + 20);
    let size = cd.readUInt32LE(p + 24);
    let localOffset = cd.readUInt32LE(p + 42);
    const name = cd.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
    // ZIP64 extra field: the 64-bit values of exactly the fields saturated above, in this order.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = cd.readUInt16LE(x);
      const len = cd.readUInt16LE(x + 2);
      if (id === 0x0001) {
        let q = x + 4;
        const next = () => {
          const v = q + 8 <= x + 4 + len ? Number(cd.readBigUInt64LE(q)) : Number.NaN;
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localOffset === 0xffffffff) localOffset = next();
      }
      x += 4 + len;
    }
    if (![size, compressedSize, localOffset].every(Number.isFinite))
      throw new UserInputError(`${this.path} is not a readable zip (bad ZIP64 field for ${name})`);
    return {
      at: p,
      next: p + 46 + nameLen + extraLen + commentLen,
      name,
      method: cd.readUInt16LE(p + 10),
      crc: cd.readUInt32LE(p + 16),
      compressedSize,
      size,
      localOffset,
      encrypted: (flags & 1) === 1,
    };
  }

  /**
   * The entry's bytes, inflated to exactly its declared size and CRC-checked. A stored (not
   * deflated) entry's bytes are a view of the read window: good until the next call.
   */
  data(e: ZipEntryInfo): Buffer {
    const where = `${this.path}!${e.name}`;
    if (e.encrypted) throw new UserInputError(`${where}: encrypted entries are not supported`);
    const local = this.read(e.localOffset, 30);
    if (local.readUInt32LE(0) !== LOCAL) throw new UserInputError(`${where}: damaged zip (no local header)`);
    const start = e.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    const raw = this.read(start, e.compressedSize);
    let out: Buffer;
    if (e.method === 0) out = raw;
    else if (e.method === 8) {
      try {
        // One output chunk of exactly the declared size (+1 to see the end): no 16 KiB buffer per entry.
        out = inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size), chunkSize: Math.max(64, e.size + 1) });
      } catch (err) {
        throw new UserInputError(`${where}: damaged zip (${(err as Error).message})`);
      }
    } else throw new UserInputError(`${where}: unsupported compression method ${e.method}`);
    if (out.length !== e.size)
      throw new UserInputError(`${where}: damaged zip (size ${out.length}, declared ${e.size})`);
    if (crc32(out) >>> 0 !== e.crc >>> 0) throw new UserInputError(`${where}: CRC-32 mismatch (damaged zip)`);
    return out;
  }
}
