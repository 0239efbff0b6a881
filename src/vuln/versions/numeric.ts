import { orderKeys } from './order-key.js';
import type { Cmp } from './types.js';
import { compareDigits, isAllDigits, makeComparator } from './util.js';

/**
 * Purely numeric schemes: CRAN (`1.2-3`, dots and dashes alike) and Hackage (`1.2.0.1`). Parts
 * compare as numbers, missing parts as 0, and on a tie the version with more parts is newer
 * (R's package_version and Haskell's Version both order `1.0 < 1.0.0`).
 */
export type NumericVersion = readonly string[];

function compareNumeric(a: NumericVersion, b: NumericVersion): Cmp {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const r = compareDigits(a[i] ?? '0', b[i] ?? '0');
    if (r !== 0) return r;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function parseSplit(input: string, sep: RegExp): NumericVersion | null {
  const parts = input.trim().split(sep);
  return parts.length > 0 && parts.every(isAllDigits) ? parts : null;
}

export const cran = makeComparator<NumericVersion>(
  'cran',
  (v) => parseSplit(v, /[.-]/),
  compareNumeric,
  undefined,
  orderKeys.exact,
);
export const hackage = makeComparator<NumericVersion>(
  'hackage',
  (v) => parseSplit(v, /\./),
  compareNumeric,
  undefined,
  orderKeys.exact,
);
