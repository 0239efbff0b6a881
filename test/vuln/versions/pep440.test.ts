import { describe, expect, it } from 'vitest';
import {
  baseVersion,
  isPrerelease,
  normalizePep440,
  parsePep440,
  parseSpecifier,
  parseSpecifierSet,
  pep440,
  publicVersion,
  specifierContains,
  specifierFilter,
  specifierSetContains,
  specifierSetFilter,
} from '../../../src/vuln/versions/pep440.js';
import { compareFile, load } from './helpers.js';

describe('PEP 440 versions', () => {
  it.each([
    ['version-pep440/packaging-compare-all-pairs.json', 8464],
    ['version-pep440/packaging-compare-extra.json', 1],
    ['version-osv-scalibr-semantic/pypi-versions.json', 37],
    ['version-osv-scalibr-semantic/pypi-versions-generated.json', 12375],
  ])('orders every pair in %s as packaging does', (file, n) => {
    compareFile(pep440, file, n);
  });

  it('sorts packaging’s 92-version list into its order', () => {
    const sorted = load<string[]>('version-pep440/packaging-versions-sorted.json');
    expect(sorted).toHaveLength(92);
    expect([...sorted].reverse().sort((a, b) => pep440.compare(a, b))).toEqual(sorted);
  });

  it('normalises the 149 spellings and rejects the 20 invalid strings', () => {
    const norm = load<{ input: string; normalized: string }[]>('version-pep440/packaging-normalize.json');
    expect(norm).toHaveLength(149);
    for (const r of norm) expect(normalizePep440(parsePep440(r.input)!), r.input).toBe(r.normalized);
    const invalid = load<string[]>('version-pep440/packaging-invalid.json');
    expect(invalid).toHaveLength(20);
    for (const s of invalid) {
      expect(parsePep440(s), s).toBeNull();
      expect(pep440.valid(s), s).toBe(false);
    }
  });

  it('exposes the version attributes packaging tests (public, base_version, epoch, release, ...)', () => {
    const attrs = load<Record<string, { version: string; expected: unknown }[]>>(
      'version-pep440/packaging-version-attributes.json',
    );
    const get: Record<string, (v: NonNullable<ReturnType<typeof parsePep440>>) => unknown> = {
      public: publicVersion,
      base_version: baseVersion,
      epoch: (v) => Number(v.epoch),
      release: (v) => v.release.map(Number),
      local: (v) => (v.local ? v.local.join('.') : null),
      pre: (v) => (v.pre ? [v.pre[0], Number(v.pre[1])] : null),
      dev: (v) => (v.dev === null ? null : Number(v.dev)),
      post: (v) => (v.post === null ? null : Number(v.post)),
      is_prerelease: isPrerelease,
      is_devrelease: (v) => v.dev !== null,
      is_postrelease: (v) => v.post !== null,
    };
    let n = 0;
    for (const [attr, records] of Object.entries(attrs)) {
      for (const r of records) {
        expect(get[attr]!(parsePep440(r.version)!), `${attr}(${r.version})`).toEqual(r.expected);
        n++;
      }
    }
    expect(n).toBe(288);
  });
});

describe('PEP 440 specifiers', () => {
  it('evaluates the 246 Specifier.contains vectors (prereleases=True)', () => {
    const records = load<{ version: string; specifier: string; prereleases: boolean; expected: boolean }[]>(
      'version-pep440/packaging-specifier-contains.json',
    );
    expect(records).toHaveLength(246);
    for (const r of records) {
      const spec = parseSpecifier(r.specifier, r.prereleases);
      expect(spec, r.specifier).not.toBeNull();
      expect(specifierContains(spec!, r.version), `${r.version} in ${r.specifier}`).toBe(r.expected);
    }
  });

  it('applies the 58 pre-release rules of Specifier.contains', () => {
    const records = load<
      {
        specifier: string;
        version: string;
        specifier_prereleases: boolean | null;
        contains_prereleases: boolean | null;
        expected: boolean;
      }[]
    >('version-pep440/packaging-specifier-prereleases.json');
    expect(records).toHaveLength(58);
    for (const r of records) {
      const spec = parseSpecifier(r.specifier, r.specifier_prereleases)!;
      expect(specifierContains(spec, r.version, r.contains_prereleases), JSON.stringify(r)).toBe(r.expected);
    }
  });

  it('accepts the valid and rejects the invalid specifiers', () => {
    const v = load<{ valid: string[]; invalid: string[] }>('version-pep440/packaging-specifier-validity.json');
    for (const s of v.valid) expect(parseSpecifier(s), s).not.toBeNull();
    for (const s of v.invalid) expect(parseSpecifier(s), s).toBeNull();
    expect([v.valid.length, v.invalid.length]).toEqual([9, 31]);
  });

  type FilterRecord = {
    specifier: string;
    specifier_prereleases: boolean | null;
    prereleases: boolean | null;
    input: (string | { __repr__: string })[];
    expected: (string | { __repr__: string })[];
  };
  // A `Version('2.0')` object in the Python table is the string '2.0' here.
  const text = (x: string | { __repr__: string }) => (typeof x === 'string' ? x : /'(.*)'/.exec(x.__repr__)![1]!);
  const tables = load<{
    'Specifier.filter': FilterRecord[];
    'SpecifierSet.filter': FilterRecord[];
    'SpecifierSet.contains_installed_prereleases': {
      specifier: string;
      version: string;
      spec_prereleases: boolean | null;
      contains_prereleases: boolean | null;
      installed: boolean;
      expected: boolean;
    }[];
  }>('version-pep440/packaging-specifierset-filter.json');

  it('filters like Specifier.filter', () => {
    expect(tables['Specifier.filter']).toHaveLength(40);
    for (const r of tables['Specifier.filter']) {
      const spec = parseSpecifier(r.specifier, r.specifier_prereleases)!;
      expect(specifierFilter(spec, r.input.map(text), r.prereleases), JSON.stringify(r)).toEqual(r.expected.map(text));
    }
  });

  it('filters like SpecifierSet.filter, keeping non-PEP 440 strings only for === or an empty set', () => {
    expect(tables['SpecifierSet.filter']).toHaveLength(70);
    for (const r of tables['SpecifierSet.filter']) {
      const set = parseSpecifierSet(r.specifier, r.specifier_prereleases)!;
      expect(specifierSetFilter(set, r.input.map(text), r.prereleases), JSON.stringify(r)).toEqual(
        r.expected.map(text),
      );
    }
  });

  it('lets an installed pre-release satisfy a set (SpecifierSet.contains(installed=True))', () => {
    const records = tables['SpecifierSet.contains_installed_prereleases'];
    expect(records.length).toBe(41);
    for (const r of records) {
      const set = parseSpecifierSet(r.specifier, r.spec_prereleases)!;
      expect(specifierSetContains(set, r.version, r.contains_prereleases, r.installed), JSON.stringify(r)).toBe(
        r.expected,
      );
    }
  });
});
