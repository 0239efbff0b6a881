import { UserInputError } from '../../core/errors.js';

/**
 * rpm < 4.16's `Packages`: a Berkeley DB hash database. Keys are package numbers; each value is an rpm
 * header blob stored "off page" in a chain of overflow pages. We walk the hash pages, follow each
 * off-page value's chain and concatenate it (Berkeley DB dbinc/db_page.h layouts).
 * Byte order is the writer's; the metadata magic tells which.
 */

const HASH_MAGIC = 0x061561;
const PAGE_HEADER = 26;
const P_HASH_UNSORTED = 2;
const P_OVERFLOW = 7;
const P_HASH = 13;
const H_OFFPAGE = 3;
const PAGE_SIZES = new Set([512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]);

export function readBdbBlobs(file: Buffer): Buffer[] {
  if (file.length < 512) throw bad('file too short for a Berkeley DB metadata page');
  let le: boolean;
  if (file.readUInt32LE(12) === HASH_MAGIC) le = true;
  else if (file.readUInt32BE(12) === HASH_MAGIC) le = false;
  else throw bad('not a Berkeley DB hash database');
  const u32 = (at: number) => (le ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const u16 = (at: number) => (le ? file.readUInt16LE(at) : file.readUInt16BE(at));
  const pageSize = u32(20);
  if (!PAGE_SIZES.has(pageSize)) throw bad(`unexpected page size ${pageSize}`);
  const lastPage = u32(32);
  const pages = Math.floor(file.length / pageSize);
  if (lastPage >= pages) throw bad(`last page ${lastPage} beyond the ${pages} pages in the file`);

  // Every overflow page belongs to exactly one value. Refusing a page seen twice stops cycles and
  // also values sharing pages, so the blobs together are never larger than the file.
  const claimed = new Set<number>();
  const overflow = (first: number, total: number): Buffer => {
    const parts: Buffer[] = [];
    let got = 0;
    for (let pg = first; pg !== 0; ) {
      if (pg > lastPage || claimed.has(pg)) throw bad(`overflow chain from page ${first} is broken at page ${pg}`);
      claimed.add(pg);
      const base = pg * pageSize;
      if (file[base + 25] !== P_OVERFLOW) throw bad(`page ${pg} is not an overflow page`);
      const next = u32(base + 16);
      // On an overflow page the "high free offset" field holds the bytes used on that page.
      const used = u16(base + 22);
      if (PAGE_HEADER + used > pageSize) throw bad(`overflow page ${pg} claims ${used} bytes`);
      parts.push(file.subarray(base + PAGE_HEADER, base + PAGE_HEADER + used));
      got += used;
      if (got > total) throw bad(`overflow chain from page ${first} is longer than its ${total}-byte value`);
      pg = next;
    }
    if (got !== total) throw bad(`overflow chain from page ${first} holds ${got} of ${total} bytes`);
    return Buffer.concat(parts, total);
  };

  const blobs: Buffer[] = [];
  for (let pg = 1; pg <= lastPage; pg++) {
    const base = pg * pageSize;
    const type = file[base + 25];
    if (type !== P_HASH && type !== P_HASH_UNSORTED) continue;
    const entries = u16(base + 20);
    if (entries % 2 !== 0) throw bad(`hash page ${pg} has an odd number of entries (${entries})`);
    if (PAGE_HEADER + entries * 2 > pageSize) throw bad(`hash page ${pg} claims ${entries} entries`);
    // Entries are (key, value) offset pairs; the values of rpm's Packages are all off-page items.
    for (let i = 1; i < entries; i += 2) {
      const off = u16(base + PAGE_HEADER + i * 2);
      if (off < PAGE_HEADER + entries * 2 || off >= pageSize)
        throw bad(`hash page ${pg}: item offset ${off} out of range`);
      const item = base + off;
      if (file[item] !== H_OFFPAGE) continue;
      // An off-page item: type, 3 unused bytes, first overflow page, total length.
      if (off + 12 > pageSize) throw bad(`hash page ${pg}: off-page item at ${off} overruns the page`);
      blobs.push(overflow(u32(item + 4), u32(item + 8)));
    }
  }
  return blobs;
}

function bad(why: string): UserInputError {
  return new UserInputError(`rpm Packages (Berkeley DB): ${why}`);
}
