import { describe, expect, test } from 'vitest';
import { NotFoundError, UnavailableError, UserInputError } from '../../../src/core/errors.js';
import { parsePlatform, selectPlatform } from '../../../src/image/registry/index.js';
import { type Descriptor, parseManifest } from '../../../src/image/registry/manifest.js';

const M = 'application/vnd.oci.image.manifest.v1+json';
const d = (n: number, os: string, architecture: string, variant?: string): Descriptor => ({
  mediaType: M,
  digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
  size: n,
  platform: { os, architecture, ...(variant !== undefined && { variant }) },
});
const index = [
  d(1, 'linux', 'amd64'),
  d(2, 'linux', 'amd64', 'v3'),
  d(3, 'linux', 'arm64', 'v8'),
  d(4, 'linux', 'arm', 'v6'),
  d(5, 'linux', 'arm', 'v7'),
  d(6, 'windows', 'amd64'),
  d(7, 'unknown', 'unknown'),
];

describe('selectPlatform', () => {
  test.each([
    ['linux/amd64', 1],
    ['linux/amd64/v3', 2],
    ['linux/x86_64', 1],
    ['linux/arm64', 3],
    ['linux/aarch64', 3],
    ['linux/arm64/v8', 3],
    ['linux/arm', 5],
    ['linux/arm/v6', 4],
    ['linux/armhf', 5],
    ['linux/armel', 4],
    ['windows/amd64', 6],
    ['LINUX/AMD64', 1],
  ])('%s picks entry %i', (want, size) => {
    expect(selectPlatform(index, parsePlatform(want), 'img').size).toBe(size);
  });

  test('an arm64 entry without a variant matches linux/arm64/v8', () => {
    expect(selectPlatform([d(9, 'linux', 'arm64')], parsePlatform('linux/arm64/v8'), 'img').size).toBe(9);
  });

  test('a single entry without a platform is taken (OCI indexes may omit it)', () => {
    const only: Descriptor = { mediaType: M, digest: `sha256:${'c'.repeat(64)}`, size: 8 };
    expect(selectPlatform([only], parsePlatform('linux/amd64'), 'img').size).toBe(8);
  });

  test.each([
    [
      'linux/s390x',
      'img: no linux/s390x image in the index (available: linux/amd64, linux/amd64/v3, linux/arm64/v8, linux/arm/v6, linux/arm/v7, windows/amd64)',
    ],
    ['linux/arm64/v9', 'img: no linux/arm64/v9 image in the index'],
    ['unknown/unknown', 'img: no unknown/unknown image'],
  ])('%s is NotFoundError listing the real platforms (attestations hidden)', (want, message) => {
    const wanted = parsePlatform(want);
    if (want === 'unknown/unknown') {
      // Attestation manifests are never images, even when asked for by name.
      expect(() =>
        selectPlatform(
          index.filter((m) => m.platform?.os === 'unknown'),
          wanted,
          'img',
        ),
      ).toThrow(message);
      return;
    }
    expect(() => selectPlatform(index, wanted, 'img')).toThrow(NotFoundError);
    expect(() => selectPlatform(index, wanted, 'img')).toThrow(message);
  });

  test.each(['linux', 'linux/amd64/v3/x', 'linux/../x', ''])('platform %j is UserInputError', (p) => {
    expect(() => parsePlatform(p)).toThrow(UserInputError);
  });
});

describe('parseManifest media type detection', () => {
  const cfg = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 2 };
  const manifest = { schemaVersion: 2, config: cfg, layers: [] };
  const idx = { schemaVersion: 2, manifests: [] };
  test.each([
    ['an OCI manifest without mediaType or Content-Type', manifest, undefined, 'image', M],
    [
      'an OCI index without mediaType or Content-Type',
      idx,
      undefined,
      'index',
      'application/vnd.oci.image.index.v1+json',
    ],
    [
      'a Docker list known only by Content-Type (with parameters)',
      idx,
      'application/vnd.docker.distribution.manifest.list.v2+json; charset=utf-8',
      'index',
      'application/vnd.docker.distribution.manifest.list.v2+json',
    ],
    [
      'the document mediaType wins over a generic Content-Type',
      { ...manifest, mediaType: 'application/vnd.docker.distribution.manifest.v2+json' },
      'application/json',
      'image',
      'application/vnd.docker.distribution.manifest.v2+json',
    ],
  ])('%s', (_name, body, ct, kind, mediaType) => {
    const m = parseManifest(Buffer.from(JSON.stringify(body)), ct, 'm');
    expect([m.kind, m.mediaType]).toEqual([kind, mediaType]);
  });

  test('an index entry whose digest is garbage is UnavailableError', () => {
    const bad = { schemaVersion: 2, manifests: [{ mediaType: M, digest: 'sha256:zz', size: 1 }] };
    expect(() => parseManifest(Buffer.from(JSON.stringify(bad)), undefined, 'm')).toThrow(UnavailableError);
  });
});
