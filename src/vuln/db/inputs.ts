import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LimitExceededError, UserInputError } from '../../core/errors.js';
import { ZipReader } from './zip.js';

/**
 * Turns import inputs (JSON files, directories, OSV `all.zip` files) into a stream of parsed JSON
 * documents, each named by where it came from. Nothing is extracted to disk; zip entries are
 * inflated one at a time in memory, within the bounds below.
 */

export interface Limits {
  /** Largest single JSON document (file or zip entry), bytes. Larger ones are skipped with a warning. */
  maxDocumentBytes: number;
  /** Sum of declared uncompressed sizes in one zip (zip-bomb bound). */
  maxZipBytes: number;
  /** Entries in one zip. */
  maxZipEntries: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxDocumentBytes: 64 * 1024 * 1024,
  maxZipBytes: 16 * 1024 * 1024 * 1024,
  maxZipEntries: 4_000_000,
};

export type Doc = { where: string; data: unknown } | { where: string; error: string };

const ZIP_MAGIC = Buffer.from('PK\x03\x04', 'latin1');

/** Every document of every input, in order (directories sorted, so imports are reproducible). */
export async function* documents(inputs: readonly string[], limits: Limits = DEFAULT_LIMITS): AsyncGenerator<Doc> {
  for (const input of inputs) {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(input);
    } catch {
      throw new UserInputError(`import input not found: ${input}`);
    }
    if (st.isDirectory()) yield* directory(input, limits);
    else if (st.isFile()) yield* file(input, limits);
    else throw new UserInputError(`import input is neither a file nor a directory: ${input}`);
  }
}

/** Files read ahead of the consumer: directory imports are bound by per-file latency, not bandwidth. */
const READ_AHEAD = 32;

async function* directory(dir: string, limits: Limits): AsyncGenerator<Doc> {
  const files: string[] = [];
  await walk(dir, files);
  // Zips are read in place, in order; JSON files are read up to READ_AHEAD ahead.
  const pending: Array<{ zip: string } | { doc: Promise<Doc> }> = [];
  let next = 0;
  const fill = () => {
    while (pending.length < READ_AHEAD && next < files.length) {
      const path = files[next++]!;
      pending.push(/\.zip$/i.test(path) ? { zip: path } : { doc: readJson(path, limits) });
    }
  };
  fill();
  while (pending.length) {
    const head = pending.shift()!;
    if ('zip' in head) yield* zipDocuments(head.zip, limits);
    else yield await head.doc;
    fill();
  }
}

/** Regular `.json` and `.zip` files under `dir`, sorted; symlinks are not followed. */
async function walk(dir: string, out: string[]): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) await walk(path, out);
    else if (e.isFile() && /\.(json|zip)$/i.test(e.name)) out.push(path);
  }
}

async function readJson(path: string, limits: Limits): Promise<Doc> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    return { where: path, error: `unreadable (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  try {
    const { size } = await fh.stat();
    if (size > limits.maxDocumentBytes)
      return { where: path, error: `larger than ${limits.maxDocumentBytes} bytes; skipped` };
    return parse(path, await fh.readFile());
  } finally {
    await fh.close();
  }
}

async function* file(path: string, limits: Limits): AsyncGenerator<Doc> {
  if (/\.zip$/i.test(path) || (await startsWith(path, ZIP_MAGIC))) yield* zipDocuments(path, limits);
  else yield await readJson(path, limits);
}

async function startsWith(path: string, magic: Buffer): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(magic.length);
    const { bytesRead } = await fh.read(buf, 0, magic.length, 0);
    return bytesRead === magic.length && buf.equals(magic);
  } finally {
    await fh.close();
  }
}

function parse(where: string, bytes: Buffer): Doc {
  try {
    return { where, data: JSON.parse(bytes.toString('utf8')) };
  } catch (err) {
    return { where, error: `invalid JSON (${(err as Error).message})` };
  }
}

/**
 * The `.json` entries of a zip, one at a time. Declared sizes are bounded before inflating (an
 * entry over the per-document bound is skipped with a warning; the whole zip over the total bound
 * is refused); a structurally broken zip (a truncated download) or a CRC mismatch is an error.
 */
export async function* zipDocuments(path: string, limits: Limits = DEFAULT_LIMITS): AsyncGenerator<Doc> {
  const zip = new ZipReader(path, limits.maxZipEntries);
  let total = 0;
  try {
    for (const entry of zip.entries()) {
      if (entry.name.endsWith('/') || !/\.json$/i.test(entry.name)) continue;
      const where = `${path}!${entry.name}`;
      total += entry.size;
      if (total > limits.maxZipBytes)
        throw new LimitExceededError(`${path} inflates to more than ${limits.maxZipBytes} bytes`);
      if (entry.size > limits.maxDocumentBytes) {
        yield { where, error: `larger than ${limits.maxDocumentBytes} bytes; skipped` };
        continue;
      }
      yield parse(where, zip.data(entry));
    }
  } finally {
    zip.close();
  }
}
