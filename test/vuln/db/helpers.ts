import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

export const FIX = new URL('../../fixtures/vuln/db/', import.meta.url).pathname;
export const REPO = new URL('../../../', import.meta.url).pathname;

export function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'palisade-vulndb-'));
}

/** Every `.json` file under `dir`, sorted. */
export async function jsonFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await jsonFiles(p)));
    else if (e.name.endsWith('.json')) out.push(p);
  }
  return out;
}

// biome-ignore lint/suspicious/noExplicitAny: fixture JSON is arbitrary; tests read the fields they assert on.
export type Json = any;

export async function readJsonFiles(dir: string): Promise<Array<{ path: string; data: Json }>> {
  return Promise.all(
    (await jsonFiles(dir)).map(async (path) => ({ path, data: JSON.parse(await readFile(path, 'utf8')) })),
  );
}

export interface ZipEntry {
  name: string;
  data: Buffer;
  /** Store a wrong CRC-32 (damaged archive). */
  badCrc?: boolean;
}

/** A real deflate zip (local headers, central directory, end record) built in memory. */
export function makeZip(entries: readonly ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const body = deflateRawSync(e.data);
    const crc = (crc32(e.data) ^ (e.badCrc ? 1 : 0)) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** A zip of JSON records named `<id>.json`, like OSV's per-ecosystem all.zip. */
export function zipOfRecords(records: readonly { id: string }[]): Buffer {
  return makeZip(records.map((r) => ({ name: `${r.id}.json`, data: Buffer.from(JSON.stringify(r)) })));
}

/** The official OSV schema (JSON Schema 2020-12) compiled with ajv. */
export async function osvValidator(): Promise<ValidateFunction> {
  const ajv = new Ajv2020({ strict: false });
  addFormatsModule.default(ajv as never);
  return ajv.compile(JSON.parse(await readFile(`${FIX}osv-schema.json`, 'utf8')));
}

/**
 * Streams a (possibly large) deflate zip to `path`; past 65,534 entries it writes the ZIP64 end
 * records, as OSV's big all.zip files have. Returns the entry count.
 */
export function writeZipFile(path: string, entries: Iterable<{ name: string; data: Buffer }>): number {
  const fd = openSync(path, 'w');
  const central: Buffer[] = [];
  let offset = 0;
  let count = 0;
  const write = (b: Buffer) => {
    writeSync(fd, b);
    offset += b.length;
  };
  try {
    for (const e of entries) {
      const one = makeZip([e]);
      // makeZip's single-entry output: local part, then central header (46 + name), then the 22-byte end record.
      const name = Buffer.byteLength(e.name);
      const localLen = one.length - 22 - 46 - name;
      const cd = Buffer.from(one.subarray(localLen, localLen + 46 + name));
      cd.writeUInt32LE(offset, 42);
      write(one.subarray(0, localLen));
      central.push(cd);
      count++;
    }
    const cdStart = offset;
    for (const c of central) write(c);
    const cdSize = offset - cdStart;
    if (count > 0xfffe) {
      const z64 = Buffer.alloc(56);
      z64.writeUInt32LE(0x06064b50, 0);
      z64.writeBigUInt64LE(44n, 4);
      z64.writeUInt16LE(45, 12);
      z64.writeUInt16LE(45, 14);
      z64.writeBigUInt64LE(BigInt(count), 24);
      z64.writeBigUInt64LE(BigInt(count), 32);
      z64.writeBigUInt64LE(BigInt(cdSize), 40);
      z64.writeBigUInt64LE(BigInt(cdStart), 48);
      const z64At = offset;
      write(z64);
      const loc = Buffer.alloc(20);
      loc.writeUInt32LE(0x07064b50, 0);
      loc.writeBigUInt64LE(BigInt(z64At), 8);
      loc.writeUInt32LE(1, 16);
      write(loc);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(Math.min(count, 0xffff), 8);
    end.writeUInt16LE(Math.min(count, 0xffff), 10);
    end.writeUInt32LE(cdSize, 12);
    end.writeUInt32LE(count > 0xfffe ? 0xffffffff : cdStart, 16);
    write(end);
  } finally {
    closeSync(fd);
  }
  return count;
}
