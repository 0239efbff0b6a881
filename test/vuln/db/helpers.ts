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

export async function readJsonFiles(dir: string): Promise<Array<{ path: string; data: any }>> {
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
