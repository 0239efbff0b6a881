import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { LimitExceededError, UserInputError } from '../../core/errors.js';

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
 * Streams the `.json` entries of a zip. Declared sizes are bounded before inflating and yauzl
 * checks the inflated size against the declared one; the CRC-32 is checked too, so a damaged
 * archive fails instead of feeding garbage. A structurally broken zip (truncated download) is an error.
 */
export async function* zipDocuments(path: string, limits: Limits = DEFAULT_LIMITS): AsyncGenerator<Doc> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true, autoClose: true, validateEntrySizes: true }, (err, z) =>
      err ? reject(new UserInputError(`${path} is not a readable zip (${err.message})`)) : resolve(z!),
    ),
  );
  if (zip.entryCount > limits.maxZipEntries) {
    if (zip.isOpen) zip.close();
    throw new LimitExceededError(`${path} has ${zip.entryCount} entries (limit ${limits.maxZipEntries})`);
  }
  // yauzl is event-driven; a small queue turns it into pull-based iteration with backpressure.
  const queue: Array<{ entry?: yauzl.Entry; err?: Error; end?: true }> = [];
  let wake: (() => void) | null = null;
  const push = (item: (typeof queue)[number]) => {
    queue.push(item);
    wake?.();
  };
  zip.on('entry', (entry: yauzl.Entry) => push({ entry }));
  zip.on('end', () => push({ end: true }));
  zip.on('error', (err: Error) => push({ err }));
  let total = 0;
  try {
    zip.readEntry();
    for (;;) {
      if (queue.length === 0) await new Promise<void>((r) => (wake = r));
      wake = null;
      const item = queue.shift()!;
      if (item.end) return;
      if (item.err) throw new UserInputError(`${path} is a damaged zip (${item.err.message})`);
      const entry = item.entry!;
      const where = `${path}!${entry.fileName}`;
      if (!entry.fileName.endsWith('/') && /\.json$/i.test(entry.fileName)) {
        total += entry.uncompressedSize;
        if (total > limits.maxZipBytes)
          throw new LimitExceededError(`${path} inflates to more than ${limits.maxZipBytes} bytes`);
        if (entry.uncompressedSize > limits.maxDocumentBytes) {
          yield { where, error: `larger than ${limits.maxDocumentBytes} bytes; skipped` };
        } else {
          const bytes = await readEntry(zip, entry, where);
          if (typeof crc32 === 'function' && crc32(bytes) >>> 0 !== entry.crc32 >>> 0)
            throw new UserInputError(`${where}: CRC-32 mismatch (damaged zip)`);
          yield parse(where, bytes);
        }
      }
      zip.readEntry();
    }
  } finally {
    if (zip.isOpen) zip.close();
  }
}

function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, where: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream) return reject(new UserInputError(`${where}: cannot inflate (${err?.message})`));
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (e: Error) => reject(new UserInputError(`${where}: damaged entry (${e.message})`)));
      stream.on('end', () => resolve(Buffer.concat(chunks)));
    });
  });
}
