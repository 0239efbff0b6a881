import { UserInputError } from '../../core/errors.js';
import type { Cmp, Comparator } from './types.js';

export function sign(n: number): Cmp {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

export function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function isAllDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isDigitCode(s.charCodeAt(i))) return false;
  return true;
}

/** Strips leading zeros of a digit string ("007" -> "7", "000" -> ""). */
export function stripZeros(s: string): string {
  let i = 0;
  while (i < s.length && s.charCodeAt(i) === 48) i++;
  return i === 0 ? s : s.slice(i);
}

/**
 * Compares two strings of ASCII digits as unbounded integers, without BigInt: after stripping
 * leading zeros the longer one is larger, equal lengths compare lexically.
 */
export function compareDigits(a: string, b: string): Cmp {
  const x = stripZeros(a);
  const y = stripZeros(b);
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Byte-wise (code unit) string comparison, like C's strcmp on ASCII. */
export function compareStrings(a: string, b: string): Cmp {
  return a < b ? -1 : a > b ? 1 : 0;
}

const CACHE_LIMIT = 50_000;

/**
 * Builds a Comparator from a parser and a comparison of parsed values. Parsed results (and
 * failures) are cached in a bounded map: vulnerability data repeats the same few versions
 * (`0`, fixed versions) millions of times.
 */
export function makeComparator<P>(
  name: string,
  parse: (v: string) => P | null,
  compareParsed: (a: P, b: P) => Cmp,
  /** Stricter than "parses", for schemes whose tools compare versions they would warn about. */
  valid?: (v: string) => boolean,
  orderKey?: (v: string) => string | null,
): Comparator<P> {
  const cache = new Map<string, P | null>();
  const cachedParse = (v: string): P | null => {
    if (typeof v !== 'string') return null;
    const hit = cache.get(v);
    if (hit !== undefined || cache.has(v)) return hit ?? null;
    let p: P | null;
    try {
      p = parse(v);
    } catch {
      p = null;
    }
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(v, p);
    return p;
  };
  const must = (v: string): P => {
    const p = cachedParse(v);
    if (p === null) throw new UserInputError(`not a valid ${name} version: ${JSON.stringify(String(v).slice(0, 100))}`);
    return p;
  };
  return {
    name,
    parse: cachedParse,
    compareParsed,
    compare: (a, b) => compareParsed(must(a), must(b)),
    valid: valid ?? ((v) => cachedParse(v) !== null),
    ...(orderKey ? { orderKey } : {}),
  };
}
