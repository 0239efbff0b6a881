import type { Hash } from 'node:crypto';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

import { IntegrityError, LimitExceededError, PalisadeError, UserInputError } from '../core/errors.js';
import type { ReadBudget } from './budget.js';
import { createDecompressor, detectCompression } from './decompress.js';
import { hasherFor } from './digest.js';
import { normaliseEntryPath, printable } from './paths.js';
import type { EntryType, LayerEntry, Limits, ProgressEvent } from './types.js';

/** A layer blob as a source hands it to the reader. */
export interface LayerBlob {
  /** The layer's name in messages and progress events: its digest as the source reports it. */
  digest: string;
  /** Opens the raw blob bytes (compressed or not). Called once per read. */
  open(): Readable;
  /** Digest of the raw blob (the manifest's layer digest), verified while streaming. */
  blobDigest?: string;
  /** Digest of the uncompressed tar (config rootfs.diff_ids), verified while streaming. */
  diffId?: string;
}

export interface ReadContext {
  limits: Limits;
  /** Image-wide counters: entries and uncompressed bytes across all layers. */
  budget: ReadBudget;
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  /** Position of the layer, for progress events. */
  index?: number;
  total?: number;
  /** Compressed size, for progress events. */
  size?: number;
}

/** Hard-link targets are served from bodies that were already read; this bounds that memory. */
const LINK_CACHE_FILE_BYTES = 1024 * 1024;
const LINK_CACHE_TOTAL_BYTES = 16 * 1024 * 1024;
const PROGRESS_STEP = 1024 * 1024;
type TarEntry = ReturnType<typeof tar.extract> extends AsyncIterable<infer S> ? S : never;
const EMPTY: Buffer = Buffer.alloc(0);

/**
 * Streams one layer as entries, in one pass and with bounded memory: blob -> digest check ->
 * decompression (by magic bytes) -> digest check of the tar -> tar parser -> entries.
 *
 * Integrity: the blob and diff_id digests can only be known once the last byte went through, so a
 * mismatch is thrown as IntegrityError at the END of the iteration, after every entry was yielded.
 * Entries yielded before came from an unverified blob: a caller must discard everything it derived
 * from this layer when the iteration throws. Nothing is ever written to disk.
 */
export async function* readLayer(blob: LayerBlob, ctx: ReadContext): AsyncGenerator<LayerEntry> {
  const { limits, budget } = ctx;
  const name = blob.digest;
  const raw = blob.open();
  const extract = tar.extract();
  let progressBytes = 0;
  let lastReported = 0;
  let pipelineDone: Promise<void> | undefined;
  try {
    const head = await peek(raw, 4);
    const meter = new RatioMeter(limits, name);
    const inTap = new DigestTap(blob.blobDigest, name, 'blob', (n) => {
      meter.compressed += n;
      progress(n);
    });
    const decompressor = createDecompressor(detectCompression(head), (n) => meter.guard(n));
    const outTap = new DigestTap(blob.diffId, name, 'diff_id', (n) => {
      meter.add(n);
      budget.countBytes(limits, name, n);
    });
    const stages = decompressor ? [raw, inTap, decompressor, outTap] : [raw, inTap, outTap];
    ctx.onProgress?.({
      kind: 'layer-start',
      index: ctx.index ?? 0,
      total: ctx.total ?? 1,
      digest: name,
      ...(ctx.size !== undefined ? { size: ctx.size } : {}),
    });
    pipelineDone = (pipeline as (...s: unknown[]) => Promise<void>)(
      ...stages,
      ctx.signal ? { signal: ctx.signal } : {},
    );
    pipelineDone.catch((err: unknown) => extract.destroy(err as Error));
    outTap.pipe(extract);

    const seen = new Set<string>();
    const linkCache = new LinkCache();
    for await (const stream of extract) {
      const header = stream.header;
      budget.countEntry(limits, name);
      const path = normaliseEntryPath(header.name, name);
      const body = new EntryBody(stream);
      if (path === '') {
        await body.drain();
        continue;
      }
      const type = entryType(header.type);
      let linkTarget: string | undefined;
      if (type === 'hardlink') {
        linkTarget = normaliseEntryPath(header.linkname ?? '', name);
        if (!seen.has(linkTarget)) {
          throw new UserInputError(
            `layer ${name}: hard link "${printable(path)}" points to "${printable(linkTarget)}", which is not an earlier entry of the layer; refused`,
          );
        }
      } else if (type === 'symlink') {
        // Recorded as written and never followed: nothing is extracted, so nothing can escape.
        linkTarget = header.linkname ?? '';
      }
      if (type !== 'directory') seen.add(path);
      const size = type === 'file' ? (header.size ?? 0) : 0;
      let used = false;
      const entry: LayerEntry = {
        path,
        type,
        mode: (header.mode ?? 0) & 0o7777,
        size,
        ...(header.uid !== undefined ? { uid: header.uid } : {}),
        ...(header.gid !== undefined ? { gid: header.gid } : {}),
        ...(linkTarget !== undefined ? { linkTarget } : {}),
        read: async (maxBytes: number) => {
          if (used) throw new Error(`entry ${path}: body already read or iterator advanced`);
          used = true;
          const max = Math.max(0, Math.min(maxBytes, limits.maxFileBytes));
          if (type === 'file') {
            const data = await body.read(Math.min(max, size)).catch((err: unknown) => {
              throw failure(err);
            });
            linkCache.remember(path, data, size);
            return { data, truncated: size > max };
          }
          if (type === 'hardlink' && linkTarget !== undefined) {
            const cached = linkCache.get(linkTarget);
            if (cached) return { data: cached.data.subarray(0, max), truncated: cached.size > max };
            // The earlier body was not kept (not read, or too large): report it as not available.
            return { data: EMPTY, truncated: true };
          }
          return { data: EMPTY, truncated: false };
        },
      };
      yield entry;
      used = true;
      await body.drain();
    }
    await pipelineDone;
    ctx.onProgress?.({ kind: 'layer-done', index: ctx.index ?? 0, digest: name });
  } catch (err) {
    throw failure(err);
  } finally {
    extract.destroy();
    raw.destroy();
    pipelineDone?.catch(() => {});
  }

  /**
   * An abort tears the pipeline down, and a stage or an entry's body may fail first with its own error
   * ("Premature close"): the cancellation is what happened, so that is what is reported.
   */
  function failure(err: unknown): unknown {
    if (ctx.signal?.aborted) return ctx.signal.reason;
    return classify(err, name);
  }

  function progress(n: number): void {
    if (!ctx.onProgress) return;
    progressBytes += n;
    if (progressBytes - lastReported >= PROGRESS_STEP) {
      lastReported = progressBytes;
      ctx.onProgress({ kind: 'bytes', index: ctx.index ?? 0, bytes: progressBytes });
    }
  }
}

function entryType(t: string | null | undefined): EntryType {
  switch (t) {
    case 'file':
    case 'contiguous-file':
    case undefined:
    case null:
      return 'file';
    case 'directory':
      return 'directory';
    case 'symlink':
      return 'symlink';
    case 'link':
      return 'hardlink';
    default:
      // Devices, fifos and unknown types carry no body worth reading.
      return 'other';
  }
}

/** Our own errors pass through; anything the decoders or the tar parser throw means a bad blob. */
function classify(err: unknown, layer: string): unknown {
  if (err instanceof PalisadeError) return err;
  if (err instanceof Error && err.name === 'AbortError') return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new UserInputError(`layer ${layer} is truncated or corrupt: ${printable(msg)}`, { cause: err });
}

/** Reads at least `n` bytes (or all, if shorter) from the start of a stream and puts them back. */
async function peek(stream: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let have = 0;
  while (have < n) {
    const chunk = stream.read() as Buffer | null;
    if (chunk !== null) {
      chunks.push(chunk);
      have += chunk.length;
      continue;
    }
    if (stream.readableEnded || !(await readableOrEnd(stream))) break;
  }
  const head = Buffer.concat(chunks);
  if (head.length > 0) stream.unshift(head);
  return head;
}

/** Waits for more data (true) or the end (false); rejects on a stream error, leaving no listener behind. */
function readableOrEnd(stream: Readable): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const done = (value: boolean | Error): void => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
      if (value instanceof Error) reject(value);
      else resolve(value);
    };
    const onReadable = (): void => done(true);
    const onEnd = (): void => done(false);
    const onError = (err: Error): void => done(err);
    stream.once('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('error', onError);
  });
}

/**
 * Passes bytes through while hashing and counting them; on flush compares the digest. When `expected`
 * is undefined it only counts. Also checks that a non-empty tar ends with its end-of-archive blocks
 * (the tar parser accepts a stream cut at an entry boundary).
 */
class DigestTap extends Transform {
  private readonly hash: Hash | undefined;
  private tail: Buffer = EMPTY;
  private total = 0;

  constructor(
    private readonly expected: string | undefined,
    private readonly layer: string,
    private readonly what: 'blob' | 'diff_id',
    private readonly onBytes: (n: number) => void,
  ) {
    // A few MiB of read-ahead lets disk reads overlap with parsing; memory stays bounded by it.
    super({ highWaterMark: 2 * 1024 * 1024 });
    this.hash = expected ? hasherFor(expected) : undefined;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    try {
      this.onBytes(chunk.length);
    } catch (err) {
      callback(err as Error);
      return;
    }
    this.hash?.update(chunk);
    this.total += chunk.length;
    if (this.what === 'diff_id') {
      this.tail = chunk.length >= 1024 ? chunk.subarray(chunk.length - 1024) : keepTail(this.tail, chunk);
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.what === 'diff_id' && this.total > 0 && (this.tail.length < 1024 || this.tail.some((b) => b !== 0))) {
      callback(new UserInputError(`layer ${this.layer} is truncated or corrupt: the tar has no end-of-archive marker`));
      return;
    }
    if (this.hash && this.expected) {
      const actual = `${this.expected.slice(0, this.expected.indexOf(':'))}:${this.hash.digest('hex')}`;
      if (actual !== this.expected) {
        callback(
          new IntegrityError(
            `layer ${this.layer}: ${this.what} digest mismatch: expected ${this.expected}, got ${actual}`,
          ),
        );
        return;
      }
    }
    callback();
  }
}

function keepTail(prev: Buffer, chunk: Buffer): Buffer {
  const both = Buffer.concat([prev, chunk]);
  return both.length > 1024 ? Buffer.from(both.subarray(both.length - 1024)) : both;
}

/** Decompression-bomb guard: output may not exceed `maxCompressionRatio` x input past the grace bytes. */
class RatioMeter {
  compressed = 0;
  private out = 0;
  private provisional = 0;

  constructor(
    private readonly limits: Limits,
    private readonly layer: string,
  ) {}

  /** Counts bytes leaving the decompressor. */
  add(n: number): void {
    this.out += n;
    this.provisional = Math.max(this.provisional, this.out);
    this.check(this.out);
  }

  /** Called from inside a decoder that cannot pause (fzstd) for every block it produces. */
  guard(n: number): void {
    this.provisional += n;
    this.check(this.provisional);
  }

  private check(out: number): void {
    if (out <= this.limits.ratioGraceBytes) return;
    if (out > this.limits.maxCompressionRatio * Math.max(this.compressed, 1)) {
      throw new LimitExceededError(
        `layer ${this.layer}: decompresses to more than ${this.limits.maxCompressionRatio}x its size (limit maxCompressionRatio); refused as a possible decompression bomb`,
      );
    }
  }
}

/** The body of one tar entry: a bounded read, then a drain so that the parser can move on. */
class EntryBody {
  private ended = false;
  private readonly endPromise: Promise<void>;

  constructor(private readonly stream: TarEntry) {
    // Settles on the end, and also when the stream is torn down without one (an abort, a parser error),
    // where waiting for 'end' alone would wait forever.
    this.endPromise = new Promise((resolve, reject) => {
      stream.once('end', () => {
        this.ended = true;
        resolve();
      });
      stream.once('error', reject);
      stream.once('close', () => {
        if (!this.ended) reject(new Error('Premature close'));
      });
    });
    this.endPromise.catch(() => {});
  }

  read(want: number): Promise<Buffer> {
    if (want <= 0 || this.ended) return Promise.resolve(EMPTY);
    if (this.stream.destroyed) return this.endPromise.then(() => EMPTY);
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let have = 0;
      const finish = (): void => {
        this.stream.off('data', onData);
        this.stream.off('end', finish);
        this.stream.off('error', onError);
        this.stream.off('close', onClose);
        this.stream.pause();
        const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        const data = all.length > want ? all.subarray(0, want) : all;
        // A small body is often a view into a large decoder chunk: copy it so that whoever keeps the
        // bytes (an analyzer, the hard-link cache) does not keep the whole chunk alive. Unpooled, because
        // Node's pool slab is itself 64 KiB on Node 24.
        resolve(data.buffer.byteLength > data.length ? copyUnpooled(data) : data);
      };
      const onData = (data: unknown): void => {
        const chunk = data as Buffer;
        chunks.push(chunk);
        have += chunk.length;
        if (have >= want) finish();
      };
      const onError = (err: Error): void => {
        this.stream.off('data', onData);
        this.stream.off('close', onClose);
        reject(err);
      };
      // A close without an end: the rejection comes from endPromise, with the stream's own reason.
      const onClose = (): void => {
        this.stream.off('data', onData);
        this.endPromise.then(() => resolve(EMPTY), reject);
      };
      this.stream.on('data', onData);
      this.stream.once('end', finish);
      this.stream.once('error', onError);
      this.stream.once('close', onClose);
      this.stream.resume();
    });
  }

  async drain(): Promise<void> {
    if (this.ended) return;
    this.stream.resume();
    await this.endPromise;
  }
}

/** A small FIFO of bodies already read, so that a later hard link can be served the same bytes. */
class LinkCache {
  private readonly bodies = new Map<string, { data: Buffer; size: number }>();
  private bytes = 0;

  remember(path: string, data: Buffer, size: number): void {
    if (data.length > LINK_CACHE_FILE_BYTES) return;
    this.bodies.set(path, { data, size });
    this.bytes += data.length;
    for (const [key, value] of this.bodies) {
      if (this.bytes <= LINK_CACHE_TOTAL_BYTES) break;
      this.bodies.delete(key);
      this.bytes -= value.data.length;
    }
  }

  get(path: string): { data: Buffer; size: number } | undefined {
    return this.bodies.get(path);
  }
}

function copyUnpooled(data: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(data.length);
  data.copy(copy);
  return copy;
}
