import { describe, expect, it } from 'vitest';
import { type Comparator, comparators } from '../../../src/vuln/versions/index.js';
import { prng } from '../../helpers/prng.js';
import { type CompareRecord, compareFailures, load } from './helpers.js';

/**
 * A comparator's orderKey stands in for the comparator on plain spellings (prefilter, version lists):
 * for the spellings it accepts, the keys' string order must be the comparator's order, ties included.
 * Checked here against the comparator itself over every dotted version of up to three numbers drawn
 * from a set with leading and trailing zeros, plus random longer ones.
 */
const withKey = comparators.filter((c): c is Comparator & { orderKey: (v: string) => string | null } =>
  Boolean(c.orderKey),
);

function dottedVersions(): string[] {
  const numbers = ['0', '00', '1', '01', '001', '2', '10', '010', '100'];
  const out: string[] = [...numbers];
  for (const a of numbers) for (const b of numbers) out.push(`${a}.${b}`);
  for (const a of numbers) for (const b of numbers) for (const c of ['0', '00', '1', '10']) out.push(`${a}.${b}.${c}`);
  const rand = prng(7);
  for (let i = 0; i < 300; i++) {
    const n = 4 + Math.floor(rand() * 3);
    out.push(
      Array.from({ length: n }, () =>
        rand() < 0.5 ? '0' : String(Math.floor(rand() * 3)).padStart(1 + Math.floor(rand() * 2), '0'),
      ).join('.'),
    );
  }
  return [...new Set(out)];
}

describe('version order keys', () => {
  it('exist for every scheme whose plain dotted versions order by number', () => {
    expect(withKey.map((c) => c.name).sort()).toEqual([
      'cran',
      'dpkg',
      'go',
      'hackage',
      'maven-spec',
      'npm',
      'nuget',
      'packagist',
      'pep440',
      'pub',
      'rubygems',
      'semver',
    ]);
  });

  const versions = dottedVersions();

  it.each(withKey.map((c) => [c.name, c] as const))('%s: keys order exactly as the comparator does', (_, cmp) => {
    const keyed = versions.map((v) => [v, cmp.orderKey(v)] as const).filter(([, k]) => k !== null);
    // Every plain spelling up to the scheme's component limit has a key.
    expect(keyed.length).toBeGreaterThan(100);
    let equalPairs = 0;
    for (const [a, ka] of keyed)
      for (const [b, kb] of keyed) {
        const want = cmp.compare(a, b);
        if (want === 0 && a !== b) equalPairs++;
        const got = ka! < kb! ? -1 : ka! > kb! ? 1 : 0;
        if (got !== want) expect.fail(`${cmp.name}: ${a} vs ${b}: keys ${ka} ${kb} order ${got}, compare ${want}`);
      }
    // The set holds spellings that are equal without being identical (leading zeros at least).
    expect(equalPairs).toBeGreaterThan(100);
  });

  it.each(withKey.filter((c) => c.name !== 'dpkg').map((c) => [c.name, c] as const))(
    '%s: no key for any other spelling',
    (_, cmp) => {
      for (const v of [
        '1.0-1',
        'v1.0',
        '1.0rc1',
        '1:1.0',
        ' 1.0',
        '1.0 ',
        '1.0.',
        '.1',
        '',
        '1..0',
        '1.0+b1',
        '1.0~rc1',
        '1!2.0',
        'a',
      ])
        expect(cmp.orderKey(v), JSON.stringify(v)).toBeNull();
    },
  );

  describe('dpkg: a key for every version written with the characters Debian allows', () => {
    const dpkg = withKey.find((c) => c.name === 'dpkg')!;
    const key = (v: string): string => {
      const k = dpkg.orderKey(v);
      if (k === null) throw new Error(`no key for ${JSON.stringify(v)}`);
      return k;
    };
    const byKey = (a: string, b: string) => {
      const ka = key(a);
      const kb = key(b);
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    };

    it.each([
      ['version-dpkg/dpkg-Dpkg_Version-data.json', 40],
      ['version-dpkg/apt-compareversion.json', 64],
      ['version-dpkg/go-deb-version.json', 16],
      ['version-osv-scalibr-semantic/debian-versions.json', 30],
      ['version-osv-scalibr-semantic/debian-versions-generated.json', 14_000],
    ])('keys order every pair of %s as dpkg does', (file, atLeast) => {
      const pairs = load<CompareRecord[]>(file).filter(
        (r) => dpkg.orderKey(r.a) !== null && dpkg.orderKey(r.b) !== null,
      );
      expect(pairs.length).toBeGreaterThanOrEqual(atLeast);
      expect(compareFailures(pairs, byKey)).toEqual([]);
    });

    it('keys order every pair of Debian spellings exactly as the comparator does', () => {
      const parts = [
        '',
        '0',
        '00',
        '1',
        '01',
        '1.0',
        '1.00',
        '1.0.0',
        '1a',
        '1a0',
        '1~',
        '1~~',
        '1~rc1',
        '1+b1',
        '1.0+dfsg',
        'a',
        '1-',
        '1:',
      ];
      const revisions = ['', '0', '1', '1~', '1+deb12u1', '1ubuntu0.1', '0.1'];
      const versions: string[] = [];
      for (const up of parts)
        for (const rev of revisions)
          for (const epoch of ['', '0:', '1:', '01:']) {
            const v = `${epoch}${up}${rev === '' ? '' : `-${rev}`}`;
            if (dpkg.orderKey(v) !== null) versions.push(v);
          }
      expect(versions.length).toBeGreaterThan(300);
      let equal = 0;
      for (const a of versions)
        for (const b of versions) {
          const want = dpkg.compare(a, b);
          if (want === 0 && a !== b) equal++;
          if (byKey(a, b) !== want) expect.fail(`${a} vs ${b}: keys ${key(a)} ${key(b)}, compare ${want}`);
        }
      expect(equal).toBeGreaterThan(100);
    });

    it('gives no key where the comparator reads no version, or to characters a summary cannot hold', () => {
      for (const v of ['', '1 0', ':1', '1:', 'a:1.0', '1.0-', '1.0,1', '1.0|1', '1.0=1', '1.0;1', '1.0_1', '1.0é'])
        expect(dpkg.orderKey(v), JSON.stringify(v)).toBeNull();
      expect(key(' 1.0-1 ')).toBe(key('1.0-1'));
    });
  });

  it('treats trailing zeros as each scheme does', () => {
    const key = (name: string, v: string) => comparators.find((c) => c.name === name)!.orderKey!(v);
    expect(key('pep440', '1.0')).toBe(key('pep440', '1'));
    expect(key('npm', '1.2')).toBe(key('npm', '1.2.0'));
    expect(key('dpkg', '1.0')).not.toBe(key('dpkg', '1'));
    expect(key('dpkg', '1.00')).toBe(key('dpkg', '1.0'));
    // SemVer-like schemes read a fourth number as part of the tail: no key.
    expect(key('npm', '1.2.3.4')).toBeNull();
  });
});
