import type { Cmp } from './types.js';
import { compareDigits, isDigitCode, makeComparator } from './util.js';

/**
 * Alpine apk versions, after apk-tools 3 `src/version.c`:
 * `digit{.digit}...{letter}{_suffix{#}}...{~hash}{-r#}`. A version is a list of typed tokens;
 * comparison walks both lists while the token types agree.
 */

// Token types in grammar order; the order matters for the tie-break at the end of compare.
const INITIAL_DIGIT = 0;
const DIGIT = 1;
const LETTER = 2;
const SUFFIX = 3;
const SUFFIX_NO = 4;
const COMMIT_HASH = 5;
const REVISION_NO = 6;
const END = 7;
const INVALID = 8;

// Suffix weights: pre-release suffixes below NONE, post-release above.
const SUFFIX_NONE = 5;
const SUFFIXES: Record<string, number> = { alpha: 1, beta: 2, pre: 3, rc: 4, cvs: 6, svn: 7, git: 8, hg: 9, p: 10 };

interface Token {
  readonly type: number;
  /** Digits (numbers), the letter, the suffix word or the hash, as written. */
  readonly text: string;
  readonly suffix: number;
}

export interface ApkVersion {
  readonly original: string;
  /** Tokens up to and including the terminating END or INVALID token. */
  readonly tokens: readonly Token[];
  readonly valid: boolean;
}

function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}
function isHex(c: number): boolean {
  return isDigitCode(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function tokenize(s: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const digits = (type: number): void => {
    const start = i;
    while (i < s.length && isDigitCode(s.charCodeAt(i))) i++;
    tokens.push(i === start ? { type: INVALID, text: '', suffix: 0 } : { type, text: s.slice(start, i), suffix: 0 });
  };
  digits(INITIAL_DIGIT);
  let prev = tokens[0]!.type;
  while (prev < END) {
    if (i >= s.length) {
      tokens.push({ type: END, text: '', suffix: 0 });
      break;
    }
    const c = s.charCodeAt(i);
    if (isLower(c)) {
      if (prev > DIGIT) tokens.push({ type: INVALID, text: '', suffix: 0 });
      else tokens.push({ type: LETTER, text: s[i]!, suffix: 0 });
      i++;
    } else if (c === 46 /* . */ || isDigitCode(c)) {
      if (c === 46) {
        if (prev > DIGIT) {
          tokens.push({ type: INVALID, text: '', suffix: 0 });
          break;
        }
        i++;
      }
      if (prev === INITIAL_DIGIT || prev === DIGIT) digits(DIGIT);
      else if (prev === SUFFIX) digits(SUFFIX_NO);
      else tokens.push({ type: INVALID, text: '', suffix: 0 });
    } else if (c === 95 /* _ */) {
      if (prev > SUFFIX_NO) {
        tokens.push({ type: INVALID, text: '', suffix: 0 });
        break;
      }
      i++;
      const start = i;
      while (i < s.length && isLower(s.charCodeAt(i))) i++;
      const word = s.slice(start, i);
      const w = SUFFIXES[word];
      tokens.push(w === undefined ? { type: INVALID, text: word, suffix: 0 } : { type: SUFFIX, text: word, suffix: w });
    } else if (c === 126 /* ~ */) {
      if (prev >= COMMIT_HASH) {
        tokens.push({ type: INVALID, text: '', suffix: 0 });
        break;
      }
      i++;
      const start = i;
      while (i < s.length && isHex(s.charCodeAt(i))) i++;
      tokens.push(
        i === start
          ? { type: INVALID, text: '', suffix: 0 }
          : { type: COMMIT_HASH, text: s.slice(start, i), suffix: 0 },
      );
    } else if (c === 45 /* - */) {
      if (prev >= REVISION_NO || s.charCodeAt(i + 1) !== 114 /* r */) {
        tokens.push({ type: INVALID, text: '', suffix: 0 });
        break;
      }
      i += 2;
      digits(REVISION_NO);
    } else {
      tokens.push({ type: INVALID, text: '', suffix: 0 });
    }
    prev = tokens[tokens.length - 1]!.type;
  }
  return tokens;
}

/** apk_blob_sort: bytes first, then the shorter string first. */
function blobSort(a: string, b: string): Cmp {
  return a < b ? -1 : a > b ? 1 : 0;
}

function tokenCompare(a: Token, b: Token): Cmp {
  switch (a.type) {
    case DIGIT:
      // A leading zero makes apk compare the digits as strings (Gentoo's rule for "1.01" < "1.1").
      if (a.text.charCodeAt(0) === 48 || b.text.charCodeAt(0) === 48) return blobSort(a.text, b.text);
      return compareDigits(a.text, b.text);
    case INITIAL_DIGIT:
    case SUFFIX_NO:
    case REVISION_NO:
      return compareDigits(a.text, b.text);
    case LETTER:
      return blobSort(a.text, b.text);
    case SUFFIX:
      return a.suffix < b.suffix ? -1 : a.suffix > b.suffix ? 1 : 0;
    default:
      return blobSort(a.text, b.text);
  }
}

function parseApk(v: string): ApkVersion {
  const tokens = tokenize(v);
  return { original: v, tokens, valid: tokens[tokens.length - 1]!.type === END };
}

/**
 * apk_version_compare_fuzzy(). With `fuzzy`, `a` matches when `b` is a prefix of it in tokens
 * (`3.6.1 ~ 3.6`).
 */
export function compareApkVersions(a: ApkVersion, b: ApkVersion, fuzzy = false): Cmp {
  const ta = a.tokens;
  const tb = b.tokens;
  let i = 0;
  for (; i < ta.length && i < tb.length; i++) {
    const x = ta[i]!;
    const y = tb[i]!;
    if (x.type !== y.type || x.type >= END) break;
    const r = tokenCompare(x, y);
    if (r !== 0) return r;
  }
  const x = ta[Math.min(i, ta.length - 1)]!;
  const y = tb[Math.min(i, tb.length - 1)]!;
  if (x.type === y.type) return 0;
  if (y.type === END && fuzzy) return 0;
  // Equal so far: the longer version is newer unless what follows is a pre-release suffix.
  if (x.type === SUFFIX && x.suffix < SUFFIX_NONE) return -1;
  if (y.type === SUFFIX && y.suffix < SUFFIX_NONE) return 1;
  if (x.type > y.type) return -1;
  if (y.type > x.type) return 1;
  return 0;
}

/** apk's dependency operators, including the fuzzy `~`, `<~` and `>~`. */
export function apkVersionMatch(version: string, op: string, ref: string): boolean {
  let mask = 0;
  for (const ch of op) {
    if (ch === '<') mask |= 1;
    else if (ch === '=') mask |= 2;
    else if (ch === '>') mask |= 4;
    else if (ch === '~') mask |= 2 | 8;
    else return false;
  }
  const r = compareApkVersions(parseApk(version), parseApk(ref), (mask & 8) !== 0);
  const bit = r < 0 ? 1 : r > 0 ? 4 : 2;
  return (mask & bit) !== 0;
}

// ---------------------------------------------------------------------------------------------
// Versions apk-tools 3 rejects still occur in OSV's Alpine data (`5.7.1p1-r0`: a digit after the
// letter, `1-r`). apk itself would order them token by token up to the bad token, which says
// little; for those we use the lenient reading OSV's own matcher (osv-scalibr `semantic`) uses,
// so our verdicts on such records agree with OSV's: numbers, letter, `_suffix#` list, `~hash`
// (ignored), `-r#`, and whatever remains. Two unreadable versions compare as strings.

const LENIENT_NUMBERS = /^(?:\d+\.?)*/;
const LENIENT_SUFFIX = /_(alpha|beta|pre|rc|cvs|svn|git|hg|p)(\d*)/g;
const LENIENT_HASH = /^~[0-9a-f]+/;
const LENIENT_BUILD = /^-r(\d*)/;
const LENIENT_WEIGHT: Record<string, number> = {
  alpha: 0,
  beta: 1,
  pre: 2,
  rc: 3,
  cvs: 5,
  svn: 6,
  git: 7,
  hg: 8,
  p: 9,
};

interface Lenient {
  readonly numbers: string[];
  readonly letter: string;
  readonly suffixes: { weight: number; n: string }[];
  readonly build: string;
  readonly remainder: string;
  readonly invalid: boolean;
}

function parseLenient(s: string): Lenient {
  let rest = s;
  const nums = LENIENT_NUMBERS.exec(rest)![0];
  const numbers = nums === '' ? [] : nums.split('.');
  rest = rest.slice(nums.length);
  let letter = '';
  if (rest.length > 0 && isLower(rest.charCodeAt(0))) {
    letter = rest[0]!;
    rest = rest.slice(1);
  }
  const suffixes: { weight: number; n: string }[] = [];
  for (const m of rest.matchAll(LENIENT_SUFFIX)) {
    suffixes.push({ weight: LENIENT_WEIGHT[m[1]!]!, n: m[2] || '0' });
    // Like the reference, only a suffix at the front is consumed from the remainder.
    if (rest.startsWith(m[0])) rest = rest.slice(m[0].length);
  }
  const hash = LENIENT_HASH.exec(rest);
  if (hash) rest = rest.slice(hash[0].length);
  let build = '0';
  let invalid = false;
  if (rest !== '') {
    const b = LENIENT_BUILD.exec(rest);
    if (b) {
      build = b[1] || '0';
      rest = rest.slice(b[0].length);
    } else invalid = true;
  }
  return { numbers, letter, suffixes, build, remainder: rest, invalid };
}

function compareLenient(a: string, b: string): Cmp {
  const x = parseLenient(a);
  const y = parseLenient(b);
  if (x.invalid && y.invalid) return a < b ? -1 : a > b ? 1 : 0;
  for (let i = 0; i < Math.max(x.numbers.length, y.numbers.length); i++) {
    const p = x.numbers[i] ?? '0';
    const q = y.numbers[i] ?? '0';
    const r =
      i > 0 && i < x.numbers.length && i < y.numbers.length && (p[0] === '0' || q[0] === '0')
        ? p < q
          ? -1
          : p > q
            ? 1
            : 0
        : compareDigits(p, q);
    if (r !== 0) return r;
  }
  if (x.letter !== y.letter) {
    if (x.letter === '') return -1;
    if (y.letter === '') return 1;
    return x.letter < y.letter ? -1 : 1;
  }
  for (let i = 0; i < Math.max(x.suffixes.length, y.suffixes.length); i++) {
    const p = x.suffixes[i] ?? { weight: 4, n: '0' };
    const q = y.suffixes[i] ?? { weight: 4, n: '0' };
    if (p.weight !== q.weight) return p.weight < q.weight ? -1 : 1;
    const r = compareDigits(p.n, q.n);
    if (r !== 0) return r;
  }
  const r = compareDigits(x.build, y.build);
  if (r !== 0) return r;
  if (x.remainder === '' && y.remainder !== '') return 1;
  if (x.remainder !== '' && y.remainder === '') return -1;
  return 0;
}

export const apk = makeComparator<ApkVersion>(
  'apk',
  // Non-empty input always parses: `valid` carries apk_version_validate(), and versions apk
  // rejects are still ordered (see above).
  (v) => (v.length === 0 ? null : parseApk(v)),
  (a, b) => (a.valid && b.valid ? compareApkVersions(a, b) : compareLenient(a.original, b.original)),
  (v) => parseApk(v).valid,
);
