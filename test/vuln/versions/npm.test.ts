import { describe, expect, it } from 'vitest';
import { nodeSemver, npm, npmGtr, npmLtr, npmSatisfies, npmValidRange } from '../../../src/vuln/versions/npm.js';
import { compareFile, load } from './helpers.js';

type Opts = { loose?: boolean; includePrerelease?: boolean };
type RangeRecord = { version: string; range: string; expected: boolean; options?: Opts };

describe('npm comparator and ranges', () => {
  it.each([
    ['version-npm-semver/comparisons.json', 31],
    ['version-npm-semver/equality.json', 37],
    // OSV's SemVer table (runs under npm, crates.io, Go and Hex): includes 30-digit numbers and
    // five-part versions that node-semver rejects but advisories contain.
    ['version-osv-scalibr-semantic/semver-versions.json', 86],
  ])('orders every pair in %s', (file, n) => {
    compareFile(npm, file, n);
  });

  it.each([
    ['range-include.json', 126, npmSatisfies],
    ['range-exclude.json', 98, npmSatisfies],
    ['version-gt-range.json', 56, npmGtr],
    ['version-not-gt-range.json', 80, npmGtr],
    ['version-lt-range.json', 58, npmLtr],
    ['version-not-lt-range.json', 83, npmLtr],
  ] as const)('evaluates every record of %s', (file, n, fn) => {
    const records = load<RangeRecord[]>(`version-npm-semver/${file}`);
    expect(records).toHaveLength(n);
    for (const r of records) expect(fn(r.version, r.range, r.options), `${r.version} ${r.range}`).toBe(r.expected);
  });

  it('canonicalises or rejects all 133 ranges (validRange)', () => {
    const records = load<{ range: string; canonical: string | null; options?: Opts }[]>(
      'version-npm-semver/range-parse.json',
    );
    expect(records).toHaveLength(133);
    for (const r of records) expect(npmValidRange(r.range, r.options), r.range).toBe(r.canonical);
  });

  it('parses the 22 valid versions into their parts and refuses the 10 invalid ones', () => {
    const valid = load<{ version: string; major: number; minor: number; patch: number; prerelease: unknown[] }[]>(
      'version-npm-semver/valid-versions.json',
    );
    expect(valid).toHaveLength(22);
    for (const r of valid) {
      const v = nodeSemver.parse(r.version);
      expect([v?.major, v?.minor, v?.patch, v?.prerelease], r.version).toEqual([
        r.major,
        r.minor,
        r.patch,
        r.prerelease,
      ]);
      expect(npm.valid(r.version)).toBe(true);
    }
    const invalid = load<{ value: string; valueType: string; options?: Opts }[]>(
      'version-npm-semver/invalid-versions.json',
    );
    expect(invalid).toHaveLength(10);
    for (const r of invalid) {
      // The fixture's regexp and object inputs are not strings; node-semver refuses them by type.
      const input: unknown =
        r.valueType === 'string' ? r.value : r.valueType === 'regexp' ? /a regexp/ : { toString: () => r.value };
      expect(nodeSemver.valid(input as string, r.options), r.value.slice(0, 40)).toBeNull();
    }
  });

  it('answers the comparator and range intersection vectors (34 + 54)', () => {
    const cs = load<{ c0: string; c1: string; expected: boolean; includePrerelease: boolean }[]>(
      'version-npm-semver/comparator-intersection.json',
    );
    expect(cs).toHaveLength(34);
    for (const r of cs) {
      const o = { includePrerelease: r.includePrerelease } as nodeSemver.RangeOptions & nodeSemver.Options;
      expect(new nodeSemver.Comparator(r.c0, o).intersects(new nodeSemver.Comparator(r.c1, o), o)).toBe(r.expected);
    }
    const rs = load<{ r0: string; r1: string; expected: boolean }[]>('version-npm-semver/range-intersection.json');
    expect(rs).toHaveLength(54);
    for (const r of rs) expect(nodeSemver.intersects(r.r0, r.r1), `${r.r0} ∩ ${r.r1}`).toBe(r.expected);
  });

  it('computes the 133 increments and 27 truncations', () => {
    const inc = load<
      {
        version: string;
        release: nodeSemver.ReleaseType;
        expected: string | null;
        options?: Opts;
        identifier?: string;
        identifierBase?: string | false;
      }[]
    >('version-npm-semver/increments.json');
    expect(inc).toHaveLength(133);
    for (const r of inc) {
      const got = nodeSemver.inc(r.version, r.release, r.options ?? {}, r.identifier, r.identifierBase as never);
      expect(got, `${r.version} ${r.release} ${r.identifier ?? ''}`).toBe(r.expected);
    }
    const tr = load<{ version: string; releaseType: string; expected: string | null; options?: Opts }[]>(
      'version-npm-semver/truncations.json',
    );
    expect(tr).toHaveLength(27);
    const truncate = (nodeSemver as unknown as { truncate: (v: string, t: string, o?: Opts) => unknown }).truncate;
    for (const r of tr) {
      const got = truncate(r.version, r.releaseType, r.options);
      expect(got === null ? null : String(got), `${r.version} ${r.releaseType}`).toBe(r.expected);
    }
  });

  it('orders advisory spellings node-semver rejects instead of failing', () => {
    expect(npm.compare('2.0.0rc2', '2.0.0')).toBe(-1);
    expect(npm.compare('0.0.0.1', '0.0.1')).toBe(-1);
    expect(npm.parse('not a version')).toBeNull();
  });

  it('orders plain X.Y.Z versions as node-semver does, and past its number limit by value', () => {
    const plain = ['0.0.0', '0.0.1', '0.1.0', '1.0.0', '1.2.3', '1.10.0', '2.0.0', '10.0.0', '1.2.30'];
    for (const a of plain) for (const b of plain) expect(npm.compare(a, b), `${a} ${b}`).toBe(nodeSemver.compare(a, b));
    // node-semver refuses numbers above 2^53-1; they still order by value, and pre-releases stay below.
    expect(npm.compare('1.2.9007199254740993', '1.2.9007199254740992')).toBe(1);
    expect(npm.compare('99999999999999999999.0.0', '1.0.0')).toBe(1);
    expect(npm.compare('1.2.3-rc.1', '1.2.3')).toBe(-1);
    // Spellings outside X.Y.Z still go through node-semver's loose normalisation.
    expect(npm.compare('=1.2.3', '1.2.3')).toBe(0);
    expect(npm.compare('v1.2.3', '1.2.3')).toBe(0);
  });
});
