import { MAX_DIGITS, numberKey } from './order-key.js';
import type { Cmp } from './types.js';
import { isDigitCode, makeComparator } from './util.js';

/** A Debian version `[epoch:]upstream[-revision]` (deb-version(7)). */
export interface DpkgVersion {
  readonly epoch: number;
  readonly upstream: string;
  readonly revision: string;
}

/**
 * A part (upstream or revision) split once into alternating non-digit and digit runs, digits
 * without leading zeros: `1.2~rc3` -> ['', '1', '.', '2', '~rc', '3']. Comparing these avoids
 * rescanning the strings on every comparison.
 */
type Segments = readonly string[];

interface ParsedDpkg extends DpkgVersion {
  readonly up: Segments;
  readonly rev: Segments;
}

function segment(s: string): Segments {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const a = i;
    while (i < s.length && !isDigitCode(s.charCodeAt(i))) i++;
    out.push(s.slice(a, i));
    while (i < s.length && s.charCodeAt(i) === 48) i++;
    const b = i;
    while (i < s.length && isDigitCode(s.charCodeAt(i))) i++;
    out.push(s.slice(b, i));
  }
  return out;
}

/** The weighted lexical comparison of two non-digit runs (see order()). */
function compareLex(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = order(a, i) - order(b, i);
    if (d !== 0) return d;
  }
  return 0;
}

function compareSegments(a: Segments, b: Segments): Cmp {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    if (x === y) continue;
    if ((i & 1) === 0) {
      const d = compareLex(x, y);
      if (d !== 0) return d < 0 ? -1 : 1;
    } else {
      // Digit runs without leading zeros: the longer is larger, else plain string order.
      if (x.length !== y.length) return x.length < y.length ? -1 : 1;
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

export type DpkgProblem = { severity: 'error' | 'warning'; message: string };

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Characters allowed besides letters and digits: . + ~ everywhere, - and : in upstream only. */
function allowedIn(s: string, upstream: boolean): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isDigitCode(c) || isAlpha(c) || c === 46 || c === 43 || c === 126) continue;
    if (upstream && (c === 45 || c === 58)) continue;
    return false;
  }
  return true;
}

function hasSpace(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 || (c >= 9 && c <= 13)) return true;
  }
  return false;
}

/**
 * Splits a version the way dpkg's parseversion() does: outer whitespace stripped, epoch before
 * the first ':', revision after the last '-'. Errors make dpkg refuse the version; warnings
 * (bad characters, upstream not starting with a digit) it still compares, so do we.
 */
export function checkDpkgVersion(input: string): { version: DpkgVersion | null; problem: DpkgProblem | null } {
  const s = input.trim();
  const err = (message: string) => ({ version: null, problem: { severity: 'error' as const, message } });
  if (s.length === 0) return err('version string is empty');
  if (hasSpace(s)) return err('version string has embedded spaces');
  let epoch = 0;
  let rest = s;
  const colon = s.indexOf(':');
  if (colon >= 0) {
    const e = s.slice(0, colon);
    if (e.length === 0) return err('epoch in version is empty');
    for (let i = 0; i < e.length; i++) if (!isDigitCode(e.charCodeAt(i))) return err('epoch in version is not number');
    epoch = Number(e);
    if (!Number.isSafeInteger(epoch) || epoch > 2147483647) return err('epoch in version is too big');
    rest = s.slice(colon + 1);
    if (rest.length === 0) return err('nothing after colon in version number');
  }
  let upstream = rest;
  let revision = '';
  const dash = rest.lastIndexOf('-');
  if (dash >= 0) {
    upstream = rest.slice(0, dash);
    revision = rest.slice(dash + 1);
    if (revision.length === 0) return err('revision number is empty');
  }
  if (upstream.length === 0) return err('version number is empty');
  const version: DpkgVersion = { epoch, upstream, revision };
  const warn = (message: string) => ({ version, problem: { severity: 'warning' as const, message } });
  if (!isDigitCode(upstream.charCodeAt(0))) return warn('version number does not start with digit');
  if (!allowedIn(upstream, true)) return warn('invalid character in version number');
  if (!allowedIn(revision, false)) return warn('invalid character in revision number');
  return { version, problem: null };
}

/** dpkg's character weight in the non-digit part: '~' before end, letters before other symbols. */
function order(s: string, i: number): number {
  if (i >= s.length) return 0;
  const c = s.charCodeAt(i);
  if (isDigitCode(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 126) return -1;
  return c + 256;
}

/** dpkg's verrevcmp(): alternating non-digit (weighted lexical) and digit (numeric) runs. */
export function compareDpkgPart(a: string, b: string): Cmp {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigitCode(a.charCodeAt(i))) || (j < b.length && !isDigitCode(b.charCodeAt(j)))) {
      const d = order(a, i) - order(b, j);
      if (d !== 0) return d < 0 ? -1 : 1;
      i++;
      j++;
    }
    // Numeric runs, compared in place (no substrings): skip zeros, longer run wins, then digits.
    while (i < a.length && a.charCodeAt(i) === 48) i++;
    while (j < b.length && b.charCodeAt(j) === 48) j++;
    const si = i;
    const sj = j;
    while (i < a.length && isDigitCode(a.charCodeAt(i))) i++;
    while (j < b.length && isDigitCode(b.charCodeAt(j))) j++;
    if (i - si !== j - sj) return i - si < j - sj ? -1 : 1;
    for (let k = 0; k < i - si; k++) {
      const d = a.charCodeAt(si + k) - b.charCodeAt(sj + k);
      if (d !== 0) return d < 0 ? -1 : 1;
    }
  }
  return 0;
}

/** The lexical half of verrevcmp applied to a whole string: digits weigh 0, '~' sorts first. */
export function compareDpkgString(a: string, b: string): Cmp {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = order(a, i) - order(b, i);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export function compareDpkgVersions(a: DpkgVersion, b: DpkgVersion): Cmp {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  return compareDpkgPart(a.upstream, b.upstream) || compareDpkgPart(a.revision, b.revision);
}

function parseDpkg(v: string): ParsedDpkg | null {
  const p = checkDpkgVersion(v).version;
  // An explicit literal: object spread is several times slower here, and this runs per version.
  return (
    p && {
      epoch: p.epoch,
      upstream: p.upstream,
      revision: p.revision,
      up: segment(p.upstream),
      rev: segment(p.revision),
    }
  );
}

function compareParsedDpkg(a: ParsedDpkg, b: ParsedDpkg): Cmp {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  return compareSegments(a.up, b.up) || compareSegments(a.rev, b.rev);
}

/**
 * dpkg's order as a string order (see order-key.ts), for every version written with the characters
 * Debian allows: the epoch as a number, then upstream and revision, each as its alternating runs.
 * A non-digit run is its characters by dpkg's weight ('~' first, then letters, then the other
 * symbols, mapped to the ASCII characters after `z`) closed by RUN_END, which sorts where dpkg's
 * end of run does: after '~', before anything else; a digit run is a number as order-key.ts writes
 * them (`@` for zero). Each part ends with PART_END, which meets only another part's non-digit
 * character (every part opens with a run pair, so both sides are aligned there) and sorts as an
 * end of run does.
 */
const TILDE = '!';
const PART_END = '"';
const RUN_END = '#';
/** The symbols after the letters, in dpkg's order (their ASCII order), in one byte each. */
const SYMBOL: Record<string, string> = { '+': '{', '-': '}', '.': '~', ':': '\x7f' };
/** Digits, letters and `.+~-:`: all Debian allows, none of them a summary separator (prefilter.ts). */
const KEYABLE = /^[0-9A-Za-z.+~:-]+$/;

function partKey(segments: Segments): string {
  let out = '';
  for (let i = 0; i < segments.length || i === 0; i += 2) {
    const run = segments[i] ?? '';
    for (let j = 0; j < run.length; j++) {
      const c = run.charCodeAt(j);
      out += c === 126 ? TILDE : isAlpha(c) ? run[j] : SYMBOL[run[j]!];
    }
    out += RUN_END + numberKey(segments[i + 1] ?? '');
  }
  return out + PART_END;
}

function dpkgOrderKey(v: string): string | null {
  if (v.length > 256) return null;
  const p = checkDpkgVersion(v).version;
  if (!p || !KEYABLE.test(p.upstream) || (p.revision !== '' && !KEYABLE.test(p.revision))) return null;
  const up = segment(p.upstream);
  const rev = segment(p.revision);
  for (let i = 1; i < up.length; i += 2) if (up[i]!.length > MAX_DIGITS) return null;
  for (let i = 1; i < rev.length; i += 2) if (rev[i]!.length > MAX_DIGITS) return null;
  return numberKey(String(p.epoch === 0 ? '' : p.epoch)) + partKey(up) + partKey(rev);
}

export const dpkg = makeComparator<ParsedDpkg>(
  'dpkg',
  parseDpkg,
  compareParsedDpkg,
  (v) => checkDpkgVersion(v).problem === null,
  dpkgOrderKey,
);
