import { describe, expect, it } from 'vitest';
import { go, isGoPseudoVersion } from '../../../src/vuln/versions/go.js';
import { comparatorFor } from '../../../src/vuln/versions/index.js';
import { cran, hackage } from '../../../src/vuln/versions/numeric.js';
import { packagist } from '../../../src/vuln/versions/packagist.js';
import { rubygems } from '../../../src/vuln/versions/rubygems.js';
import { nuget, pub, semver } from '../../../src/vuln/versions/semver.js';
import { compareFile } from './helpers.js';

describe('other ecosystems (osv-scalibr semantic tables)', () => {
  it.each([
    [rubygems, 'rubygems-versions.json', 25],
    [rubygems, 'rubygems-versions-generated.json', 4098],
    [packagist, 'packagist-versions.json', 95],
    [packagist, 'packagist-versions-generated.json', 10630],
    [nuget, 'nuget-versions.json', 35],
    [pub, 'pub-versions.json', 100],
    [cran, 'cran-versions.json', 21],
    [cran, 'cran-versions-generated.json', 57],
    [hackage, 'hackage-versions.json', 11],
    // The SemVer table runs under npm, crates.io, Go and Hex.
    [semver, 'semver-versions.json', 86],
    [go, 'semver-versions.json', 86],
  ] as const)('%s orders every pair in %s', (c, file, n) => {
    compareFile(c, `version-osv-scalibr-semantic/${file}`, n);
  });

  it('orders Go pseudo-versions by the rules of the Go modules reference', () => {
    const ordered = [
      'v0.0.0-20191109021931-daa7c04131f5',
      'v0.0.0-20200101000000-000000000000',
      'v0.1.0',
      'v1.2.3',
      'v1.2.4-0.20191109021931-daa7c04131f5',
      'v1.2.4-beta',
      'v1.2.4-beta.0.20191109021931-daa7c04131f5',
      'v1.2.4',
    ];
    for (let i = 0; i + 1 < ordered.length; i++) expect(go.compare(ordered[i]!, ordered[i + 1]!), ordered[i]).toBe(-1);
    expect(go.compare('v2.0.0+incompatible', '2.0.0')).toBe(0);
    // Toolchain spellings against OSV's stdlib versions.
    expect(go.compare('go1.21.5', '1.21.5')).toBe(0);
    expect(go.compare('go1.22rc1', '1.22.0')).toBe(-1);
    expect(isGoPseudoVersion('v1.2.4-0.20191109021931-daa7c04131f5')).toBe(true);
    expect(isGoPseudoVersion('v1.2.4-beta')).toBe(false);
  });

  it.each([
    ['Debian:12', 'dpkg'],
    ['Ubuntu:22.04:LTS', 'dpkg'],
    ['Ubuntu:Pro:18.04:LTS', 'dpkg'],
    ['Alpine:v3.19', 'apk'],
    ['Wolfi', 'apk'],
    ['Chainguard', 'apk'],
    ['Red Hat:enterprise_linux:9::appstream', 'rpm'],
    ['Rocky Linux:9', 'rpm'],
    ['AlmaLinux:8', 'rpm'],
    ['SUSE:Linux Enterprise Server 15 SP5', 'rpm'],
    ['openSUSE:Tumbleweed', 'rpm'],
    ['npm', 'npm'],
    ['PyPI', 'pep440'],
    ['Maven', 'maven-spec'],
    ['Go', 'go'],
    ['crates.io', 'semver'],
    ['Hex', 'semver'],
    ['NuGet', 'nuget'],
    ['RubyGems', 'rubygems'],
    ['Packagist', 'packagist'],
    ['Pub', 'pub'],
    ['CRAN', 'cran'],
    ['Hackage', 'hackage'],
  ])('maps the ecosystem %s to the %s comparator', (eco, name) => {
    expect(comparatorFor(eco)?.name).toBe(name);
  });

  it('knows no comparator for an unknown ecosystem', () => {
    expect(comparatorFor('Android')).toBeUndefined();
    expect(comparatorFor('')).toBeUndefined();
  });
});
