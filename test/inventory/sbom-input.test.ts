import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LimitExceededError, UserInputError } from '../../src/core/errors.js';
import type { Package } from '../../src/core/types.js';
import { openImage } from '../../src/image/index.js';
import { MAX_SBOM_BYTES, osFromDistro, parseSbom, readSbom } from '../../src/inventory/sbom-input.js';
import { toCycloneDx } from '../../src/report/cyclonedx.js';
import { toSpdx } from '../../src/report/spdx.js';
import { type ImageInventory, inventoryImage } from '../../src/scan/index.js';
import { testImage } from '../helpers/test-images.js';

const fixtures = fileURLToPath(new URL('../fixtures/inventory/sbom/', import.meta.url));

async function inventoryOf(name: 'debian' | 'npm-app'): Promise<ImageInventory> {
  const img = await openImage(`docker-archive:${join(testImage(name), 'image.docker.tar')}`);
  try {
    return await inventoryImage(img);
  } finally {
    await img.close();
  }
}

/** What matching needs from a package, as one comparable line. */
function key(p: Package): string {
  return `${p.ecosystem} ${p.type} ${p.namespace ?? '-'}/${p.name}@${p.version} src=${p.source?.name ?? '-'}@${p.source?.version ?? '-'}`;
}

/** Everything the CycloneDX round trip must keep (licences are rewritten as SPDX expressions; analyzer is "sbom"). */
function cdxView(p: Package): Omit<Package, 'analyzer' | 'licenses'> {
  const { analyzer: _a, licenses: _l, ...rest } = p;
  return rest;
}

/** SPDX has no place for dev, owner or arch properties; the rest must survive. */
function spdxView(p: Package) {
  return {
    key: key(p),
    purl: p.purl,
    path: p.path,
    layer: p.layer,
    epoch: p.epoch,
    arch: p.type === 'deb' || p.type === 'apk' || p.type === 'rpm' ? p.arch : undefined,
  };
}

function roundTrip(doc: Record<string, unknown>, name: string): ImageInventory {
  return parseSbom(JSON.stringify(doc), name);
}

describe.each(['debian', 'npm-app'] as const)('SBOM round trip of the %s test image', (image) => {
  let inv: ImageInventory;
  beforeAll(async () => {
    inv = await inventoryOf(image);
    expect(inv.packages.length).toBeGreaterThan(50);
  });

  it('our CycloneDX reads back to the same packages, OS, image name, digest and layers', () => {
    const back = roundTrip(toCycloneDx(inv), 'x.cdx.json');
    expect(back.packages.map(cdxView)).toEqual(inv.packages.map(cdxView));
    expect(back.packages.every((p) => p.analyzer === 'sbom')).toBe(true);
    expect(back.os).toEqual({ family: inv.os!.family, version: inv.os!.version, prettyName: inv.os!.prettyName });
    expect(back.names).toEqual([inv.names[0] ?? inv.target]);
    expect(back.digest).toBe(inv.digest);
    expect(back.layers.map((l) => l.digest)).toEqual(inv.layers.map((l) => l.digest));
    expect(back.target).toBe('sbom:x.cdx.json');
    expect(back.warnings).toEqual([]);
  });

  it('our SPDX reads back to the same packages and OS', () => {
    const back = roundTrip(toSpdx(inv), 'x.spdx.json');
    expect(back.packages.map(spdxView)).toEqual(inv.packages.map(spdxView));
    expect(back.os).toEqual({ family: inv.os!.family, version: inv.os!.version });
  });

  it('without our properties, purls alone (distro, upstream, epoch qualifiers) give the same ecosystem, name, version and source name', () => {
    const bare = toCycloneDx(inv) as { components: Record<string, unknown>[] };
    for (const c of bare.components) delete c.properties;
    bare.components = bare.components.filter((c) => c.type !== 'operating-system');
    const back = roundTrip(bare, 'bare.cdx.json');
    const nameOnly = (p: Package) =>
      `${p.ecosystem} ${p.namespace ?? '-'}/${p.name}@${p.version} src=${p.source?.name}`;
    expect(back.packages.map(nameOnly).sort()).toEqual(inv.packages.map(nameOnly).sort());
  });

  it('a CycloneDX made by Trivy (COMPUTED fixture) reads back to the same Debian and npm package set as ours', async () => {
    const trivy = await readSbom(join(fixtures, `trivy-${image}.cdx.json`));
    const wanted = (p: Package) => p.type === 'deb' || p.type === 'npm';
    // Trivy also lists the application's own package.json (outside node_modules); our inventory reports
    // dependencies only. That is a scanner difference, not a reading one, so it is set aside by path.
    const appManifest = (p: Package) => p.type === 'npm' && !p.path.includes('node_modules/');
    expect(trivy.packages.filter(appManifest).map((p) => p.path)).toEqual(
      image === 'npm-app' ? ['srv/app/package.json'] : [],
    );
    const ours = new Set(inv.packages.filter(wanted).map(key));
    const theirs = new Set(
      trivy.packages
        .filter(wanted)
        .filter((p) => !appManifest(p))
        .map(key),
    );
    expect([...theirs].filter((k) => !ours.has(k))).toEqual([]);
    expect([...ours].filter((k) => !theirs.has(k))).toEqual([]);
    expect(theirs.size).toBe(ours.size);
    // Trivy names the OS by its point release (12.x); the OSV ecosystem is the same.
    expect(trivy.os?.family).toBe('debian');
    expect(trivy.os?.version.split('.')[0]).toBe(inv.os?.version.split('.')[0]);
  });
});

describe('SBOM input: an SPDX made by Trivy (COMPUTED fixture)', () => {
  it('reads back to the same Debian packages, sources and OS as our scan of the debian image', async () => {
    const inv = await inventoryOf('debian');
    const trivy = await readSbom(join(fixtures, 'trivy-debian.spdx.json'));
    expect(trivy.packages.map(key).sort()).toEqual(inv.packages.map(key).sort());
    expect(trivy.os).toEqual({ family: 'debian', version: expect.stringMatching(/^12\./) });
    // The layer comes from Trivy's "LayerDiffID:" attribution: the image's only layer, by diff id.
    expect(new Set(trivy.packages.map((p) => p.layer))).toEqual(new Set([inv.layers[0]!.diffId]));
  });
});

describe('SBOM input: OS and source details', () => {
  const cdx = (components: unknown[]) =>
    JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.4', version: 1, components });

  it.each([
    ['debian-12', { family: 'debian', version: '12' }],
    ['alpine-3.19.1', { family: 'alpine', version: '3.19.1' }],
    ['opensuse-leap-15.5', { family: 'opensuse-leap', version: '15.5' }],
    ['cbl-mariner-2.0', { family: 'cbl-mariner', version: '2.0' }],
    ['ubuntu-22.04', { family: 'ubuntu', version: '22.04' }],
    ['sid', undefined],
  ])('distro qualifier %s gives OS %j', (distro, os) => {
    expect(osFromDistro(distro)).toEqual(os);
  });

  it.each([
    [
      'pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12',
      'Debian:12',
      'libc6',
      '2.36-9',
      { name: 'libc6', version: '2.36-9' },
    ],
    [
      'pkg:deb/debian/bsdutils@2.38.1-5?epoch=1&distro=debian-12&upstream=util-linux',
      'Debian:12',
      'bsdutils',
      '1:2.38.1-5',
      { name: 'util-linux' },
    ],
    [
      'pkg:deb/ubuntu/libgcrypt20@1.10.1-3ubuntu1?distro=ubuntu-22.04&upstream=libgcrypt20%401.10.1-3',
      'Ubuntu:22.04:LTS',
      'libgcrypt20',
      '1.10.1-3ubuntu1',
      { name: 'libgcrypt20', version: '1.10.1-3' },
    ],
    [
      'pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1',
      'Alpine:v3.19',
      'musl',
      '1.2.4-r2',
      { name: 'musl', version: '1.2.4-r2' },
    ],
    [
      'pkg:rpm/redhat/openssl@3.0.7-25.el9?epoch=1&distro=rhel-9.3',
      'Red Hat:enterprise_linux:9',
      'openssl',
      '3.0.7-25.el9',
      undefined,
    ],
    ['pkg:npm/%40babel/core@7.0.0', 'npm', 'core', '7.0.0', undefined],
    ['pkg:pypi/requests@2.31.0', 'PyPI', 'requests', '2.31.0', undefined],
    ['pkg:golang/golang.org/x/net@v0.17.0', 'Go', 'net', 'v0.17.0', undefined],
    ['pkg:hex/phoenix@1.7.0', 'hex', 'phoenix', '1.7.0', undefined],
    ['pkg:generic/openssl@3.0.13', 'generic', 'openssl', '3.0.13', undefined],
  ])('%s → %s %s %s', (purl, ecosystem, name, version, source) => {
    const inv = parseSbom(cdx([{ type: 'library', name, purl }]), 'one.json');
    expect(inv.packages).toHaveLength(1);
    const p = inv.packages[0]!;
    expect({ ecosystem: p.ecosystem, name: p.name, version: p.version, source: p.source }).toEqual({
      ecosystem,
      name,
      version,
      source,
    });
  });

  it('a package of a type we do not model stays out of the distro ecosystem, even next to OS packages', () => {
    const inv = parseSbom(
      cdx([
        { type: 'operating-system', name: 'debian', version: '12' },
        { type: 'library', purl: 'pkg:generic/openssl@3.0.13' },
      ]),
      'x',
    );
    expect(inv.packages.map((p) => `${p.type} ${p.ecosystem}`)).toEqual(['generic generic']);
  });

  it('rpm epoch from the purl is kept apart from the version, as the rpm analyzer does', () => {
    const inv = parseSbom(
      cdx([{ type: 'library', purl: 'pkg:rpm/redhat/openssl@3.0.7-25.el9?epoch=1&distro=rhel-9.3' }]),
      'x',
    );
    expect(inv.packages[0]!.epoch).toBe(1);
  });

  it('an operating-system component wins over the distro qualifier', () => {
    const inv = parseSbom(
      cdx([
        { type: 'operating-system', name: 'Debian', version: '11' },
        { type: 'library', purl: 'pkg:deb/debian/zlib1g@1.2.11?distro=debian-12' },
      ]),
      'x',
    );
    expect(inv.os).toEqual({ family: 'debian', version: '11' });
    expect(inv.packages[0]!.ecosystem).toBe('Debian:11');
  });

  it('nested CycloneDX components are read; components without purl or version are skipped with a warning', () => {
    const inv = parseSbom(
      cdx([
        { type: 'application', name: 'app', components: [{ type: 'library', purl: 'pkg:npm/lodash@4.17.15' }] },
        { type: 'library', purl: 'pkg:npm/minimist' },
        { type: 'library', purl: 'not a purl' },
      ]),
      'x',
    );
    expect(inv.packages.map((p) => p.purl)).toEqual(['pkg:npm/lodash@4.17.15']);
    expect(inv.warnings).toEqual([
      'SBOM x: 1 package(s) with an unreadable purl were skipped',
      'SBOM x: 1 package(s) without a version were skipped',
    ]);
  });

  it('SPDX 2.2 packages with PACKAGE_MANAGER purls and Trivy-style sourceInfo are read', () => {
    const doc = {
      spdxVersion: 'SPDX-2.2',
      packages: [
        { name: 'debian', versionInfo: '12.5', primaryPackagePurpose: 'OPERATING_SYSTEM' },
        {
          name: 'libc6',
          versionInfo: '2.36-9',
          sourceInfo: 'built package from: glibc 2.36-9',
          externalRefs: [
            {
              referenceCategory: 'PACKAGE_MANAGER',
              referenceType: 'purl',
              referenceLocator: 'pkg:deb/debian/libc6@2.36-9',
            },
          ],
        },
      ],
    };
    const inv = parseSbom(JSON.stringify(doc), 'x');
    expect(inv.packages.map(key)).toEqual(['Debian:12 deb -/libc6@2.36-9 src=glibc@2.36-9']);
  });
});

describe('SBOM input: bad files are refused with a clear error', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'palisade-sbom-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['not JSON', '{"bomFormat": "CycloneDX", ', /not JSON/],
    ['a JSON array', '[]', /not a CycloneDX or SPDX JSON document/],
    ['an unknown format', '{"hello": "world"}', /unknown format/],
    ['CycloneDX 1.2', '{"bomFormat": "CycloneDX", "specVersion": "1.2"}', /specVersion "1.2" is not supported/],
    ['SPDX 3.0', '{"spdxVersion": "SPDX-3.0"}', /SPDX-3.0 is not supported/],
  ])('%s', async (_name, text, message) => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, text);
    const err = await readSbom(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserInputError);
    expect((err as Error).message).toMatch(message);
  });

  it('components nested without end are refused, not recursed into', () => {
    let c: Record<string, unknown> = { type: 'library', purl: 'pkg:npm/a@1' };
    for (let i = 0; i < 100; i++) c = { type: 'library', components: [c] };
    expect(() =>
      parseSbom(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [c] }), 'deep'),
    ).toThrow(/nested deeper than 32/);
  });

  it('a file larger than the limit is refused before it is read', async () => {
    const file = join(dir, 'huge.json');
    writeFileSync(file, '');
    const { truncateSync } = await import('node:fs');
    truncateSync(file, MAX_SBOM_BYTES + 1);
    await expect(readSbom(file)).rejects.toBeInstanceOf(LimitExceededError);
  });

  it('a missing file and a directory are user errors', async () => {
    await expect(readSbom(join(dir, 'absent.json'))).rejects.toThrow(/cannot read \(ENOENT\)/);
    await expect(readSbom(dir)).rejects.toThrow(/not a regular file/);
  });
});
