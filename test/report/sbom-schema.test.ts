import { describe, expect, it } from 'vitest';
import { toCycloneDx } from '../../src/report/cyclonedx.js';
import { toSpdx } from '../../src/report/spdx.js';
import type { ImageInventory } from '../../src/scan/index.js';
import { errorsOf, schemas } from '../helpers/schemas.js';

/** An inventory with the awkward cases: scoped names, licence expressions, unknown licences, duplicates. */
const inventory: ImageInventory = {
  target: 'oci:img:latest',
  sourceKind: 'oci',
  names: ['example/app:1.0'],
  digest: `sha256:${'a'.repeat(64)}`,
  configDigest: `sha256:${'b'.repeat(64)}`,
  os: { family: 'debian', version: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
  layers: [{ digest: `sha256:${'c'.repeat(64)}` }],
  warnings: [],
  packages: [
    {
      ecosystem: 'Debian:12',
      type: 'deb',
      name: 'libc6',
      version: '2.36-9+deb12u4',
      arch: 'amd64',
      purl: 'pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc',
      source: { name: 'glibc', version: '2.36-9+deb12u4' },
      path: 'var/lib/dpkg/status',
      analyzer: 'dpkg',
      layer: `sha256:${'c'.repeat(64)}`,
      licenses: ['LGPL-2.1-or-later', 'GPL-2.0-only'],
    },
    {
      ecosystem: 'npm',
      type: 'npm',
      namespace: '@babel',
      name: 'core',
      version: '7.0.0',
      purl: 'pkg:npm/%40babel/core@7.0.0',
      path: 'app/package-lock.json',
      analyzer: 'npm-lock',
      licenses: ['(MIT OR Apache-2.0)'],
      dev: true,
    },
    {
      ecosystem: 'npm',
      type: 'npm',
      namespace: '@babel',
      name: 'core',
      version: '7.0.0',
      purl: 'pkg:npm/%40babel/core@7.0.0',
      path: 'app/package-lock.json',
      analyzer: 'npm-lock',
      licenses: ['Some Custom Licence (c) 1999'],
    },
    {
      ecosystem: 'PyPI',
      type: 'pypi',
      name: 'PyYAML',
      version: '6.0',
      purl: 'pkg:pypi/pyyaml@6.0',
      path: 'usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA',
      analyzer: 'python',
      licenses: ['mit'],
      ownedBy: 'pkg:deb/debian/python3-yaml@6.0-3?arch=amd64&distro=debian-12',
    },
  ],
};

describe('SBOM writers validate against the official schemas', () => {
  it('CycloneDX 1.6', () => {
    const validate = schemas.cyclonedx();
    const bom = toCycloneDx(inventory);
    expect(validate(bom), errorsOf(validate)).toBe(true);
    const comps = bom.components as { 'bom-ref': string; purl?: string; licenses?: unknown[] }[];
    expect(new Set(comps.map((c) => c['bom-ref'])).size).toBe(comps.length);
    expect(comps.find((c) => c.purl?.startsWith('pkg:pypi'))?.licenses).toEqual([{ license: { id: 'MIT' } }]);
    expect(comps.find((c) => c.purl?.startsWith('pkg:npm'))?.licenses).toEqual([{ expression: '(MIT OR Apache-2.0)' }]);
  });

  it('SPDX 2.3', () => {
    const validate = schemas.spdx();
    const doc = toSpdx(inventory);
    expect(validate(doc), errorsOf(validate)).toBe(true);
    const pkgs = doc.packages as { SPDXID: string; licenseDeclared: string }[];
    expect(new Set(pkgs.map((p) => p.SPDXID)).size).toBe(pkgs.length);
    // Unknown licence text becomes a LicenseRef with the text kept.
    const refs = doc.hasExtractedLicensingInfos as { licenseId: string; extractedText: string }[];
    expect(refs.map((r) => r.extractedText)).toEqual(['Some Custom Licence (c) 1999']);
    expect(pkgs.some((p) => p.licenseDeclared === refs[0]!.licenseId)).toBe(true);
    expect(pkgs.some((p) => p.licenseDeclared === 'LGPL-2.1-or-later AND GPL-2.0-only')).toBe(true);
  });
});
