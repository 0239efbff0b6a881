/**
 * A MINIMAL layer reader for registry blobs, to be replaced by the shared `src/image/layer-reader.ts`
 * at merge (same signature): sniffs gzip/zstd/plain tar, hashes the compressed bytes while they stream,
 * yields tar entries, and throws IntegrityError when the blob does not match `expectedDigest`.
 * Bounds: entry count, uncompressed bytes, compression ratio, bytes per read. Paths with ".." are refused.
 */
import { createHash } from 'node:crypto';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import * as tar from 'tar-stream';
import { IntegrityError, LimitExceededError, PalisadeError, UserInputError } from '../../core/errors.js';
import type { EntryType, LayerEntry, Limits } from '../types.js';

function zstdStream(): Transform {
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        d.push(chunk);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb) {
      try {
        d.push(new Uint8Array(0), true);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
  const d = new Decompress((data) => {
    t.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
  return t;
}

/** Picks the decompressor by magic bytes (media types lie often enough: "tar+gzip" that is plain tar). */
function decompressorFor(head: Buffer): Transform {
  if (head[0] === 0x1f && head[1] === 0x8b) return createGunzip();
  if (head.readUInt32LE(0) === 0xfd2fb528) return zstdStream();
  return new PassThrough();
}

const TYPES: Record<string, EntryType> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'directory',
  symlink: 'symlink',
  link: 'hardlink',
};

/** Normalised entry path, "" for the root itself; ".." anywhere is refused. */
function normalisePath(name: string, layer: string): string {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new UserInputError(`layer ${layer}: entry "${name}" escapes the image root`);
  return parts.join('/');
}

export async function* blobEntries(
  blob: AsyncIterable<Buffer> | NodeJS.ReadableStream,
  expectedDigest: string,
  _mediaType: string | undefined,
  limits: Limits,
): AsyncIterable<LayerEntry> {
  const algorithm = expectedDigest.split(':')[0]!;
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw new IntegrityError(`layer ${expectedDigest}: unsupported digest algorithm`);
  }
  const hash = createHash(algorithm);
  let compressed = 0;
  let uncompressed = 0;

  // Hashes and counts every compressed byte; holds back the first bytes until the format is known.
  const source = Readable.from(
    (async function* () {
      for await (const chunk of blob as AsyncIterable<Buffer>) {
        const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
        hash.update(b);
        compressed += b.length;
        yield b;
      }
    })(),
    { objectMode: false },
  );
  source.on('error', () => {}); // errors reach us through `iterator`; none may go unhandled after an early stop
  const first: Buffer[] = [];
  let headLength = 0;
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  while (headLength < 4) {
    const r = await iterator.next();
    if (r.done) break;
    first.push(r.value);
    headLength += r.value.length;
  }
  const head = Buffer.concat(first);
  const decompressor = decompressorFor(Buffer.concat([head, Buffer.alloc(4)]));
  const rest = Readable.from(
    (async function* () {
      if (head.length > 0) yield head;
      for (let r = await iterator.next(); !r.done; r = await iterator.next()) yield r.value;
    })(),
    { objectMode: false },
  );
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      uncompressed += chunk.length;
      if (uncompressed > limits.maxTotalBytes) {
        cb(new LimitExceededError(`layer ${expectedDigest}: more than ${limits.maxTotalBytes} uncompressed bytes`));
        return;
      }
      if (uncompressed > limits.ratioGraceBytes && uncompressed > compressed * limits.maxCompressionRatio) {
        cb(new LimitExceededError(`layer ${expectedDigest}: compression ratio above ${limits.maxCompressionRatio}`));
        return;
      }
      cb(null, chunk);
    },
  });
  const extract = tar.extract();
  const done = pipeline(rest, decompressor, counter, extract);
  done.catch(() => {}); // surfaced through the iteration below, or awaited after it

  let entries = 0;
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const path = normalisePath(h.name, expectedDigest);
      if (++entries > limits.maxEntries) {
        throw new LimitExceededError(`layer ${expectedDigest}: more than ${limits.maxEntries} entries`);
      }
      const type = TYPES[h.type ?? 'file'] ?? 'other';
      let consumed = false;
      const linkTarget =
        h.linkname == null ? undefined : type === 'hardlink' ? normalisePath(h.linkname, expectedDigest) : h.linkname;
      const e: LayerEntry = {
        path,
        type,
        mode: (h.mode ?? 0) & 0o7777,
        size: h.size ?? 0,
        ...(h.uid !== undefined && { uid: h.uid }),
        ...(h.gid !== undefined && { gid: h.gid }),
        ...(linkTarget !== undefined && { linkTarget }),
        async read(maxBytes: number) {
          if (consumed) throw new Error('LayerEntry.read called twice');
          consumed = true;
          const cap = Math.min(maxBytes, limits.maxFileBytes);
          const kept: Buffer[] = [];
          let seen = 0;
          for await (const chunk of entry as AsyncIterable<Buffer>) {
            if (seen < cap) kept.push(chunk.subarray(0, cap - seen));
            seen += chunk.length;
          }
          return { data: Buffer.concat(kept), truncated: seen > cap };
        },
      };
      if (path !== '') yield e;
      if (!consumed) entry.resume();
    }
    await done;
  } catch (err) {
    if (err instanceof PalisadeError) throw err;
    // Undecodable bytes are most often a tampered or truncated blob: hash the rest (the source holds it to
    // the manifest's size) so that the report says "digest mismatch" when that is the cause.
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) {}
    verify();
    throw new UserInputError(`layer ${expectedDigest}: not a readable tar stream (${(err as Error).message})`);
  } finally {
    // A consumer that stops early must not leave the blob's connection open until the image is closed.
    source.destroy();
    if (typeof (blob as Readable).destroy === 'function') (blob as Readable).destroy();
  }
  verify();

  function verify(): void {
    const actual = `${algorithm}:${hash.digest('hex')}`;
    if (actual !== expectedDigest) {
      throw new IntegrityError(`layer ${expectedDigest}: blob content does not match its digest (got ${actual})`);
    }
  }
}
