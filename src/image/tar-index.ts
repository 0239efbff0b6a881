import { open } from 'node:fs/promises';
import { LimitExceededError, UserInputError } from '../core/errors.js';
import { normaliseEntryPath, printable, resolveInRoot } from './paths.js';

/** One member of an outer archive (docker-archive, oci-archive): where its bytes start and how many. */
export interface TarMember {
  name: string;
  /** "0" file, "1" hard link, "2" symlink, "5" directory, ... (the tar type flag). */
  typeflag: string;
  /** Byte offset of the member's data in the archive file. */
  offset: number;
  size: number;
  linkname: string;
}

const BLOCK = 512;
/** PAX and GNU long-name records are small; anything bigger is hostile. */
const MAX_META_BYTES = 1024 * 1024;

/**
 * Indexes an outer archive by reading only its headers (a few KiB for a 100 MB image): the layers
 * inside are then streamed straight from the file by offset, never extracted. tar-stream cannot report
 * offsets, hence this small reader of ustar/PAX/GNU headers.
 */
export async function indexTar(path: string, maxMembers: number): Promise<Map<string, TarMember>> {
  const fh = await open(path, 'r');
  try {
    const { size: fileSize } = await fh.stat();
    const members = new Map<string, TarMember>();
    const header = Buffer.alloc(BLOCK);
    let offset = 0;
    let pax: Record<string, string> = {};
    let longName: string | undefined;
    let longLink: string | undefined;
    let count = 0;
    while (offset + BLOCK <= fileSize) {
      await readExactly(fh, header, offset, path);
      if (header.every((b) => b === 0)) return members;
      verifyChecksum(header, path, offset);
      const typeflag = String.fromCharCode(header[156] ?? 0x30);
      const size =
        pax.size !== undefined ? parsePaxSize(pax.size, path) : parseNumeric(header.subarray(124, 136), path);
      const dataStart = offset + BLOCK;
      if (dataStart + size > fileSize) throw new UserInputError(`archive ${path} is truncated (member at ${offset})`);
      offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
      if (typeflag === 'x' || typeflag === 'L' || typeflag === 'K' || typeflag === 'g') {
        if (size > MAX_META_BYTES) throw new UserInputError(`archive ${path}: oversized header record at ${dataStart}`);
        const data = Buffer.alloc(size);
        await readExactly(fh, data, dataStart, path);
        if (typeflag === 'x') pax = parsePax(data);
        else if (typeflag === 'L') longName = cString(data);
        else if (typeflag === 'K') longLink = cString(data);
        continue;
      }
      if (++count > maxMembers) {
        throw new LimitExceededError(`archive ${path} has more than ${maxMembers} members (limit maxEntries)`);
      }
      const rawName = pax.path ?? longName ?? ustarName(header);
      const linkname = pax.linkpath ?? longLink ?? cString(header.subarray(157, 257));
      pax = {};
      longName = longLink = undefined;
      let name: string;
      try {
        name = normaliseEntryPath(rawName, path);
      } catch {
        continue; // An outer member that could never name a blob is simply not indexed.
      }
      members.set(name, { name, typeflag, offset: dataStart, size, linkname });
    }
    if (offset < fileSize || members.size === 0) throw new UserInputError(`archive ${path} is truncated or not a tar`);
    return members;
  } finally {
    await fh.close();
  }
}

/** Follows symlink and hard-link members inside the archive (skopeo's legacy `<id>/layer.tar` links). */
export function resolveMember(members: Map<string, TarMember>, name: string): TarMember | undefined {
  let current = members.get(name);
  for (let hops = 0; current && hops < 16; hops++) {
    if (current.typeflag === '2') current = members.get(resolveInRoot(current.name, current.linkname));
    else if (current.typeflag === '1') current = members.get(resolveInRoot('', current.linkname));
    else return current;
  }
  return undefined;
}

async function readExactly(
  fh: Awaited<ReturnType<typeof open>>,
  buf: Buffer,
  position: number,
  path: string,
): Promise<void> {
  const { bytesRead } = await fh.read(buf, 0, buf.length, position);
  if (bytesRead !== buf.length) throw new UserInputError(`archive ${path} is truncated at byte ${position}`);
}

function verifyChecksum(h: Buffer, path: string, offset: number): void {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  const stored = Number.parseInt(cString(h.subarray(148, 156)).trim() || 'x', 8);
  if (stored !== sum) throw new UserInputError(`archive ${path} is not a tar or is corrupt (bad header at ${offset})`);
}

function ustarName(h: Buffer): string {
  const name = cString(h.subarray(0, 100));
  // Only POSIX ustar has the prefix field; GNU tar uses those bytes for other things.
  const magic = h.subarray(257, 263).toString('latin1');
  if (magic === 'ustar\0') {
    const prefix = cString(h.subarray(345, 500));
    if (prefix) return `${prefix}/${name}`;
  }
  return name;
}

function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('utf8');
}

function parseNumeric(b: Buffer, path: string): number {
  if ((b[0]! & 0x80) !== 0) {
    // GNU base-256 for sizes >= 8 GiB.
    let n = 0;
    for (let i = 1; i < b.length; i++) n = n * 256 + b[i]!;
    if (!Number.isSafeInteger(n)) throw new UserInputError(`archive ${path}: member size out of range`);
    return n;
  }
  const s = cString(b).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new UserInputError(`archive ${path}: malformed size field "${printable(s)}"`);
  return Number.parseInt(s, 8);
}

function parsePaxSize(s: string, path: string): number {
  if (!/^\d{1,15}$/.test(s)) throw new UserInputError(`archive ${path}: malformed PAX size "${printable(s)}"`);
  return Number(s);
}

/** PAX records: "<len> <key>=<value>\n", where len counts the whole record. */
function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = Number.parseInt(data.subarray(pos, space).toString('latin1'), 10);
    if (!Number.isFinite(len) || len <= 0 || pos + len > data.length) break;
    const record = data.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}
