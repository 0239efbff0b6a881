import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { DEFAULT_LIMITS, type LayerEntry, type Limits, type OpenedImage } from '../../src/image/index.js';
import { LayeredTree } from '../../src/image/whiteout.js';
import { testImagesDir as sharedTestImagesDir, testImage } from '../helpers/test-images.js';

/** The real images built by scripts/test-images.sh; a missing one fails the test, never skips it. */
export function testImagesDir(): string {
  testImage('debian');
  testImage('npm-app');
  return sharedTestImagesDir();
}

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'palisade-image-test-'));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Recursive listing with sizes: compared before and after a hostile read to prove nothing was written. */
export async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string): Promise<void> {
    for (const name of (await readdir(join(dir, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = await stat(join(dir, r));
      out.push(`${r}:${st.isDirectory() ? 'd' : st.size}`);
      if (st.isDirectory()) await walk(r);
    }
  }
  await walk('');
  return out;
}

export interface TarItem {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'fifo' | 'character-device' | 'block-device';
  body?: string | Buffer;
  linkname?: string;
  mode?: number;
}

/** A real tar (tar-stream's writer), in memory: the small fixtures of the unit tests. */
export async function makeTar(items: TarItem[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const it of items) {
    const body = it.body === undefined ? undefined : Buffer.from(it.body);
    await new Promise<void>((resolve, reject) => {
      const header = {
        name: it.name,
        type: it.type ?? 'file',
        mode: it.mode ?? (it.type === 'directory' ? 0o755 : 0o644),
        mtime: new Date(0),
        ...(it.linkname !== undefined ? { linkname: it.linkname } : {}),
        ...(body ? { size: body.length } : {}),
      };
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (body) pack.entry(header, body, cb);
      else pack.entry(header, cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A ustar header, written by hand so that 10^6 entries can be produced quickly. */
export function ustarHeader(name: string, size: number, typeflag = '0', linkname = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(linkname, 157, 100, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(typeflag, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

export interface RawItem {
  name: string;
  body?: string | Buffer;
  typeflag?: string;
  linkname?: string;
}

/** A tar written header by header, names exactly as given (hostile names included), with or without EOF. */
export function rawTar(items: RawItem[], opts: { eof?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const it of items) {
    const body = Buffer.from(it.body ?? '');
    parts.push(ustarHeader(it.name, body.length, it.typeflag ?? '0', it.linkname ?? ''));
    if (body.length) parts.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  if (opts.eof !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export const gzip = (b: Buffer): Buffer => gzipSync(b);

/** A zstd frame made of raw blocks: valid zstd without a zstd compressor (Node 20 has none). */
export function zstdRaw(data: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])]; // magic, FHD, window 128 KiB
  const max = 128 * 1024;
  for (let off = 0; off < data.length || off === 0; off += max) {
    const chunk = data.subarray(off, off + max);
    const last = off + max >= data.length ? 1 : 0;
    const h = (chunk.length << 3) | (0 << 1) | last; // type 0 = raw
    parts.push(Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]), chunk);
    if (data.length === 0) break;
  }
  return Buffer.concat(parts);
}

/** A zstd RLE block: 4 bytes that decode to 128 KiB of one byte value (a bomb's building brick). */
export function zstdRleBlock(last: boolean, byte = 0): Buffer {
  const h = ((128 * 1024) << 3) | (1 << 1) | (last ? 1 : 0);
  return Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff, byte]);
}

export interface LayerSpec {
  /** The blob as stored (compressed or not); empty when `stored` names a blob already written. */
  blob: Buffer;
  stored?: { digest: string; size: number };
  /** The uncompressed tar, for the diff_id; omit to leave diff_ids out. */
  tar?: Buffer;
  mediaType?: string;
  /** Overrides what the manifest claims, for integrity tests. */
  digest?: string;
  size?: number;
}

/** Writes an OCI image layout: blobs, manifest, config, index.json with an optional tag. */
export async function writeOciLayout(
  dir: string,
  layers: LayerSpec[],
  opts: { tag?: string; diffIds?: string[]; configExtra?: Record<string, unknown> } = {},
): Promise<{ manifestDigest: string; layerDigests: string[] }> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const layerDigests: string[] = [];
  const descs = [];
  for (const l of layers) {
    const digest = l.digest ?? l.stored?.digest ?? sha256(l.blob);
    if (!l.stored) await writeFile(join(dir, 'blobs', 'sha256', digest.slice(7)), l.blob);
    layerDigests.push(digest);
    descs.push({
      mediaType: l.mediaType ?? 'application/vnd.oci.image.layer.v1.tar',
      digest,
      size: l.size ?? l.stored?.size ?? l.blob.length,
    });
  }
  const diffIds = opts.diffIds ?? layers.map((l) => sha256(l.tar ?? l.blob));
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      ...opts.configExtra,
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: descs,
    }),
  );
  await writeFile(join(dir, 'blobs', 'sha256', sha256(config).slice(7)), config);
  await writeFile(join(dir, 'blobs', 'sha256', sha256(manifest).slice(7)), manifest);
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: sha256(manifest),
        size: manifest.length,
        ...(opts.tag ? { annotations: { 'org.opencontainers.image.ref.name': opts.tag } } : {}),
      },
    ],
  };
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
  return { manifestDigest: sha256(manifest), layerDigests };
}

/** Streams generated bytes into blobs/sha256/<digest> of a layout; returns the digest and size. */
export async function writeBlobStream(
  dir: string,
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
): Promise<{ digest: string; size: number }> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const tmp = join(dir, 'blobs', 'sha256', 'incoming');
  const out = createWriteStream(tmp);
  const hash = createHash('sha256');
  let size = 0;
  for await (const c of chunks) {
    hash.update(c);
    size += c.length;
    if (!out.write(c)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  const digest = `sha256:${hash.digest('hex')}`;
  await rename(tmp, join(dir, 'blobs', 'sha256', digest.slice(7)));
  return { digest, size };
}

/** A docker-archive (manifest.json layout, as skopeo writes it) from uncompressed layer tars. */
export async function makeDockerArchive(
  layers: Buffer[],
  opts: { repoTags?: string[]; manifest?: string; diffIds?: string[] } = {},
): Promise<Buffer> {
  const diffIds = opts.diffIds ?? layers.map((l) => sha256(l));
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } }),
  );
  const configName = `${sha256(config).slice(7)}.json`;
  const layerNames = layers.map((l) => `${sha256(l).slice(7)}.tar`);
  const manifest =
    opts.manifest ??
    JSON.stringify([{ Config: configName, RepoTags: opts.repoTags ?? ['example/app:1'], Layers: layerNames }]);
  return makeTar([
    ...layers.map((l, i) => ({ name: layerNames[i]!, body: l })),
    { name: configName, body: config },
    { name: 'manifest.json', body: manifest },
  ]);
}

/** Reads every entry of every layer and merges them with whiteouts: the final filesystem's view. */
export interface FileFact {
  type: 'file' | 'symlink' | 'other';
  /** sha256 of the whole body for files, the link target for symlinks. */
  digest: string;
}

export async function finalView(img: OpenedImage, limits: Limits = DEFAULT_LIMITS): Promise<Map<string, FileFact>> {
  const tree = new LayeredTree<FileFact>();
  for (const layer of img.layers) {
    const changes = tree.layer();
    const facts = new Map<string, FileFact>();
    for await (const e of layer.entries(limits)) {
      if (e.type === 'directory') {
        changes.add(e.path, e.type);
        continue;
      }
      const fact = await factOf(e, facts);
      facts.set(e.path, fact);
      changes.add(e.path, e.type, fact);
    }
    changes.commit();
  }
  return new Map(tree.entries());
}

async function factOf(e: LayerEntry, sameLayer: Map<string, FileFact>): Promise<FileFact> {
  if (e.type === 'file') {
    const { data, truncated } = await e.read(Number.MAX_SAFE_INTEGER);
    if (truncated) throw new Error(`${e.path}: unexpectedly truncated`);
    return { type: 'file', digest: sha256(data) };
  }
  if (e.type === 'hardlink') {
    const target = sameLayer.get(e.linkTarget!);
    if (!target) throw new Error(`${e.path}: hard link target ${e.linkTarget} not seen`);
    const { data, truncated } = await e.read(Number.MAX_SAFE_INTEGER);
    // When the reader kept the target's bytes, they must be the target's bytes.
    if (!truncated && sha256(data) !== target.digest) throw new Error(`${e.path}: hard link bytes differ`);
    return target;
  }
  if (e.type === 'symlink') return { type: 'symlink', digest: e.linkTarget ?? '' };
  return { type: 'other', digest: '' };
}
