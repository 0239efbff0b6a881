import { describe, expect, it } from 'vitest';
import { checkDpkgVersion, compareDpkgPart, compareDpkgString, dpkg } from '../../../src/vuln/versions/dpkg.js';
import { compareFile, load } from './helpers.js';

describe('dpkg comparator', () => {
  it.each([
    ['version-dpkg/dpkg-Dpkg_Version-data.json', 43],
    ['version-dpkg/apt-compareversion.json', 64],
    ['version-dpkg/go-deb-version.json', 16],
    ['version-osv-scalibr-semantic/debian-versions.json', 30],
    ['version-osv-scalibr-semantic/debian-versions-generated.json', 14442],
  ])('orders every pair in %s as dpkg does', (file, n) => {
    compareFile(dpkg, file, n);
  });

  it('sorts the three dpkg sort lists (whole version, one part, string fragment)', () => {
    const lists = load<{ kind: string; unsorted: string[]; expected: string[] }[]>('version-dpkg/dpkg-sort-lists.json');
    expect(lists).toHaveLength(3);
    const sorters = [(a: string, b: string) => dpkg.compare(a, b), compareDpkgPart, compareDpkgString];
    lists.forEach((list, i) => {
      expect([...list.unsorted].sort(sorters[i]), list.kind).toEqual(list.expected);
    });
  });

  type ParseRecord = {
    version: string;
    valid: boolean;
    severity?: 'error' | 'warning';
    epoch?: number;
    upstream?: string;
    revision?: string;
    has_epoch?: boolean;
    has_revision?: boolean;
  };
  const parses = load<ParseRecord[]>('version-dpkg/dpkg-parse.json');

  it('accepts, warns about or rejects all 94 parse vectors as dpkg does', () => {
    expect(parses).toHaveLength(94);
    for (const r of parses) {
      const { version, problem } = checkDpkgVersion(r.version);
      expect(dpkg.valid(r.version), JSON.stringify(r.version)).toBe(r.valid);
      if (r.severity) {
        expect(problem?.severity, JSON.stringify(r.version)).toBe(r.severity);
        // Errors make the version unusable; warnings still compare, like dpkg --compare-versions.
        expect(version === null, JSON.stringify(r.version)).toBe(r.severity === 'error');
      }
      if (r.epoch !== undefined)
        expect(version).toEqual({ epoch: r.epoch, upstream: r.upstream, revision: r.revision });
      if (r.has_epoch !== undefined) expect(r.version.includes(':')).toBe(r.has_epoch);
      if (r.has_revision !== undefined) expect(version!.revision !== '').toBe(r.has_revision);
    }
  });

  it('never throws from parse on garbage, and compare names the bad version', () => {
    for (const g of ['', ':', '-', 'é', '\u0000', 'a'.repeat(10_000)]) expect(() => dpkg.parse(g)).not.toThrow();
    expect(() => dpkg.compare('1.0-', '1.0')).toThrow(/not a valid dpkg version/);
  });
});
