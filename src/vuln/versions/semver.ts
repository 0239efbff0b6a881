import { orderKeys } from './order-key.js';
import type { Cmp } from './types.js';
import { compareDigits, compareStrings, isAllDigits, isDigitCode, makeComparator } from './util.js';

/**
 * "SemVer-like" versions as OSV's matcher reads them for npm, crates.io, Go, Hex, NuGet and Pub:
 * an optional leading `v`, any number of unbounded numeric components separated by dots, then
 * everything from the first other character is the pre-release/build tail (`-beta.2+abc`).
 * Schemes cap the numeric part (SemVer 3, NuGet 4); extra components join the tail.
 */
export interface SemverLike {
  readonly components: readonly string[];
  /** Tail starting at the first non-digit, non-dot character: `-rc.1+build`, `+incompatible`. */
  readonly tail: string;
  /** Pre-release identifiers of the tail (build metadata and the leading `-` removed). */
  readonly pre: readonly string[];
}

/** Splits a tail into its pre-release identifiers once, at parse time. */
export function preOf(tail: string): string[] {
  let x = tail;
  const plus = x.indexOf('+');
  if (plus >= 0) x = x.slice(0, plus);
  if (x.startsWith('-')) x = x.slice(1);
  return x === '' ? [] : x.split('.');
}

export function parseSemverLike(input: string, maxComponents: number): SemverLike | null {
  const s = input.startsWith('v') ? input.slice(1) : input;
  const components: string[] = [];
  let i = 0;
  let start = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (isDigitCode(c)) {
      i++;
      continue;
    }
    if (i > start) components.push(s.slice(start, i));
    if (c !== 46 /* . */) break;
    i++;
    start = i;
  }
  if (i >= s.length && i > start) components.push(s.slice(start, i));
  if (components.length === 0) return null;
  let tail = i < s.length ? s.slice(i) : '';
  if (components.length > maxComponents) {
    // Extra numeric components become part of the tail, as ".N" each.
    tail = `${components
      .slice(maxComponents)
      .map((c) => `.${c.replace(/^0+(?=\d)/, '')}`)
      .join('')}${tail}`;
    components.length = maxComponents;
  }
  return { components, tail, pre: preOf(tail) };
}

export function compareComponents(a: readonly string[], b: readonly string[]): Cmp {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const r = compareDigits(a[i] ?? '0', b[i] ?? '0');
    if (r !== 0) return r;
  }
  return 0;
}

/** SemVer 2 §11 precedence of pre-release identifiers (build metadata never counts). */
export function comparePrerelease(xs: readonly string[], ys: readonly string[]): Cmp {
  // A version without pre-release ranks above one with.
  if (xs.length === 0 || ys.length === 0) return xs.length === ys.length ? 0 : xs.length === 0 ? 1 : -1;
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const p = xs[i]!;
    const q = ys[i]!;
    const pn = isAllDigits(p);
    const qn = isAllDigits(q);
    let r: Cmp;
    if (pn && qn) r = compareDigits(p, q);
    else if (pn) r = -1;
    else if (qn) r = 1;
    else r = compareStrings(p, q);
    if (r !== 0) return r;
  }
  return xs.length === ys.length ? 0 : xs.length < ys.length ? -1 : 1;
}

export function compareSemverLike(a: SemverLike, b: SemverLike): Cmp {
  return compareComponents(a.components, b.components) || comparePrerelease(a.pre, b.pre);
}

/** crates.io, Hex and Go (Go's `+incompatible` is build metadata, so it does not count). */
export const semver = makeComparator<SemverLike>(
  'semver',
  (v) => parseSemverLike(v, 3),
  compareSemverLike,
  undefined,
  orderKeys.semverLike,
);

/** NuGet: four numeric components, case-insensitive labels. */
export const nuget = makeComparator<SemverLike>(
  'nuget',
  (v) => {
    const p = parseSemverLike(v, 4);
    if (!p) return null;
    const tail = p.tail.toLowerCase();
    return { components: p.components, tail, pre: preOf(tail) };
  },
  compareSemverLike,
  undefined,
  orderKeys.semverLike,
);

/** Pub (Dart): like SemVer, but build metadata orders too (`1.0.0 < 1.0.0+1`). */
export const pub = makeComparator<SemverLike>(
  'pub',
  (v) => parseSemverLike(v, 3),
  (a, b) => {
    const r = compareSemverLike(a, b);
    if (r !== 0) return r;
    const x = a.tail.indexOf('+');
    const y = b.tail.indexOf('+');
    return compareStrings(x >= 0 ? a.tail.slice(x + 1) : '', y >= 0 ? b.tail.slice(y + 1) : '');
  },
  undefined,
  orderKeys.semverLike,
);
