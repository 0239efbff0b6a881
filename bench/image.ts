/**
 * Layer reading speed: `entries()` over the debian test image through every local source, reading each file
 * body up to 1 MiB (the most the walker reads for an analyzer). Target: I/O bound, i.e. close to the cost of
 * merely reading, hashing (and for gzip, gunzipping) the same blob bytes — the "floor" printed next to it.
 * CPU seconds are printed as well as wall seconds: on a shared machine they are the steadier figure.
 *
 *   npm run bench image
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { DEFAULT_LIMITS, openImage } from '../src/image/index.js';
import { median, ratio, testImagesDir } from './lib.js';

interface Timing {
  seconds: number;
  /** User + system CPU seconds of this process. */
  cpu: number;
}

interface Figure extends Timing {
  compressedMb: number;
  uncompressedMb: number;
  entries: number;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T } & Timing> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const value = await fn();
  const d = process.cpuUsage(c0);
  return { value, seconds: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (d.user + d.system) / 1e6 };
}

async function readImage(target: string): Promise<Figure> {
  const { value, seconds, cpu } = await timed(async () => {
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
    const compressed = img.layers.reduce((n, l) => n + (l.size ?? 0), 0);
    await img.close();
    return { entries, compressedMb: compressed / 2 ** 20, uncompressedMb: uncompressed / 2 ** 20 };
  });
  return { ...value, seconds, cpu };
}

/** The floor: read the same bytes from disk and hash them, gunzipping gzip blobs; nothing else. */
async function floor(file: string, gz: boolean): Promise<Timing> {
  return timed(async () => {
    const hash = createHash('sha256');
    const src = createReadStream(file, { highWaterMark: 256 * 1024 });
    if (gz) {
      const gunzip = createGunzip();
      src.on('data', (c) => hash.update(c as Buffer));
      src.pipe(gunzip);
      for await (const _ of gunzip) {
        // drain
      }
    } else {
      for await (const c of src) hash.update(c as Buffer);
    }
    hash.digest();
  });
}

export async function run(): Promise<void> {
  const dir = join(testImagesDir(), 'debian');
  const ociBlob = join(
    dir,
    'oci',
    'blobs',
    'sha256',
    (await openImage(`oci:${join(dir, 'oci')}:bookworm`)).layers[0]!.digest.slice(7),
  );
  const none = async (): Promise<Timing> => ({ seconds: Number.NaN, cpu: Number.NaN });
  const sources: [string, string, () => Promise<Timing>][] = [
    [
      'docker-archive',
      `docker-archive:${join(dir, 'image.docker.tar')}`,
      () => floor(join(dir, 'image.docker.tar'), false),
    ],
    ['oci (gzip)', `oci:${join(dir, 'oci')}:bookworm`, () => floor(ociBlob, true)],
    ['oci-archive (gzip)', `oci-archive:${join(dir, 'image.oci.tar')}`, () => floor(ociBlob, true)],
    ['oci (zstd, fzstd)', `oci:${join(dir, 'oci-zstd')}:bookworm`, none],
    ['dir', `dir:${join(dir, 'rootfs')}`, none],
  ];
  process.stdout.write(
    'source               entries  compr.MB  uncompr.MB  wall s  cpu s  MB/s wall  MB/s cpu  floor wall/cpu s  cpu vs floor\n',
  );
  for (const [name, target, peer] of sources) {
    const runs: Figure[] = [];
    for (let i = 0; i < 3; i++) runs.push(await readImage(target));
    const floors: Timing[] = [];
    for (let i = 0; i < 3; i++) floors.push(await peer());
    const wall = median(runs.map((r) => r.seconds));
    const cpu = median(runs.map((r) => r.cpu));
    const fw = median(floors.map((x) => x.seconds));
    const fc = median(floors.map((x) => x.cpu));
    const f = runs[0]!;
    const cols = [
      name.padEnd(20),
      String(f.entries).padStart(7),
      f.compressedMb.toFixed(1).padStart(9),
      f.uncompressedMb.toFixed(1).padStart(11),
      wall.toFixed(2).padStart(7),
      cpu.toFixed(2).padStart(6),
      (f.uncompressedMb / wall).toFixed(0).padStart(10),
      (f.uncompressedMb / cpu).toFixed(0).padStart(9),
      Number.isNaN(fw) ? '-'.padStart(17) : `${fw.toFixed(2)}/${fc.toFixed(2)}`.padStart(17),
      Number.isNaN(fc) ? '-'.padStart(13) : ratio(cpu, fc).padStart(13),
    ];
    process.stdout.write(`${cols.join(' ')}\n`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
