import { UserInputError } from '../../core/errors.js';
import { normaliseOwnedPath } from '../os-common.js';

/**
 * The rpm header blob, as stored in every rpmdb backend (sqlite, Berkeley DB, ndb): a big-endian
 * index of (tag, type, offset, count) entries followed by a data store (rpm's lib/header.c,
 * "headerImport"). Every read is bounds-checked against the store, so a hostile blob can only
 * make this throw UserInputError; it cannot make us read out of range or loop past the blob size.
 */

export const TAG = {
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  LICENSE: 1014,
  ARCH: 1022,
  OLDFILENAMES: 1027,
  SOURCERPM: 1044,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
} as const;

const TYPE = {
  CHAR: 1,
  INT8: 2,
  INT16: 3,
  INT32: 4,
  INT64: 5,
  STRING: 6,
  BIN: 7,
  STRING_ARRAY: 8,
  I18NSTRING: 9,
} as const;

/** rpm's own sanity limits (lib/header_internal.h): at most 0xffff tags and 256 MiB of data. */
const MAX_TAGS = 0xffff;
const MAX_DATA = 0x0fffffff;
const ENTRY_SIZE = 16;

interface Entry {
  type: number;
  offset: number;
  count: number;
}

export class RpmHeader {
  private readonly entries = new Map<number, Entry>();
  private readonly data: Buffer;

  constructor(blob: Buffer) {
    if (blob.length < 8) throw bad('blob shorter than its 8-byte preamble');
    const il = blob.readUInt32BE(0);
    const dl = blob.readUInt32BE(4);
    if (il === 0 || il > MAX_TAGS) throw bad(`index count ${il} out of range`);
    if (dl > MAX_DATA) throw bad(`data length ${dl} out of range`);
    const dataStart = 8 + il * ENTRY_SIZE;
    if (dataStart + dl > blob.length) {
      throw bad(`index of ${il} entries and ${dl} data bytes do not fit in a ${blob.length}-byte blob`);
    }
    this.data = blob.subarray(dataStart, dataStart + dl);
    for (let i = 0; i < il; i++) {
      const at = 8 + i * ENTRY_SIZE;
      const tag = blob.readUInt32BE(at);
      const entry = {
        type: blob.readUInt32BE(at + 4),
        offset: blob.readInt32BE(at + 8),
        count: blob.readUInt32BE(at + 12),
      };
      // The first copy of a tag is the one in the signed (immutable) region.
      if (!this.entries.has(tag)) this.entries.set(tag, entry);
    }
  }

  has(tag: number): boolean {
    return this.entries.has(tag);
  }

  /** A STRING (or the first I18NSTRING) tag; undefined when absent. */
  string(tag: number): string | undefined {
    const e = this.entries.get(tag);
    if (!e) return undefined;
    if (e.type !== TYPE.STRING && e.type !== TYPE.I18NSTRING && e.type !== TYPE.STRING_ARRAY) {
      throw bad(`tag ${tag} has type ${e.type}, not a string`);
    }
    return this.strings(tag, e, 1)[0];
  }

  /** A STRING_ARRAY tag; [] when absent. */
  stringArray(tag: number): string[] {
    const e = this.entries.get(tag);
    if (!e) return [];
    if (e.type !== TYPE.STRING_ARRAY && e.type !== TYPE.I18NSTRING)
      throw bad(`tag ${tag} has type ${e.type}, not a string array`);
    return this.strings(tag, e, e.count);
  }

  /** An INT32 tag's values; [] when absent. */
  int32Array(tag: number): number[] {
    const e = this.entries.get(tag);
    if (!e) return [];
    if (e.type !== TYPE.INT32) throw bad(`tag ${tag} has type ${e.type}, not INT32`);
    this.checkRange(tag, e, 4);
    const out = new Array<number>(e.count);
    for (let i = 0; i < e.count; i++) out[i] = this.data.readUInt32BE(e.offset + i * 4);
    return out;
  }

  private checkRange(tag: number, e: Entry, size: number): void {
    if (e.offset < 0 || e.count === 0 || e.offset + e.count * size > this.data.length) {
      throw bad(`tag ${tag}: ${e.count} values at offset ${e.offset} exceed the ${this.data.length}-byte data store`);
    }
  }

  /** `n` NUL-terminated strings from the entry's offset; each string must end inside the store. */
  private strings(tag: number, e: Entry, n: number): string[] {
    // Each string takes at least one byte, so a count beyond the remaining bytes is a lie: refuse it
    // before allocating or looping.
    this.checkRange(tag, e, 1);
    const out: string[] = [];
    let at = e.offset;
    for (let i = 0; i < n; i++) {
      const end = this.data.indexOf(0, at);
      if (end < 0) throw bad(`tag ${tag}: string at offset ${at} is not terminated inside the data store`);
      out.push(this.data.toString('utf8', at, end));
      at = end + 1;
    }
    return out;
  }
}

/** What Palisade keeps of an installed rpm. */
export interface RpmPackage {
  name: string;
  version: string;
  release: string;
  epoch?: number;
  arch?: string;
  sourceRpm?: string;
  license?: string;
  /** Installed paths, without the leading slash. */
  files: string[];
}

export function readRpmPackage(blob: Buffer): RpmPackage {
  const h = new RpmHeader(blob);
  const name = h.string(TAG.NAME);
  const version = h.string(TAG.VERSION);
  const release = h.string(TAG.RELEASE);
  if (!name || version === undefined || release === undefined) throw bad('header without NAME, VERSION or RELEASE');
  const pkg: RpmPackage = { name, version, release, files: files(h) };
  const epoch = h.int32Array(TAG.EPOCH);
  if (epoch.length > 0) pkg.epoch = epoch[0]!;
  const arch = h.string(TAG.ARCH);
  if (arch) pkg.arch = arch;
  const src = h.string(TAG.SOURCERPM);
  if (src) pkg.sourceRpm = src;
  const license = h.string(TAG.LICENSE);
  if (license) pkg.license = license;
  return pkg;
}

/** rpm >= 4.x stores files as (dirnames[dirindexes[i]] + basenames[i]); older headers as OLDFILENAMES. */
function files(h: RpmHeader): string[] {
  const basenames = h.stringArray(TAG.BASENAMES);
  if (basenames.length === 0) return normalised(h.stringArray(TAG.OLDFILENAMES));
  const dirnames = h.stringArray(TAG.DIRNAMES);
  const dirindexes = h.int32Array(TAG.DIRINDEXES);
  if (dirindexes.length !== basenames.length) {
    throw bad(`${basenames.length} file base names but ${dirindexes.length} directory indexes`);
  }
  return normalised(
    basenames.map((base, i) => {
      const dir = dirnames[dirindexes[i]!];
      if (dir === undefined)
        throw bad(`directory index ${dirindexes[i]} out of range (${dirnames.length} directories)`);
      return dir + base;
    }),
  );
}

function normalised(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const n = normaliseOwnedPath(p);
    if (n !== undefined) out.push(n);
  }
  return out;
}

/** "util-linux-2.32.1-42.el8_8.src.rpm" -> name util-linux, version "2.32.1-42.el8_8". */
export function parseSourceRpm(file: string): { name: string; version: string } | undefined {
  const base = file.replace(/\.(?:no)?src\.rpm$/, '');
  const r = base.lastIndexOf('-');
  const v = r > 0 ? base.lastIndexOf('-', r - 1) : -1;
  if (v <= 0) return undefined;
  return { name: base.slice(0, v), version: base.slice(v + 1) };
}

function bad(why: string): UserInputError {
  return new UserInputError(`rpm header: ${why}`);
}
