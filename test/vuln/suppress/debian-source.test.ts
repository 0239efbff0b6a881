import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding, Package } from '../../../src/core/types.js';
import { openImage } from '../../../src/image/index.js';
import { inventoryImage } from '../../../src/scan/index.js';
import { applySuppressions, parseIgnoreFile, parseVex } from '../../../src/vuln/suppress/index.js';
import { testImage } from '../../helpers/test-images.js';

const NOW = new Date('2026-06-01T00:00:00Z');

function finding(p: Package, id: string): Finding {
  return {
    kind: 'vulnerability',
    id,
    aliases: [],
    severity: 'HIGH',
    title: id,
    nist: '3.1.1',
    pci: ['6.3.1'],
    package: p.name,
    purl: p.purl,
    ecosystem: p.ecosystem,
    installedVersion: p.version,
    path: p.path,
  };
}

function openvex(statements: unknown[]): string {
  return JSON.stringify({
    '@context': 'https://openvex.dev/ns/v0.2.0',
    '@id': 'urn:uuid:0b4e3c6e-1111-4222-8333-944455556666',
    author: 'distro security team',
    timestamp: '2026-01-01T00:00:00Z',
    version: 1,
    statements,
  });
}

/** Distro VEX speaks of source packages (glibc), findings are about binary packages (libc6, libc-bin). */
describe('suppression of Debian packages of the debian test image', () => {
  let packages: Map<string, Package>;
  let findings: Finding[];

  beforeAll(async () => {
    const img = await openImage(`docker-archive:${join(testImage('debian'), 'image.docker.tar')}`);
    const inv = await inventoryImage(img).finally(() => img.close());
    packages = new Map(inv.packages.map((p) => [p.purl, p]));
    const bySource = (s: string) => inv.packages.filter((p) => p.type === 'deb' && p.source?.name === s);
    findings = [
      ...bySource('glibc').map((p) => finding(p, 'CVE-2023-4911')),
      ...bySource('util-linux').map((p) => finding(p, 'CVE-2024-28085')),
      ...bySource('zlib').map((p) => finding(p, 'CVE-2023-45853')),
    ];
    // libc6 and libc-bin; util-linux and the binaries built from it (bsdutils has an epoch); zlib1g.
    expect(findings.filter((f) => f.id === 'CVE-2023-4911').map((f) => f.package)).toEqual(['libc-bin', 'libc6']);
    expect(findings.some((f) => f.package === 'bsdutils')).toBe(true);
  });

  const suppressedPackages = (vex: string, id: string) =>
    applySuppressions(findings, packages, { vex: parseVex(vex, 'v.json') }, NOW)
      .suppressed.filter((s) => s.finding.id === id)
      .map((s) => s.finding.package)
      .sort();

  it.each([
    ['the source package purl scoped to the distro', 'pkg:deb/debian/glibc?distro=debian-12', ['libc-bin', 'libc6']],
    [
      'the source package purl with the source version',
      'pkg:deb/debian/glibc@2.36-9%2Bdeb12u14',
      ['libc-bin', 'libc6'],
    ],
    ['another Debian release', 'pkg:deb/debian/glibc?distro=debian-11', []],
    ['another source version', 'pkg:deb/debian/glibc@2.36-9%2Bdeb12u4', []],
    ['one binary package only', 'pkg:deb/debian/libc6?arch=amd64', ['libc6']],
    ['Ubuntu, not Debian', 'pkg:deb/ubuntu/glibc', []],
  ])('a not_affected statement for %s', (_name, purl, expected) => {
    const vex = openvex([
      {
        vulnerability: { name: 'CVE-2023-4911' },
        products: [{ '@id': purl }],
        status: 'not_affected',
        justification: 'vulnerable_code_not_present',
      },
    ]);
    expect(suppressedPackages(vex, 'CVE-2023-4911')).toEqual(expected);
  });

  it('without the package map, the purl upstream qualifier still names the source package (its version unknown)', () => {
    const none = new Map<string, Package>();
    const run = (purl: string) =>
      applySuppressions(
        findings,
        none,
        {
          vex: parseVex(
            openvex([
              {
                vulnerability: { name: 'CVE-2023-4911' },
                products: [{ '@id': purl }],
                status: 'not_affected',
                justification: 'vulnerable_code_not_present',
              },
            ]),
            'v.json',
          ),
        },
        NOW,
      ).suppressed.map((s) => s.finding.package);
    expect(run('pkg:deb/debian/glibc').sort()).toEqual(['libc-bin', 'libc6']);
    expect(run('pkg:deb/debian/glibc@2.36-9%2Bdeb12u14')).toEqual([]);
  });

  it('a Trivy-style purl with the epoch as a qualifier matches our bsdutils with the epoch in its version', () => {
    const bsdutils = [...packages.values()].find((p) => p.name === 'bsdutils')!;
    expect(bsdutils.version).toMatch(/^1:/);
    const plain = bsdutils.version.slice(2);
    const vex = openvex([
      {
        vulnerability: { name: 'CVE-2024-28085' },
        products: [{ identifiers: { purl: `pkg:deb/debian/bsdutils@${plain}?arch=amd64&epoch=1` } }],
        status: 'fixed',
      },
    ]);
    expect(suppressedPackages(vex, 'CVE-2024-28085')).toEqual(['bsdutils']);
  });

  it('an ignore entry naming the source package covers its binary packages only', () => {
    const ignore = parseIgnoreFile(
      'ignore:\n  - id: CVE-2024-28085\n    package: util-linux\n    reason: wall is not installed setgid\n',
      'i',
    );
    const r = applySuppressions(findings, packages, { ignore }, NOW);
    const names = r.suppressed.map((s) => s.finding.package).sort();
    expect(names).toContain('util-linux');
    expect(names).toContain('bsdutils');
    expect(r.suppressed.every((s) => s.finding.id === 'CVE-2024-28085')).toBe(true);
    expect(r.kept.filter((f) => f.id === 'CVE-2024-28085')).toEqual([]);
  });
});
