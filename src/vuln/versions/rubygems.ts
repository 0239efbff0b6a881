import { orderKeys } from './order-key.js';
import type { Cmp } from './types.js';
import { compareDigits, isAllDigits, isDigitCode, makeComparator } from './util.js';

/**
 * RubyGems `Gem::Version`: segments split at dots and at digit/letter transitions
 * (`1.0.a10` -> 1, 0, a, 10); a letter segment makes a pre-release and sorts below any number;
 * trailing zeros of the release part and of the pre-release part are insignificant.
 */
export type GemVersion = readonly string[];

const GEM_RE = /^\s*[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\s*$/;

function dropTrailingZeros(segs: string[]): string[] {
  let end = segs.length;
  while (end > 0 && segs[end - 1] === '0') end--;
  return segs.slice(0, end);
}

export function parseGem(input: string): GemVersion | null {
  const s = input.trim();
  if (s.length === 0) return null;
  // Gem::Version reads "1.0-beta" as "1.0.pre.beta".
  const text = s.replace(/-/g, '.pre.');
  const segs: string[] = [];
  for (const part of text.split('.')) {
    let start = 0;
    for (let i = 1; i <= part.length; i++) {
      if (i === part.length || isDigitCode(part.charCodeAt(i)) !== isDigitCode(part.charCodeAt(i - 1))) {
        segs.push(
          isAllDigits(part.slice(start, i)) ? part.slice(start, i).replace(/^0+(?=\d)/, '') : part.slice(start, i),
        );
        start = i;
      }
    }
  }
  // Canonical segments: numbers up to the first letter, then the rest; trailing zeros dropped in both.
  const firstAlpha = segs.findIndex((x) => !isAllDigits(x));
  if (firstAlpha < 0) return dropTrailingZeros(segs);
  return [...dropTrailingZeros(segs.slice(0, firstAlpha)), ...dropTrailingZeros(segs.slice(firstAlpha))];
}

export function compareGem(a: GemVersion, b: GemVersion): Cmp {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] ?? '0';
    const y = b[i] ?? '0';
    const xn = isAllDigits(x);
    const yn = isAllDigits(y);
    if (xn && yn) {
      const r = compareDigits(x, y);
      if (r !== 0) return r;
    } else if (!xn && !yn) {
      if (x !== y) return x < y ? -1 : 1;
    } else return xn ? 1 : -1;
  }
  return 0;
}

/** Whether Gem::Version would accept the string (ours also orders ones it would not). */
export function isGemVersion(v: string): boolean {
  return GEM_RE.test(v);
}

export const rubygems = makeComparator<GemVersion>('rubygems', parseGem, compareGem, undefined, orderKeys.padded);
