import { orderKeys } from './order-key.js';
import type { Cmp } from './types.js';
import { compareDigits, isAllDigits, makeComparator, stripZeros } from './util.js';

/**
 * Maven version order as the POM reference specifies it ("Version Order Specification"), the
 * ordering OSV evaluates Maven advisories with (osv.dev, osv-scalibr). It agrees with Maven 3's
 * ComparableVersion on real advisory data; Maven 4's ComparableVersion (`maven.ts`) differs for
 * qualifiers glued to numbers (`1.0.0-beta11` vs `1.0.0-beta.6`), so vulnerability ranges use this.
 *
 * Tokens are split at `.`, `-` and digit/letter transitions (which count as `-`), each keeping
 * its separator; trailing null tokens (0, "", final, ga, release) are trimmed before each `-`.
 */
interface Token {
  readonly prefix: '' | '.' | '-';
  readonly value: string;
  readonly isNull: boolean;
}

export type MavenSpecVersion = readonly Token[];

const KEYWORDS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];

function keywordIndex(v: string): number {
  const i = KEYWORDS.indexOf(v);
  return i >= 0 ? i : KEYWORDS.length;
}

function splitTransitions(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 1; i < s.length; i++) {
    const a = s.charCodeAt(i - 1);
    const b = s.charCodeAt(i);
    if ((a >= 48 && a <= 57) !== (b >= 48 && b <= 57)) {
      out.push(s.slice(start, i));
      start = i;
    }
  }
  out.push(s.slice(start));
  return out;
}

export function parseMavenSpec(input: string): MavenSpecVersion | null {
  if (input.length === 0) return null;
  const tokens: Token[] = [];
  let prefix: Token['prefix'] = '';
  let start = 0;
  const lower = input.toLowerCase();
  const pieces: { prefix: Token['prefix']; text: string }[] = [];
  for (let i = 0; i <= lower.length; i++) {
    const c = lower[i];
    if (i === lower.length || c === '.' || c === '-') {
      pieces.push({ prefix, text: lower.slice(start, i) });
      prefix = c as Token['prefix'];
      start = i + 1;
    }
  }
  for (const piece of pieces) {
    const parts = splitTransitions(piece.text);
    parts.forEach((part, j) => {
      let v = part === '' ? '0' : part;
      if (v === 'cr') v = 'rc';
      if (v === 'ga' || v === 'final' || v === 'release') v = '';
      // a/b/m directly followed by a number mean alpha/beta/milestone.
      if (j < parts.length - 1) {
        if (v === 'a') v = 'alpha';
        else if (v === 'b') v = 'beta';
        else if (v === 'm') v = 'milestone';
      }
      if (isAllDigits(v)) v = stripZeros(v) || '0';
      tokens.push({ prefix: j > 0 ? '-' : piece.prefix, value: v, isNull: false });
    });
  }
  // Trim trailing null values, then again before each remaining hyphen, from the end.
  let i = tokens.length - 1;
  while (i > 0) {
    const v = tokens[i]!.value;
    if (v === '0' || v === '') {
      tokens.splice(i, 1);
      i--;
      continue;
    }
    while (i >= 0 && tokens[i]!.prefix !== '-') i--;
    i--;
  }
  return tokens;
}

function nullFor(other: Token): Token {
  if (other.prefix === '-') return { prefix: '-', value: '', isNull: true };
  // "sp" is the one qualifier above the empty value, so pad against it with "".
  return { prefix: '.', value: other.value === 'sp' ? '' : '0', isNull: true };
}

/** `.qualifier` < `-qualifier` < `-number` < `.number`. */
function prefixOrder(t: Token): number {
  const numeric = isAllDigits(t.value);
  if (t.prefix === '-') return numeric ? 2 : 1;
  return numeric ? 3 : 0;
}

function tokenLess(a: Token, b: Token): boolean {
  if (a.prefix !== b.prefix) return prefixOrder(a) < prefixOrder(b);
  const an = isAllDigits(a.value);
  const bn = isAllDigits(b.value);
  if (an && bn) return compareDigits(a.value, b.value) < 0;
  // Numbers sort after qualifiers, unless they are padding.
  if (an && !a.isNull) return false;
  if (bn && !b.isNull) return true;
  const x = keywordIndex(a.value);
  const y = keywordIndex(b.value);
  if (x === KEYWORDS.length && y === KEYWORDS.length) return a.value < b.value;
  return x < y;
}

export function compareMavenSpec(a: MavenSpecVersion, b: MavenSpecVersion): Cmp {
  if (a.length === b.length && a.every((t, i) => t.prefix === b[i]!.prefix && t.value === b[i]!.value)) return 0;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const l = a[i] ?? nullFor(b[i]!);
    const r = b[i] ?? nullFor(a[i]!);
    if (l.prefix === r.prefix && l.value === r.value) continue;
    return tokenLess(l, r) ? -1 : 1;
  }
  return 1;
}

export const mavenSpec = makeComparator<MavenSpecVersion>(
  'maven-spec',
  parseMavenSpec,
  compareMavenSpec,
  undefined,
  orderKeys.padded,
);
