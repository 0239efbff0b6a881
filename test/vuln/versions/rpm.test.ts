import { describe, expect, it } from 'vitest';
import { compareRpmTokens, parseRpmEvr, rpm, rpmTokens, rpmvercmp } from '../../../src/vuln/versions/rpm.js';
import { type CompareRecord, compareFailures, compareFile, load } from './helpers.js';

describe('rpm comparator', () => {
  it.each([
    ['version-rpm/rpm-rpmvercmp.json', 91],
    // rpm's own "arguably buggy" cases (non-ASCII letters all equal); rpm 4.18 still does this.
    ['version-rpm/rpm-rpmvercmp-disabled-oddities.json', 12],
    // The raw segment comparator only: this file includes "" and "1-2-3-4", which are not EVRs.
    ['version-rpm/go-rpm-version-rpmvercmp.json', 4489],
  ])('rpmvercmp orders every pair in %s, on strings and on pre-cut tokens', (file, n) => {
    const records = load<CompareRecord[]>(file);
    expect(records).toHaveLength(n);
    expect(compareFailures(records, rpmvercmp)).toEqual([]);
    expect(compareFailures(records, (a, b) => compareRpmTokens(rpmTokens(a), rpmTokens(b)))).toEqual([]);
  });

  it.each([
    ['version-rpm/go-rpm-version-evr.json', 76],
    ['version-osv-scalibr-semantic/redhat-versions.json', 165],
  ])('orders every [epoch:]version[-release] pair in %s as rpm 4.18 does', (file, n) => {
    compareFile(rpm, file, n);
  });

  // go-rpm-version's parse table is that library's lenient split (first '-', any epoch text,
  // whitespace kept). rpm's parseEVR splits at the last '-', takes only digits as epoch and we
  // refuse whitespace and empty versions. We assert rpm's split where the two agree (well-formed
  // EVRs) and rpm's documented answer where they do not.
  it('splits EVRs like rpm parseEVR (31 go-rpm-version inputs)', () => {
    const records = load<{ input: string; epoch: number; version: string; release: string }[]>(
      'version-rpm/go-rpm-version-parse.json',
    );
    expect(records).toHaveLength(31);
    const wellFormed = /^(?:\d+:)?[^\s:-]+(?:-[^\s-]*)?$/;
    const rpmOwn: Record<string, { epoch: string; version: string; release: string | null } | null> = {
      '': null,
      ' ': null,
      '0:': null,
      '  \t0:0-1': null,
      '0:0-1  \t': null,
      '\t  0:0-1  \t': null,
      '0:0 0-1': null,
      '0:0-0-0': { epoch: '0', version: '0-0', release: '0' },
      '0:0-0-0-0': { epoch: '0', version: '0-0-0', release: '0' },
      '0:0:0-0': { epoch: '0', version: '0:0', release: '0' },
      '0:0:0:0-0': { epoch: '0', version: '0:0:0', release: '0' },
      '0:0:0-0-0': { epoch: '0', version: '0:0-0', release: '0' },
      '0:0-0:0-0': { epoch: '0', version: '0-0:0', release: '0' },
      '-1:0-1': { epoch: '0', version: '-1:0', release: '1' },
      'a:0-0': { epoch: '0', version: 'a:0', release: '0' },
      'A:1-2': { epoch: '0', version: 'A:1', release: '2' },
      'A:1.2.3': { epoch: '0', version: 'A:1.2.3', release: null },
      // The last '-' is the first character: an empty version, which we refuse.
      '-1:1.2.3': null,
    };
    let agreed = 0;
    for (const r of records) {
      const got = parseRpmEvr(r.input);
      expect(rpm.valid(r.input)).toBe(got !== null);
      if (r.input in rpmOwn) {
        expect(got, JSON.stringify(r.input)).toEqual(rpmOwn[r.input]);
      } else {
        expect(wellFormed.test(r.input), JSON.stringify(r.input)).toBe(true);
        expect(got, r.input).toEqual({
          epoch: String(r.epoch),
          version: r.version,
          release: r.input.includes('-') ? r.release : null,
        });
        agreed++;
      }
    }
    expect(agreed).toBe(13);
  });

  it('orders tilde before and caret after the bare version', () => {
    expect(rpm.compare('1.0~rc1-1', '1.0-1')).toBe(-1);
    expect(rpm.compare('1.0^git1-1', '1.0-1')).toBe(1);
    expect(rpm.compare('1.0^git1-1', '1.0.1-1')).toBe(-1);
    expect(rpm.compare('1:1.0-1', '2.0-1')).toBe(1);
  });
});
