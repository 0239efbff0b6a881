import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openImage } from '../../src/image/index.js';
import { type FileFact, finalView, testImagesDir } from './helpers.js';

// The same image through every local source must give the same final filesystem, byte for byte.
const images = [
  { name: 'debian', tag: 'bookworm', layers: 1 },
  { name: 'npm-app', tag: 'app', layers: 2 },
] as const;

function targetsFor(dir: string, tag: string): [string, string][] {
  return [
    ['docker-archive', `docker-archive:${join(dir, 'image.docker.tar')}`],
    ['oci', `oci:${join(dir, 'oci')}:${tag}`],
    ['oci-archive', `oci-archive:${join(dir, 'image.oci.tar')}`],
    ['oci-zstd', `oci:${join(dir, 'oci-zstd')}:${tag}`],
    ['dir', `dir:${join(dir, 'rootfs')}`],
  ];
}

describe.each(images)('real image $name', ({ name, tag, layers }) => {
  let dir: string;
  let reference: Map<string, FileFact>;

  beforeAll(async () => {
    dir = join(testImagesDir(), name);
    reference = await finalView(await openImage(`dir:${join(dir, 'rootfs')}`));
  });

  it.each(targetsFor('', tag).map(([kind]) => kind))(
    '%s yields the same files and contents as the rootfs',
    async (kind) => {
      const target = targetsFor(dir, tag).find(([k]) => k === kind)![1];
      const img = await openImage(target);
      expect(img.layers).toHaveLength(kind === 'dir' ? 1 : layers);
      const view = await finalView(img);
      const missing = [...reference.keys()].filter((p) => !view.has(p));
      const extra = [...view.keys()].filter((p) => !reference.has(p));
      expect({ missing: missing.slice(0, 10), extra: extra.slice(0, 10) }).toEqual({ missing: [], extra: [] });
      const differing = [...reference].filter(([p, f]) => view.get(p)?.digest !== f.digest).map(([p]) => p);
      expect(differing.slice(0, 10)).toEqual([]);
      expect(view.size).toBeGreaterThan(5000);
      if (kind !== 'dir') {
        expect(img.config.os).toBe('linux');
        expect(img.config.architecture).toBe('amd64');
        expect(img.configDigest).toMatch(/^sha256:[a-f0-9]{64}$/);
      }
      await img.close();
    },
  );

  it('every source names the same layers: OCI blob digests agree, docker-archive uses the diff_ids', async () => {
    const oci = await openImage(`oci:${join(dir, 'oci')}:${tag}`);
    const archive = await openImage(`oci-archive:${join(dir, 'image.oci.tar')}`);
    const docker = await openImage(`docker-archive:${join(dir, 'image.docker.tar')}`);
    expect(archive.layers.map((l) => l.digest)).toEqual(oci.layers.map((l) => l.digest));
    expect(archive.manifestDigest).toBe(oci.manifestDigest);
    expect(docker.layers.map((l) => l.digest)).toEqual(oci.config.rootfs?.diff_ids);
    expect(docker.configDigest).toBe(oci.configDigest);
    expect(docker.names).toEqual([
      `docker.io/palisade-test/${name === 'debian' ? 'debian:bookworm' : 'npm-app:latest'}`,
    ]);
  });
});

describe('real image contents', () => {
  it('the npm-app whiteout hides a base-layer file; the base image still has it', async () => {
    const root = testImagesDir();
    const app = await finalView(await openImage(`oci:${join(root, 'npm-app', 'oci')}:app`));
    const base = await finalView(await openImage(`oci:${join(root, 'debian', 'oci')}:bookworm`));
    expect(base.has('usr/share/doc/bash/README.gz')).toBe(true);
    expect(app.has('usr/share/doc/bash/README.gz')).toBe(false);
    expect(app.has('srv/app/package.json')).toBe(true);
    expect(app.get('etc/os-release')).toEqual({ type: 'symlink', digest: '../usr/lib/os-release' });
  });

  it('a bare path is detected: layout dir, rootfs dir, docker archive, oci archive', async () => {
    const d = join(testImagesDir(), 'npm-app');
    const kinds = [];
    for (const p of [join(d, 'image.docker.tar'), join(d, 'image.oci.tar'), join(d, 'rootfs')]) {
      kinds.push((await openImage(p)).sourceKind);
    }
    expect(kinds).toEqual(['docker-archive', 'oci-archive', 'dir']);
    // The app layout holds two tagged images: without a tag the error names them.
    await expect(openImage(join(d, 'oci'))).rejects.toThrow(
      /holds 2 images; name one with a tag \(tags: bookworm, app\)/,
    );
    expect((await openImage(join(testImagesDir(), 'debian', 'oci'))).sourceKind).toBe('oci');
  });

  it('progress reports layer start, cumulative bytes and layer end', async () => {
    const events: string[] = [];
    let lastBytes = 0;
    const img = await openImage(`oci-archive:${join(testImagesDir(), 'debian', 'image.oci.tar')}`, {
      onProgress: (e) => {
        if (e.kind === 'bytes') {
          expect(e.bytes).toBeGreaterThan(lastBytes);
          lastBytes = e.bytes;
        } else events.push(e.kind);
      },
    });
    for await (const _ of img.layers[0]!.entries({ ...(await import('../../src/image/index.js')).DEFAULT_LIMITS })) {
      // iterate only
    }
    expect(events).toEqual(['layer-start', 'layer-done']);
    expect(lastBytes).toBeGreaterThan(0.9 * (img.layers[0]!.size ?? 0));
  });
});
