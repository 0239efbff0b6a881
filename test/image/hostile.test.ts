import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createGzip, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntegrityError, LimitExceededError, UserInputError } from '../../src/core/errors.js';
import { DEFAULT_LIMITS, type LayerEntry, type OpenedImage, openImage } from '../../src/image/index.js';
import {
  gzip,
  makeDockerArchive,
  rawTar,
  removeDir,
  sha256,
  snapshot,
  tempDir,
  ustarHeader,
  writeBlobStream,
  writeOciLayout,
  zstdRaw,
  zstdRleBlock,
} from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await removeDir(dir);
});

/** Reads every entry of every layer the way the walker does (bodies up to 1 MiB); returns the entries seen. */
async function readAll(img: OpenedImage, seen: LayerEntry[] = []): Promise<LayerEntry[]> {
  for (const layer of img.layers) {
    for await (const e of layer.entries(DEFAULT_LIMITS)) {
      seen.push(e);
      await e.read(1024 * 1024);
    }
  }
  return seen;
}

/** Asserts the error class (exactly), a one-line message matching `message`, and an unchanged fixture dir. */
async function expectRefused(
  run: () => Promise<unknown>,
  cls: typeof UserInputError,
  message: RegExp,
): Promise<UserInputError> {
  const before = await snapshot(dir);
  let caught: unknown;
  try {
    await run();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(cls);
  expect((caught as Error).constructor).toBe(cls);
  expect((caught as Error).message).toMatch(message);
  expect((caught as Error).message).not.toContain('\n');
  expect(await snapshot(dir)).toEqual(before);
  return caught as UserInputError;
}

async function ociWithTar(tar: Buffer, compress: (b: Buffer) => Buffer = gzip): Promise<string> {
  const layout = join(dir, 'layout');
  await writeOciLayout(layout, [{ blob: compress(tar), tar }]);
  return `oci:${layout}`;
}

describe('hostile layer entries are refused with a clear error', () => {
  const escaped = `palisade-escaped-${process.pid}-${Date.now()}`;
  const cases = [
    {
      name: 'path traversal',
      items: [
        { name: 'ok.txt', body: 'fine' },
        { name: `../${escaped}`, body: 'evil' },
      ],
      message: new RegExp(`entry "\\.\\./${escaped}" has a "\\.\\." segment; refused`),
    },
    {
      name: 'traversal hidden in the middle of a path',
      items: [{ name: `usr/../../${escaped}`, body: 'evil' }],
      message: /has a "\.\." segment; refused/,
    },
    {
      name: 'absolute path',
      items: [{ name: `/tmp/${escaped}`, body: 'evil' }],
      message: new RegExp(`entry "/tmp/${escaped}" has an absolute path; refused`),
    },
    {
      name: 'hard link to a missing entry',
      items: [{ name: 'hl', typeflag: '1', linkname: 'not-there' }],
      message: /hard link "hl" points to "not-there", which is not an earlier entry of the layer; refused/,
    },
    {
      name: 'hard link escaping the root',
      items: [{ name: 'hl', typeflag: '1', linkname: '../../etc/passwd' }],
      message: /entry "\.\.\/\.\.\/etc\/passwd" has a "\.\." segment; refused/,
    },
    {
      name: 'hard link to an absolute path',
      items: [{ name: 'hl', typeflag: '1', linkname: '/etc/passwd' }],
      message: /entry "\/etc\/passwd" has an absolute path; refused/,
    },
    {
      name: 'hard link to a later entry',
      items: [
        { name: 'hl', typeflag: '1', linkname: 'late' },
        { name: 'late', body: 'x' },
      ],
      message: /hard link "hl" points to "late", which is not an earlier entry/,
    },
  ];
  it.each(cases)('$name', async ({ items, message }) => {
    const target = await ociWithTar(rawTar(items));
    await expectRefused(async () => readAll(await openImage(target)), UserInputError, message);
    expect(existsSync(join(dir, '..', escaped))).toBe(false);
    expect(existsSync(join('/tmp', escaped))).toBe(false);
  });
});

describe('symlinks are recorded, never followed', () => {
  it('a layer symlink escaping the root is yielded as written and reads as empty', async () => {
    const outside = join(dir, 'outside');
    const target = await ociWithTar(
      rawTar([
        { name: 'up', typeflag: '2', linkname: '../../../../../etc/passwd' },
        { name: 'abs', typeflag: '2', linkname: '/etc/passwd' },
        { name: 'through', typeflag: '2', linkname: outside },
        // A file "inside" the symlinked directory: it must stay a path in the layer, never a host file.
        { name: 'through/planted', body: 'planted' },
      ]),
    );
    const before = await snapshot(dir);
    const seen: { path: string; type: string; link?: string; data: string }[] = [];
    const img = await openImage(target);
    for await (const e of img.layers[0]!.entries(DEFAULT_LIMITS)) {
      const { data } = await e.read(1024 * 1024);
      seen.push({ path: e.path, type: e.type, ...(e.linkTarget ? { link: e.linkTarget } : {}), data: data.toString() });
    }
    expect(seen).toEqual([
      { path: 'up', type: 'symlink', link: '../../../../../etc/passwd', data: '' },
      { path: 'abs', type: 'symlink', link: '/etc/passwd', data: '' },
      { path: 'through', type: 'symlink', link: outside, data: '' },
      { path: 'through/planted', type: 'file', data: 'planted' },
    ]);
    expect(existsSync(outside)).toBe(false);
    expect(await snapshot(dir)).toEqual(before);
  });

  it('dir: lists symlinks with lstat and does not descend into or read through them', async () => {
    const root = join(dir, 'rootfs');
    await mkdir(join(root, 'etc'), { recursive: true });
    await writeFile(join(dir, 'secret'), 'host secret');
    await writeFile(join(root, 'etc', 'hostname'), 'box\n');
    await symlink('/etc/passwd', join(root, 'etc', 'passwd-link'));
    await symlink('../../secret', join(root, 'etc', 'up'));
    await symlink(dir, join(root, 'hostdir'));
    const img = await openImage(`dir:${root}`);
    const seen: Record<string, string> = {};
    for await (const e of img.layers[0]!.entries(DEFAULT_LIMITS)) {
      const { data } = await e.read(1024 * 1024);
      seen[e.path] = `${e.type}:${e.linkTarget ?? ''}:${data.toString()}`;
    }
    expect(seen).toEqual({
      etc: 'directory::',
      'etc/hostname': 'file::box\n',
      'etc/passwd-link': 'symlink:/etc/passwd:',
      'etc/up': 'symlink:../../secret:',
      hostdir: `symlink:${dir}:`,
    });
  });
});

describe('broken and tampered blobs', () => {
  const tar = rawTar([
    { name: 'etc/', typeflag: '5' },
    { name: 'etc/hello', body: 'hello world\n'.repeat(200) },
    { name: 'etc/other', body: 'other\n' },
  ]);

  it('a gzip layer cut in half is truncated/corrupt', async () => {
    const gz = gzip(tar);
    // The manifest describes the cut blob honestly, so only the decoder can notice.
    const target = await ociWithTar(tar, () => gz.subarray(0, Math.floor(gz.length / 2)));
    await expectRefused(
      async () => readAll(await openImage(target)),
      UserInputError,
      /^layer sha256:[a-f0-9]{64} is truncated or corrupt: /,
    );
  });

  it('a plain tar cut at an entry boundary (no end-of-archive blocks) is truncated/corrupt', async () => {
    const cut = rawTar([{ name: 'a', body: 'x' }], { eof: false });
    const layout = join(dir, 'layout');
    await writeOciLayout(layout, [{ blob: cut }]);
    await expectRefused(
      async () => readAll(await openImage(`oci:${layout}`)),
      UserInputError,
      /is truncated or corrupt: the tar has no end-of-archive marker/,
    );
  });

  it('a plain tar cut inside an entry body is truncated/corrupt', async () => {
    const layout = join(dir, 'layout');
    const cut = tar.subarray(0, 1100);
    await writeOciLayout(layout, [{ blob: cut }]);
    await expectRefused(
      async () => readAll(await openImage(`oci:${layout}`)),
      UserInputError,
      /is truncated or corrupt/,
    );
  });

  it('a zstd layer cut short is truncated/corrupt', async () => {
    const z = zstdRaw(tar);
    const layout = join(dir, 'layout');
    await writeOciLayout(layout, [{ blob: z.subarray(0, z.length - 100) }], { diffIds: [sha256(tar)] });
    await expectRefused(
      async () => readAll(await openImage(`oci:${layout}`)),
      UserInputError,
      /is truncated or corrupt/,
    );
  });

  it('a blob whose bytes do not match the manifest digest fails at the end, naming both digests', async () => {
    // Big enough (4 MiB) that entries stream out long before the last byte is hashed.
    const items = Array.from({ length: 64 }, (_, i) => ({ name: `f${i}`, body: Buffer.alloc(64 * 1024, i) }));
    const good = rawTar(items);
    const forged = Buffer.from(good);
    forged[forged.length - 2048] = 0x7f; // inside the last file's body
    const layout = join(dir, 'layout');
    // The manifest promises `good`; the file under that name holds `forged` (same size).
    await writeOciLayout(layout, [{ blob: forged, digest: sha256(good) }], { diffIds: [sha256(good)] });
    const seen: LayerEntry[] = [];
    const err = await expectRefused(
      async () => readAll(await openImage(`oci:${layout}`), seen),
      IntegrityError,
      new RegExp(`blob digest mismatch: expected ${sha256(good)}, got ${sha256(forged)}`),
    );
    expect(err.message).toMatch(/^layer sha256:/);
    // Entries came before the verdict: the caller must discard them (documented on LayerRef.entries).
    expect(seen.length).toBeGreaterThan(32);
  });

  it('an uncompressed tar that does not match the config diff_id is an integrity error', async () => {
    const layout = join(dir, 'layout');
    await writeOciLayout(layout, [{ blob: gzip(tar) }], { diffIds: [sha256('something else')] });
    await expectRefused(
      async () => readAll(await openImage(`oci:${layout}`)),
      IntegrityError,
      /diff_id digest mismatch: expected sha256:/,
    );
  });

  it('a docker-archive layer that does not match its diff_id is an integrity error', async () => {
    const file = join(dir, 'image.tar');
    await writeFile(file, await makeDockerArchive([tar], { diffIds: [sha256('not this')] }));
    await expectRefused(
      async () => readAll(await openImage(`docker-archive:${file}`)),
      IntegrityError,
      /diff_id digest mismatch/,
    );
  });

  it('a tampered config blob is refused when the image is opened', async () => {
    const layout = join(dir, 'layout');
    await writeOciLayout(layout, [{ blob: tar }]);
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
    const manifest = JSON.parse(
      await readFile(join(layout, 'blobs', 'sha256', index.manifests[0].digest.slice(7)), 'utf8'),
    );
    const configPath = join(layout, 'blobs', 'sha256', manifest.config.digest.slice(7));
    const config = await readFile(configPath, 'utf8');
    await writeFile(configPath, config.replace('amd64', 'arm64'));
    await expectRefused(
      () => openImage(`oci:${layout}`),
      IntegrityError,
      /config digest mismatch: expected sha256:[a-f0-9]{64}, got sha256:/,
    );
  });
});

describe('decompression bombs and entry floods hit limits with bounded memory', () => {
  async function measure(run: () => Promise<unknown>): Promise<{ err: unknown; growthMb: number; ms: number }> {
    global.gc?.();
    const base = process.memoryUsage().rss;
    let peak = base;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const t0 = Date.now();
    let err: unknown;
    try {
      await run();
    } catch (e) {
      err = e;
    }
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    return { err, growthMb: (peak - base) / 2 ** 20, ms: Date.now() - t0 };
  }

  it('gzip bomb: 1 GiB of zeros in ~1 MB stops at the ratio limit', async () => {
    const layout = join(dir, 'layout');
    const mib = gzipSync(Buffer.alloc(1024 * 1024));
    const members = function* (): Generator<Buffer> {
      // Concatenated gzip members decode as one stream: a 1 GiB file from 1024 copies of one member.
      yield gzipSync(ustarHeader('zeros', 1024 * 1024 * 1024));
      for (let i = 0; i < 1024; i++) yield mib;
      yield gzipSync(Buffer.alloc(1024));
    };
    const stored = await writeBlobStream(layout, members());
    expect(stored.size).toBeLessThan(2 * 1024 * 1024);
    await writeOciLayout(layout, [{ blob: Buffer.alloc(0), stored }], { diffIds: [sha256('unknown')] });
    const before = await snapshot(dir);
    const { err, growthMb } = await measure(async () => readAll(await openImage(`oci:${layout}`)));
    expect(err).toBeInstanceOf(LimitExceededError);
    expect((err as Error).message).toMatch(
      /decompresses to more than 200x its size \(limit maxCompressionRatio\); refused as a possible decompression bomb/,
    );
    expect(growthMb).toBeLessThan(200);
    expect(await snapshot(dir)).toEqual(before);
  });

  it('zstd bomb: RLE blocks (4 bytes -> 128 KiB each) stop at the ratio limit inside the decoder', async () => {
    const layout = join(dir, 'layout');
    const header = ustarHeader('zeros', 4 * 1024 * 1024 * 1024 - 1);
    const frame = function* (): Generator<Buffer> {
      yield Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]);
      const h = (512 << 3) | 0; // one raw block holding the tar header
      yield Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]);
      yield header;
      for (let i = 0; i < 32 * 1024; i++) yield zstdRleBlock(i === 32 * 1024 - 1);
    };
    const stored = await writeBlobStream(layout, frame());
    await writeOciLayout(layout, [{ blob: Buffer.alloc(0), stored }], { diffIds: [sha256('unknown')] });
    const { err, growthMb } = await measure(async () => readAll(await openImage(`oci:${layout}`)));
    expect(err).toBeInstanceOf(LimitExceededError);
    expect((err as Error).message).toMatch(/limit maxCompressionRatio/);
    expect(growthMb).toBeLessThan(200);
  });

  it('10^6 tiny entries: the entry limit stops the read, memory stays bounded', async () => {
    const layout = join(dir, 'layout');
    const total = 1_000_001;
    const diff = createHash('sha256');
    const gz = createGzip({ level: 1 });
    const produce = (async () => {
      let batch: Buffer[] = [];
      for (let i = 0; i < total; i++) {
        batch.push(ustarHeader(`d${i % 1000}/f${i}`, 0));
        if (batch.length === 2048) {
          const b = Buffer.concat(batch);
          diff.update(b);
          if (!gz.write(b)) await new Promise<void>((r) => gz.once('drain', () => r()));
          batch = [];
        }
      }
      const last = Buffer.concat([...batch, Buffer.alloc(1024)]);
      diff.update(last);
      gz.end(last);
    })();
    const stored = await writeBlobStream(layout, gz);
    await produce;
    await writeOciLayout(layout, [{ blob: Buffer.alloc(0), stored }], { diffIds: [`sha256:${diff.digest('hex')}`] });
    let count = 0;
    const { err, growthMb } = await measure(async () => {
      const img = await openImage(`oci:${layout}`);
      for await (const _ of img.layers[0]!.entries(DEFAULT_LIMITS)) count++;
    });
    expect(err).toBeInstanceOf(LimitExceededError);
    expect((err as Error).message).toMatch(/image has more than 1000000 entries \(limit maxEntries\); refused/);
    expect(count).toBe(1_000_000); // 10^6 entries are allowed; the next one is refused
    // What stays is the layer's set of seen paths (hard-link targets must be earlier entries): about 60 MB for
    // 10^6 short paths, bounded by maxEntries. The rest of the peak is garbage the collector had not reclaimed
    // yet, which on a loaded two-core machine (CI runs two test files at once) has reached 250 MB.
    expect(growthMb).toBeLessThan(320);
  }, 240_000);
});

describe('cancellation', () => {
  it('an abort signal stops a layer read midway', async () => {
    const layout = join(dir, 'layout');
    const t = rawTar(Array.from({ length: 64 }, (_, i) => ({ name: `f${i}`, body: Buffer.alloc(64 * 1024, i) })));
    await writeOciLayout(layout, [{ blob: gzip(t), tar: t }]);
    const ac = new AbortController();
    const img = await openImage(`oci:${layout}`, { signal: ac.signal });
    let n = 0;
    const run = async () => {
      for await (const e of img.layers[0]!.entries(DEFAULT_LIMITS)) {
        await e.read(10);
        if (++n === 3) ac.abort();
      }
    };
    await expect(run()).rejects.toThrow(/abort/i);
    expect(n).toBeLessThan(64);
  });

  it('an entry body read after the abort reports the abort, not the torn-down stream', async () => {
    const layout = join(dir, 'layout-body');
    const t = rawTar(Array.from({ length: 8 }, (_, i) => ({ name: `f${i}`, body: Buffer.alloc(256 * 1024, i) })));
    await writeOciLayout(layout, [{ blob: gzip(t), tar: t }]);
    const ac = new AbortController();
    const img = await openImage(`oci:${layout}`, { signal: ac.signal });
    const run = async () => {
      for await (const e of img.layers[0]!.entries(DEFAULT_LIMITS)) {
        ac.abort();
        await new Promise((r) => setImmediate(r));
        await e.read(1024 * 1024);
      }
    };
    await expect(run()).rejects.toThrow(/abort/i);
  });
});

describe('malformed documents and missing blobs', () => {
  const tar = rawTar([{ name: 'a', body: 'a' }]);

  async function dockerArchive(manifest: string, extra: { name: string; body: string }[] = []): Promise<string> {
    const file = join(dir, 'image.tar');
    const { makeTar } = await import('./helpers.js');
    await writeFile(file, await makeTar([{ name: 'manifest.json', body: manifest }, ...extra]));
    return `docker-archive:${file}`;
  }

  it.each([
    ['not JSON', '{oops', /manifest\.json is not valid JSON/],
    ['not an array', '{"Config":"c.json"}', /manifest\.json is not a JSON array/],
    ['an entry that is not an object', '[1]', /manifest\.json has no valid image entries/],
    ['a config name with ..', '[{"Config":"../../etc/passwd","Layers":[]}]', /has a "\.\." segment; refused/],
    ['a config that is missing', '[{"Config":"nothere.json","Layers":[]}]', /nothere\.json is missing/],
  ])('docker-archive manifest.json: %s', async (_name, manifest, message) => {
    const target = await dockerArchive(manifest);
    await expectRefused(() => openImage(target), UserInputError, message);
  });

  it('a malformed document is reported without quoting its contents', async () => {
    const target = await dockerArchive('password=SECRET-TOKEN-123');
    const err = await expectRefused(
      () => openImage(target),
      UserInputError,
      /manifest\.json is not valid JSON: syntax error/,
    );
    expect(err.message).not.toContain('SECRET');
  });

  it('docker-archive: a layer named in manifest.json but missing from the archive', async () => {
    const file = join(dir, 'image.tar');
    const archive = await makeDockerArchive([tar]);
    await writeFile(file, archive);
    const { makeTar } = await import('./helpers.js');
    // Rebuild the archive without its layer member.
    const config = JSON.stringify({ os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(tar)] } });
    await writeFile(
      file,
      await makeTar([
        { name: `${sha256(config).slice(7)}.json`, body: config },
        {
          name: 'manifest.json',
          body: JSON.stringify([{ Config: `${sha256(config).slice(7)}.json`, Layers: ['gone.tar'] }]),
        },
      ]),
    );
    await expectRefused(() => openImage(`docker-archive:${file}`), UserInputError, /layer gone\.tar is missing/);
  });

  it('a file that is not a tar at all', async () => {
    const file = join(dir, 'image.tar');
    await writeFile(file, 'this is not a tar archive'.repeat(40));
    await expectRefused(() => openImage(`docker-archive:${file}`), UserInputError, /is not a tar or is corrupt/);
  });

  it('a truncated outer archive', async () => {
    const file = join(dir, 'image.tar');
    const archive = await makeDockerArchive([rawTar([{ name: 'big', body: Buffer.alloc(100_000, 1) }])]);
    await writeFile(file, archive.subarray(0, 50_000));
    await expectRefused(() => openImage(`docker-archive:${file}`), UserInputError, /archive .* is truncated/);
  });

  it.each([
    ['not JSON', '{"manifests": [', /index\.json is not valid JSON/],
    ['no manifests array', '{"schemaVersion":2}', /index\.json has no "manifests" array/],
    [
      'a digest that is a path',
      '{"manifests":[{"digest":"sha256:../../../etc/passwd"}]}',
      /malformed digest "sha256:\.\.\/\.\.\/\.\.\/etc\/passwd"/,
    ],
    ['an unknown digest algorithm', '{"manifests":[{"digest":"md5:abc"}]}', /unsupported digest "md5:abc"/],
    ['an empty list', '{"manifests":[]}', /index\.json lists no manifests/],
  ])('oci index.json: %s', async (_name, index, message) => {
    const layout = join(dir, 'layout');
    await writeOciLayout(layout, [{ blob: tar }]);
    await writeFile(join(layout, 'index.json'), index);
    await expectRefused(() => openImage(`oci:${layout}`), UserInputError, message);
  });

  it('oci: a layer blob that is missing', async () => {
    const layout = join(dir, 'layout');
    const { layerDigests } = await writeOciLayout(layout, [{ blob: tar }]);
    await rm(join(layout, 'blobs', 'sha256', layerDigests[0]!.slice(7)));
    await expectRefused(
      () => openImage(`oci:${layout}`),
      UserInputError,
      new RegExp(`layer blob ${layerDigests[0]} is missing`),
    );
  });

  it('oci: a manifest blob that is missing', async () => {
    const layout = join(dir, 'layout');
    const { manifestDigest } = await writeOciLayout(layout, [{ blob: tar }]);
    await rm(join(layout, 'blobs', 'sha256', manifestDigest.slice(7)));
    await expectRefused(
      () => openImage(`oci:${layout}`),
      UserInputError,
      new RegExp(`manifest blob ${manifestDigest} is missing`),
    );
  });

  it('oci: a directory without oci-layout given as oci:', async () => {
    const layout = join(dir, 'layout');
    await writeOciLayout(layout, [{ blob: tar }]);
    await rm(join(layout, 'oci-layout'));
    await expectRefused(
      () => openImage(`oci:${layout}`),
      UserInputError,
      /not an OCI image layout \(no oci-layout file\)/,
    );
  });

  it('a missing target path', async () => {
    await expectRefused(
      () => openImage(join(dir, 'nope')),
      UserInputError,
      new RegExp(`"${join(dir, 'nope')}" does not exist`),
    );
    await expectRefused(
      () => openImage(`oci-archive:${join(dir, 'nope.tar')}`),
      UserInputError,
      /nope\.tar is missing/,
    );
    expect(basename(dir)).toMatch(/^palisade-image-test-/);
  });
});
