/**
 * Pulls from a real Docker Distribution registry (started here on 127.0.0.1) and compares what comes out
 * with the same images read straight from their OCI layout files and listed by GNU tar.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { NotFoundError, UnavailableError } from '../../../src/core/errors.js';
import { openRegistryImage, type RegistryImage } from '../../../src/image/registry/index.js';
import { DEFAULT_LIMITS, type OpenedImage, type ProgressEvent } from '../../../src/image/types.js';
import { startRegistry, type TestRegistry } from '../../helpers/registry.js';
import { type LayoutImage, readLayoutImage, tarPaths } from './oci-layout.js';

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

let reg: TestRegistry;
let debian: LayoutImage;
let npmApp: LayoutImage;
/** The arm64 variant made for the OCI index: npm-app's layers under a config that says arm64. */
let arm64: { manifestDigest: string; configDigest: string };
let multiIndexDigest: string;
let v2s2: { debian: { digest: string; size: number }; npmApp: { digest: string; size: number } };

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function getManifest(repo: string, ref: string, accept: string): Promise<Buffer> {
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${ref}`, { headers: { accept } });
  if (res.status !== 200) throw new Error(`GET ${repo}:${ref}: HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

async function open(ref: string, opts: Parameters<typeof openRegistryImage>[1] = {}): Promise<RegistryImage> {
  return openRegistryImage(`${reg.host}/${ref}`, { insecureRegistry: true, ...opts });
}

async function pathsOf(image: OpenedImage, layer: number): Promise<Set<string>> {
  const paths = new Set<string>();
  for await (const e of image.layers[layer]!.entries(DEFAULT_LIMITS)) paths.add(e.path);
  return paths;
}

beforeAll(async () => {
  [debian, npmApp] = await Promise.all([readLayoutImage('debian'), readLayoutImage('npm-app')]);
  reg = await startRegistry();
  await reg.pushImage('debian', 'palisade/debian:bookworm');
  await reg.pushImage('npm-app', 'palisade/npm-app:app');
  await reg.pushImage('debian', 'palisade/debian-v2s2:bookworm', { format: 'v2s2' });
  await reg.pushImage('npm-app', 'palisade/npm-app-zstd:app', { layers: 'zstd' });
  // Uncompressed layers by hand (skopeo keeps an unmodified image's blobs): the gunzipped layout blob,
  // whose digest is the config's diff id, under the same config.
  const diffId = (debian.config.rootfs as { diff_ids: string[] }).diff_ids[0]!;
  const gz = debian.manifest.layers[0]!;
  await reg.putBlob('palisade/debian-tar', createReadStream(debian.blobPath(gz.digest)).pipe(createGunzip()), diffId);
  await reg.putBlob('palisade/debian-tar', debian.configBytes);
  const head = await fetch(`${reg.url}/v2/palisade/debian-tar/blobs/${diffId}`, { method: 'HEAD' });
  const tarManifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: debian.manifest.config,
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar',
          digest: diffId,
          size: Number(head.headers.get('content-length')),
        },
      ],
    }),
  );
  await reg.putManifest('palisade/debian-tar', 'bookworm', OCI_MANIFEST, tarManifest);

  // An OCI index by hand: linux/amd64 = the debian manifest, linux/arm64/v8 = npm-app's layers under an
  // arm64 config. Tagged "latest" so that a reference without a tag finds it.
  await reg.pushImage('debian', 'palisade/multi:amd64');
  await reg.pushImage('npm-app', 'palisade/multi:npm');
  const armConfig = Buffer.from(JSON.stringify({ ...npmApp.config, architecture: 'arm64', variant: 'v8' }));
  const armConfigDigest = await reg.putBlob('palisade/multi', armConfig);
  const armManifest = Buffer.from(
    JSON.stringify({
      ...JSON.parse(npmApp.manifestBytes.toString('utf8')),
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: armConfigDigest,
        size: armConfig.length,
      },
    }),
  );
  const armManifestDigest = await reg.putManifest('palisade/multi', sha256(armManifest), OCI_MANIFEST, armManifest);
  arm64 = { manifestDigest: armManifestDigest, configDigest: armConfigDigest };
  const index = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      {
        mediaType: OCI_MANIFEST,
        digest: debian.manifestDigest,
        size: debian.manifestBytes.length,
        platform: { os: 'linux', architecture: 'amd64' },
      },
      {
        mediaType: OCI_MANIFEST,
        digest: armManifestDigest,
        size: armManifest.length,
        platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
      },
    ],
  };
  multiIndexDigest = await reg.putManifest('palisade/multi', 'latest', OCI_INDEX, Buffer.from(JSON.stringify(index)));

  // A Docker manifest list over two schema2 manifests: linux/amd64 = debian, linux/arm/v7 = npm-app.
  await reg.pushImage('debian', 'palisade/list:amd64', { format: 'v2s2' });
  await reg.pushImage('npm-app', 'palisade/list:arm', { format: 'v2s2' });
  const amd = await getManifest('palisade/list', 'amd64', DOCKER_MANIFEST);
  const arm = await getManifest('palisade/list', 'arm', DOCKER_MANIFEST);
  v2s2 = { debian: { digest: sha256(amd), size: amd.length }, npmApp: { digest: sha256(arm), size: arm.length } };
  const list = {
    schemaVersion: 2,
    mediaType: DOCKER_LIST,
    manifests: [
      { mediaType: DOCKER_MANIFEST, ...v2s2.debian, platform: { os: 'linux', architecture: 'amd64' } },
      { mediaType: DOCKER_MANIFEST, ...v2s2.npmApp, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
    ],
  };
  await reg.putManifest('palisade/list', 'bookworm', DOCKER_LIST, Buffer.from(JSON.stringify(list)));
});

afterAll(async () => {
  await reg?.stop();
});

describe('registry pull from a real docker-registry', () => {
  test('an OCI image pulled by tag has the manifest digest, config and layers of its OCI layout', async () => {
    const image = await open('palisade/debian:bookworm');
    try {
      expect(image.sourceKind).toBe('registry');
      expect(image.target).toBe(`registry:${reg.host}/palisade/debian:bookworm`);
      expect(image.names).toEqual([`${reg.host}/palisade/debian:bookworm`]);
      expect(image.manifestDigest).toBe(debian.manifestDigest);
      expect(image.indexDigest).toBeUndefined();
      expect(image.configDigest).toBe(debian.manifest.config.digest);
      expect(image.config.raw).toEqual(debian.config);
      expect(image.config.rootfs?.diff_ids).toEqual((debian.config.rootfs as { diff_ids: string[] }).diff_ids);
      expect(image.layers.map((l) => [l.digest, l.size, l.mediaType])).toEqual(
        debian.manifest.layers.map((l) => [l.digest, l.size, l.mediaType]),
      );
      expect(image.layers.map((l) => l.diffId)).toEqual((debian.config.rootfs as { diff_ids: string[] }).diff_ids);
    } finally {
      await image.close();
    }
  });

  test('entries() of every pulled layer list the same paths as GNU tar on the layout blobs', async () => {
    let osReleases = 0;
    for (const [ref, layout] of [
      ['palisade/debian:bookworm', debian],
      ['palisade/npm-app:app', npmApp],
    ] as const) {
      const image = await open(ref);
      try {
        expect(image.layers.map((l) => l.digest)).toEqual(layout.manifest.layers.map((l) => l.digest));
        for (let i = 0; i < image.layers.length; i++) {
          const expected = await tarPaths(layout.blobPath(layout.manifest.layers[i]!.digest));
          const got = new Set<string>();
          for await (const e of image.layers[i]!.entries(DEFAULT_LIMITS)) {
            got.add(e.path);
            // File bytes come through too: the base layer's os-release names bookworm.
            if (e.path === 'usr/lib/os-release') {
              osReleases++;
              expect((await e.read(4096)).data.toString('utf8')).toMatch(
                /^PRETTY_NAME="Debian GNU\/Linux 12 \(bookworm\)"$/m,
              );
            }
          }
          expect(got.size).toBeGreaterThan(0);
          expect(got).toEqual(expected);
        }
      } finally {
        await image.close();
      }
    }
    // debian's one layer and npm-app's base layer carry it.
    expect(osReleases).toBe(2);
  });

  test('pulling by digest gives the same image and no tag name', async () => {
    const image = await open(`palisade/debian@${debian.manifestDigest}`);
    try {
      expect(image.manifestDigest).toBe(debian.manifestDigest);
      expect(image.names).toEqual([]);
      expect(image.layers.map((l) => l.digest)).toEqual(debian.manifest.layers.map((l) => l.digest));
    } finally {
      await image.close();
    }
  });

  test('a Docker schema2 manifest gives the layout layers and config with Docker media types', async () => {
    const image = await open('palisade/debian-v2s2:bookworm');
    try {
      expect(image.layers.map((l) => l.digest)).toEqual(debian.manifest.layers.map((l) => l.digest));
      expect(image.layers.every((l) => l.mediaType === 'application/vnd.docker.image.rootfs.diff.tar.gzip')).toBe(true);
      expect(image.config.rootfs?.diff_ids).toEqual((debian.config.rootfs as { diff_ids: string[] }).diff_ids);
      expect(image.manifestDigest).not.toBe(debian.manifestDigest);
      const paths = await pathsOf(image, 0);
      expect(paths).toEqual(await tarPaths(debian.blobPath(debian.manifest.layers[0]!.digest)));
    } finally {
      await image.close();
    }
  });

  // zstd on npm-app (its small top layer is checked, to keep the pure-JS zstd decoder's time down);
  // uncompressed on debian's one layer.
  test.each([
    ['zstd', 'palisade/npm-app-zstd:app', 'application/vnd.oci.image.layer.v1.tar+zstd', () => npmApp],
    ['uncompressed', 'palisade/debian-tar:bookworm', 'application/vnd.oci.image.layer.v1.tar', () => debian],
  ])('%s layers hold the same tar as the gzip layout: same diff id, same paths', async (name, ref, mediaType, of) => {
    const layout = of();
    const diffIds = (layout.config.rootfs as { diff_ids: string[] }).diff_ids;
    const image = await open(ref);
    try {
      expect(image.layers.map((l) => [l.mediaType, l.diffId])).toEqual(diffIds.map((d) => [mediaType, d]));
      const top = image.layers.length - 1;
      const gzipTop = layout.manifest.layers[top]!.digest;
      // An uncompressed layer's blob digest is its diff id; a zstd one differs from both.
      if (name === 'uncompressed') expect(image.layers[top]!.digest).toBe(diffIds[top]);
      else expect([diffIds[top], gzipTop]).not.toContain(image.layers[top]!.digest);
      expect(await pathsOf(image, top)).toEqual(await tarPaths(layout.blobPath(gzipTop)));
    } finally {
      await image.close();
    }
  });

  test.each([
    ['default platform (linux/amd64)', undefined, () => debian.manifestDigest, () => debian.manifest.config.digest],
    ['linux/arm64', 'linux/arm64', () => arm64.manifestDigest, () => arm64.configDigest],
    ['linux/arm64/v8', 'linux/arm64/v8', () => arm64.manifestDigest, () => arm64.configDigest],
    ['linux/aarch64 (alias)', 'linux/aarch64', () => arm64.manifestDigest, () => arm64.configDigest],
  ])(
    'an OCI index tagged latest, without a tag in the reference, resolves %s',
    async (_name, platform, manifest, config) => {
      const image = await open('palisade/multi', platform === undefined ? {} : { platform });
      try {
        expect(image.names).toEqual([`${reg.host}/palisade/multi:latest`]);
        expect(image.indexDigest).toBe(multiIndexDigest);
        expect(image.manifestDigest).toBe(manifest());
        expect(image.configDigest).toBe(config());
      } finally {
        await image.close();
      }
    },
  );

  test('the arm64 entry of the OCI index streams npm-app layers and carries the arm64 config', async () => {
    const image = await open('palisade/multi', { platform: 'linux/arm64' });
    try {
      expect(image.config.architecture).toBe('arm64');
      expect(image.layers.map((l) => l.digest)).toEqual(npmApp.manifest.layers.map((l) => l.digest));
      const last = image.layers.length - 1;
      expect(await pathsOf(image, last)).toEqual(await tarPaths(npmApp.blobPath(npmApp.manifest.layers[last]!.digest)));
    } finally {
      await image.close();
    }
  });

  test('a platform the index lacks is NotFoundError listing what it has', async () => {
    const err = await open('palisade/multi', { platform: 'linux/s390x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toBe(
      `${reg.host}/palisade/multi:latest: no linux/s390x image in the index (available: linux/amd64, linux/arm64/v8)`,
    );
  });

  test.each([
    ['linux/amd64', () => v2s2.debian.digest, () => debian.manifest.layers.map((l) => l.digest)],
    ['linux/arm/v7', () => v2s2.npmApp.digest, () => npmApp.manifest.layers.map((l) => l.digest)],
    ['linux/arm (v7 by default)', () => v2s2.npmApp.digest, () => npmApp.manifest.layers.map((l) => l.digest)],
  ])('a Docker manifest list resolves %s', async (name, digest, layers) => {
    const image = await open('palisade/list:bookworm', { platform: name.split(' ')[0]! });
    try {
      expect(image.manifestDigest).toBe(digest());
      expect(image.layers.map((l) => l.digest)).toEqual(layers());
    } finally {
      await image.close();
    }
  });

  test.each([
    ['an unknown tag', 'palisade/debian:nope', 'manifest 127.0.0.1:PORT/palisade/debian:nope not found'],
    [
      'an unknown repository',
      'palisade/nothing:bookworm',
      'manifest 127.0.0.1:PORT/palisade/nothing:bookworm not found',
    ],
  ])('%s is NotFoundError naming the reference', async (_name, ref, message) => {
    const err = await open(ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toBe(`registry ${reg.host}: ${message.replace('127.0.0.1:PORT', reg.host)}`);
  });

  test('HTTPS is the default: a plain-HTTP registry without --insecure-registry is refused with a hint', async () => {
    const err = await openRegistryImage(`${reg.host}/palisade/debian:bookworm`, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toBe(
      `registry ${reg.host}: does not speak HTTPS (for a plain-HTTP registry pass --insecure-registry)`,
    );
  });

  test('progress reports the compressed bytes read so far, rising to the layer size, between layer-start and layer-done', async () => {
    const events: ProgressEvent[] = [];
    const image = await open('palisade/npm-app:app', { onProgress: (e) => events.push(e) });
    try {
      const last = image.layers.length - 1;
      await pathsOf(image, last);
      const layer = npmApp.manifest.layers[last]!;
      expect(events[0]).toEqual({
        kind: 'layer-start',
        index: last,
        total: image.layers.length,
        digest: layer.digest,
        size: layer.size,
      });
      expect(events.at(-1)).toEqual({ kind: 'layer-done', index: last, digest: layer.digest });
      const reported = events.flatMap((e) => (e.kind === 'bytes' ? [e.bytes] : []));
      expect(reported.length).toBeGreaterThan(0);
      expect(reported).toEqual([...reported].sort((a, b) => a - b));
      expect(reported.at(-1)).toBeLessThanOrEqual(layer.size);
      // Reported about every MiB: the last figure is within one step of the whole blob.
      expect(reported.at(-1)).toBeGreaterThan(layer.size - 1024 * 1024);
    } finally {
      await image.close();
    }
  });

  test('aborting through the signal stops a layer stream, as for every other source', async () => {
    const controller = new AbortController();
    const image = await open('palisade/debian:bookworm', { signal: controller.signal });
    try {
      let seen = 0;
      const err = await (async () => {
        for await (const _ of image.layers[0]!.entries(DEFAULT_LIMITS)) {
          if (++seen === 10) controller.abort();
        }
      })().catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/abort/i);
      expect(seen).toBeLessThan(1000);
    } finally {
      await image.close();
    }
  });
});
