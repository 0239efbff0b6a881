import { orderKeys } from './order-key.js';
import type { Cmp } from './types.js';
import { compareDigits, isAllDigits, makeComparator } from './util.js';

/**
 * Packagist (Composer) versions ordered like PHP's `version_compare()`: `-`, `_` and `+` become
 * dots, dots are inserted at digit/letter transitions, then parts compare as numbers or as
 * special forms: dev < alpha = a < beta = b < RC = rc < # (a number) < pl = p. A leading `v` is
 * dropped (Composer does). Unknown words rank with `dev` at the bottom, as in OSV's matcher.
 */
export type PackagistVersion = readonly string[];

export function parsePackagist(input: string): PackagistVersion | null {
  let v = input.trim();
  if (v.startsWith('v') || v.startsWith('V')) v = v.slice(1);
  if (v.length === 0) return null;
  v = v.replace(/[-_+]/g, '.');
  v = v.replace(/([^\d.])(\d)/g, '$1.$2');
  v = v.replace(/(\d)([^\d.])/g, '$1.$2');
  return v.split('.');
}

function specialWeight(s: string): number {
  if (s.startsWith('RC')) return 3;
  const specials = ['dev', 'a', 'b', 'rc', '#', 'p'];
  for (let i = 0; i < specials.length; i++) if (s.startsWith(specials[i]!)) return i;
  return 0;
}

function compareSpecial(a: string, b: string): Cmp {
  const x = specialWeight(a);
  const y = specialWeight(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function comparePackagist(a: PackagistVersion, b: PackagistVersion): Cmp {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    const xn = isAllDigits(x);
    const yn = isAllDigits(y);
    let r: Cmp;
    if (xn && yn) r = compareDigits(x, y);
    else if (!xn && !yn) r = compareSpecial(x, y);
    else if (xn) r = compareSpecial('#', y);
    else r = compareSpecial(x, '#');
    if (r !== 0) return r;
  }
  if (a.length > b.length) return isAllDigits(a[b.length]!) ? 1 : comparePackagist(a.slice(b.length), ['#']);
  if (a.length < b.length) return isAllDigits(b[a.length]!) ? -1 : comparePackagist(['#'], b.slice(a.length));
  return 0;
}

export const packagist = makeComparator<PackagistVersion>(
  'packagist',
  parsePackagist,
  comparePackagist,
  undefined,
  orderKeys.exact,
);
