/**
 * Layer reading speed: `entries()` over the debian test image through every local source, reading each file
 * body up to 1 MiB (what the walker does at most for an analyzer). Target: I/O bound, i.e. close to the speed
 * of merely hashing the same blob bytes from disk (the peer figure printed next to each source).
 *
 *   npm run bench image
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { DEFAULT_LIMITS, openImage } from '../src/image/index.js';
import { median, ratio, testImagesDir } from './lib.js';

interface Figure {
  seconds: number;
  compressedMb: number;
  uncompressedMb: number;
  entries: number;
}

async function readImage(target: string): Promise<Figure> {
  const t0 = process.hrtime.bigint();
  const img = await openImage(target);
  let entries = 0;
  let uncompressed = 0;
  for (const layer of img.layers) {
    for await (const e of layer.entries(DEFAULT_LIMITS)) {
      entries++;
      if (e.type === 'file') {
        uncompressed += e.size;
        await e.read(1024 * 1024);
      }
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const compressed = img.layers.reduce((n, l) => n + (l.size ?? 0), 0);
  await img.close();
  return { seconds, compressedMb: compressed / 2 ** 20, uncompressedMb: uncompressed / 2 ** 20, entries };
}

/** The floor: read the same bytes from disk, hash them, and (for gzip) gunzip them; nothing else. */
async function floor(file: string, gz: boolean): Promise<number> {
  const t0 = process.hrtime.bigint();
  const hash = createHash('sha256');
  const src = createReadStream(file, { highWaterMark: 256 * 1024 });
  if (gz) {
    const gunzip = createGunzip();
    src.pipe(gunzip);
    src.on('data', (c) => hash.update(c as Buffer));
    for await (const _ of gunzip) {
      // drain
    }
  } else {
    for await (const c of src) hash.update(c as Buffer);
  }
  hash.digest();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export async function run(): Promise<void> {
  const dir = join(testImagesDir(), 'debian');
  const ociLayer = (await openImage(`oci:${join(dir, 'oci')}:bookworm`)).layers[0]!.digest.slice(7);
  const sources: [string, string, () => Promise<number>][] = [
    [
      'docker-archive',
      `docker-archive:${join(dir, 'image.docker.tar')}`,
      () => floor(join(dir, 'image.docker.tar'), false),
    ],
    [
      'oci (gzip)',
      `oci:${join(dir, 'oci')}:bookworm`,
      () => floor(join(dir, 'oci', 'blobs', 'sha256', ociLayer), true),
    ],
    [
      'oci-archive (gzip)',
      `oci-archive:${join(dir, 'image.oci.tar')}`,
      () => floor(join(dir, 'oci', 'blobs', 'sha256', ociLayer), true),
    ],
    ['oci (zstd, fzstd)', `oci:${join(dir, 'oci-zstd')}:bookworm`, async () => Number.NaN],
    ['dir', `dir:${join(dir, 'rootfs')}`, async () => Number.NaN],
  ];
  process.stdout.write(
    'source               entries  compressed  uncompressed  median s   MB/s (uncompr.)  floor s  vs floor\n',
  );
  for (const [name, target, peer] of sources) {
    const runs: Figure[] = [];
    for (let i = 0; i < 3; i++) runs.push(await readImage(target));
    const s = median(runs.map((r) => r.seconds));
    const f = runs[0]!;
    const floors: number[] = [];
    for (let i = 0; i < 3; i++) floors.push(await peer());
    const fl = median(floors);
    process.stdout.write(
      `${name.padEnd(20)} ${String(f.entries).padStart(7)}  ${f.compressedMb.toFixed(1).padStart(8)} MB  ${f.uncompressedMb
        .toFixed(1)
        .padStart(10)} MB  ${s.toFixed(2).padStart(7)}   ${(f.uncompressedMb / s).toFixed(0).padStart(10)}       ${
        Number.isNaN(fl) ? '   -' : fl.toFixed(2).padStart(6)
      }  ${Number.isNaN(fl) ? '-' : ratio(s, fl)}\n`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
