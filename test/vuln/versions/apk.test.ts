import { describe, expect, it } from 'vitest';
import { apk, apkVersionMatch } from '../../../src/vuln/versions/apk.js';
import { compareFile, load } from './helpers.js';

describe('apk comparator', () => {
  it.each([
    ['version-apk/apk-tools-version-compare.json', 738],
    ['version-osv-scalibr-semantic/alpine-versions-generated.json', 13979],
  ])('orders every pair in %s as apk does', (file, n) => {
    compareFile(apk, file, n);
  });

  // osv-scalibr's hand-written Alpine table includes versions apk-tools 3 rejects ("1-r", "0..1");
  // for those we follow OSV's lenient reading by design (see apk.ts), and the table pins it.
  it('orders versions apk rejects the way OSV does (osv-scalibr alpine-versions, 778 pairs)', () => {
    compareFile(apk, 'version-osv-scalibr-semantic/alpine-versions.json', 778);
  });

  it('evaluates the fuzzy operators ~, <~ and >~ (16 apk-tools vectors)', () => {
    const records = load<{ version: string; op: string; ref: string; expected: boolean }[]>(
      'version-apk/apk-tools-version-fuzzy.json',
    );
    expect(records).toHaveLength(16);
    for (const r of records)
      expect(apkVersionMatch(r.version, r.op, r.ref), `${r.version} ${r.op} ${r.ref}`).toBe(r.expected);
  });

  it('validates versions like apk_version_validate (31 apk-tools + 7 go-apk-version vectors)', () => {
    const records = [
      ...load<{ version: string; valid: boolean }[]>('version-apk/apk-tools-version-validity.json'),
      ...load<{ version: string; valid: boolean }[]>('version-apk/go-apk-version-parse.json'),
    ];
    expect(records).toHaveLength(38);
    for (const r of records) expect(apk.valid(r.version), r.version).toBe(r.valid);
  });

  it('rejects the empty string without throwing', () => {
    expect(apk.parse('')).toBeNull();
    expect(() => apk.compare('', '1.0')).toThrow(/not a valid apk version/);
  });
});
