import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LimitExceededError, UserInputError } from '../../core/errors.js';
import { ZipReader } from './zip.js';

/**
 * Turns import inputs (JSON files, directories, OSV `all.zip` files) into numbered, parsed JSON
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

/** One file an import reads: a zip of JSON documents, or one JSON document. */
export interface Source {
  kind: 'zip' | 'json';
  path: string;
}

/**
 * The files behind import inputs, in import order: directories walked and sorted (imports are
 * reproducible), zips told by name or magic. Resolved once, so that decoding threads sharing an
 * import number its documents alike.
 */
export async function sourcesOf(inputs: readonly string[]): Promise<Source[]> {
  const out: Source[] = [];
  for (const input of inputs) {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(input);
    } catch {
      throw new UserInputError(`import input not found: ${input}`);
    }
    if (st.isDirectory()) {
      const files: string[] = [];
      await walk(input, files);
      for (const path of files) out.push({ kind: /\.zip$/i.test(path) ? 'zip' : 'json', path });
    } else if (st.isFile())
      out.push({ kind: /\.zip$/i.test(input) || (await startsWith(input, ZIP_MAGIC)) ? 'zip' : 'json', path: input });
    else throw new UserInputError(`import input is neither a file nor a directory: ${input}`);
  }
  return out;
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

/** A run of documents from one source: consecutive JSON files, or one zip's `.json` entries. */
type Segment =
  | { kind: 'json'; first: number; paths: string[] }
  | { kind: 'zip'; first: number; zip: ZipReader; at: number[] };

/** How many documents a segment holds. */
function countOf(seg: Segment): number {
  return seg.kind === 'json' ? seg.paths.length : seg.at.length;
}

/** JSON files read ahead of the consumer: directory imports are bound by per-file latency, not bandwidth. */
const READ_AHEAD = 32;

/**
 * Every document of an import's sources, numbered in import order (each JSON file, each `.json`
 * zip entry) and read by number, so that decoding threads can each take their own stretches of
 * one import. A zip is indexed from its central directory: declared sizes are bounded here, before
 * anything is inflated (an entry over the per-document bound becomes a skipped document with a
 * warning; the whole zip over the total bound is refused). Documents are read, inflated and parsed
 * only when asked for; a structurally broken zip (a truncated download) or a CRC mismatch is an error.
 */
export class DocumentIndex {
  private constructor(
    private readonly segments: Segment[],
    readonly size: number,
    private readonly limits: Limits,
  ) {}

  static open(sources: readonly Source[], limits: Limits = DEFAULT_LIMITS): DocumentIndex {
    const segments: Segment[] = [];
    let n = 0;
    try {
      for (const s of sources) {
        const last = segments.at(-1);
        if (s.kind === 'json') {
          if (last?.kind === 'json') last.paths.push(s.path);
          else segments.push({ kind: 'json', first: n, paths: [s.path] });
          n++;
          continue;
        }
        const seg: Segment = {
          kind: 'zip',
          first: n,
          zip: new ZipReader(s.path, limits.maxZipEntries),
          at: [],
        };
        segments.push(seg);
        let total = 0;
        for (const e of seg.zip.entries()) {
          if (e.name.endsWith('/') || !/\.json$/i.test(e.name)) continue;
          total += e.size;
          if (total > limits.maxZipBytes)
            throw new LimitExceededError(`${s.path} inflates to more than ${limits.maxZipBytes} bytes`);
          seg.at.push(e.at);
        }
        n += seg.at.length;
      }
    } catch (err) {
      for (const seg of segments) if (seg.kind === 'zip') seg.zip.close();
      throw err;
    }
    return new DocumentIndex(segments, n, limits);
  }

  close(): void {
    for (const seg of this.segments) if (seg.kind === 'zip') seg.zip.close();
  }

  /** Documents `from` up to `to` (exclusive), in order. */
  async *range(from: number, to: number): AsyncGenerator<Doc> {
    to = Math.min(to, this.size);
    // The last segment starting at or before `from`.
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segments[mid]!.first <= from) lo = mid;
      else hi = mid - 1;
    }
    for (let i = lo, slot = from; slot < to && i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      const end = Math.min(to, seg.first + countOf(seg));
      if (end <= slot) continue;
      if (seg.kind === 'zip') {
        for (; slot < end; slot++) yield this.zipDocument(seg.zip, seg.at[slot - seg.first]!);
        continue;
      }
      const pending: Promise<Doc>[] = [];
      let next = slot;
      while (next < end || pending.length > 0) {
        while (pending.length < READ_AHEAD && next < end)
          pending.push(readJson(seg.paths[next++ - seg.first]!, this.limits));
        yield await pending.shift()!;
      }
      slot = end;
    }
  }

  private zipDocument(zip: ZipReader, at: number): Doc {
    const entry = zip.entryAt(at);
    const where = `${zip.path}!${entry.name}`;
    if (entry.size > this.limits.maxDocumentBytes)
      return { where, error: `larger than ${this.limits.maxDocumentBytes} bytes; skipped` };
    return parse(where, zip.data(entry));
  }
}
