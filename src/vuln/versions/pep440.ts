import { orderKeys } from './order-key.js';
import type { Cmp } from './types.js';
import { compareDigits, isAllDigits, makeComparator, stripZeros } from './util.js';

/**
 * PEP 440 versions and specifiers, following PyPA `packaging` (the reference implementation):
 * parsing with its normalisations (`1.0-dev` -> `1.0.dev0`, `1.0c1` -> `1.0rc1`, ...), its
 * ordering key, and `Specifier`/`SpecifierSet` membership including the pre-release rules.
 */
export interface Pep440Version {
  readonly epoch: string;
  /** Release numbers without leading zeros, as written (trailing zeros kept). */
  readonly release: readonly string[];
  readonly pre: readonly [letter: 'a' | 'b' | 'rc', n: string] | null;
  readonly post: string | null;
  readonly dev: string | null;
  /** Local segments, lower-cased, numbers without leading zeros. */
  readonly local: readonly string[] | null;
}

const VERSION_RE =
  /^\s*v?(?:(?:(\d+)!)?(\d+(?:\.\d+)*)([-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?(\d+)?)?((?:-(\d+))|(?:[-_.]?(post|rev|r)[-_.]?(\d+)?))?([-_.]?(dev)[-_.]?(\d+)?)?)(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$/i;

const PRE_LETTER: Record<string, 'a' | 'b' | 'rc'> = {
  a: 'a',
  alpha: 'a',
  b: 'b',
  beta: 'b',
  c: 'rc',
  pre: 'rc',
  preview: 'rc',
  rc: 'rc',
};

function num(s: string | undefined): string {
  return s === undefined ? '0' : stripZeros(s) || '0';
}

export function parsePep440(input: string): Pep440Version | null {
  const m = VERSION_RE.exec(input);
  if (!m) return null;
  const local = m[13]
    ? m[13]
        .toLowerCase()
        .split(/[-_.]/)
        .map((p) => (isAllDigits(p) ? num(p) : p))
    : null;
  return {
    epoch: num(m[1]),
    release: m[2]!.split('.').map((p) => num(p)),
    pre: m[4] ? [PRE_LETTER[m[4].toLowerCase()]!, num(m[5])] : null,
    post: m[6] ? num(m[7] ?? m[9]) : null,
    dev: m[10] ? num(m[12]) : null,
    local,
  };
}

export function isPrerelease(v: Pep440Version): boolean {
  return v.pre !== null || v.dev !== null;
}

/** The normalised public part: `1!2.0rc1.post2.dev3`. */
export function publicVersion(v: Pep440Version): string {
  let s = v.epoch === '0' ? '' : `${v.epoch}!`;
  s += v.release.join('.');
  if (v.pre) s += v.pre[0] + v.pre[1];
  if (v.post !== null) s += `.post${v.post}`;
  if (v.dev !== null) s += `.dev${v.dev}`;
  return s;
}

export function baseVersion(v: Pep440Version): string {
  return (v.epoch === '0' ? '' : `${v.epoch}!`) + v.release.join('.');
}

/** Normalised form, as `str(packaging.version.Version(v))`. */
export function normalizePep440(v: Pep440Version): string {
  return publicVersion(v) + (v.local ? `+${v.local.join('.')}` : '');
}

const PRE_RANK = { a: 0, b: 1, rc: 2 } as const;

function compareRelease(a: readonly string[], b: readonly string[]): Cmp {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const r = compareDigits(a[i] ?? '0', b[i] ?? '0');
    if (r !== 0) return r;
  }
  return 0;
}

/** packaging's _cmpkey ordering. */
export function comparePep440(a: Pep440Version, b: Pep440Version): Cmp {
  let r = compareDigits(a.epoch, b.epoch) || compareRelease(a.release, b.release);
  if (r !== 0) return r;
  // Pre-release: a bare dev release sorts before any pre-release, no pre-release after all.
  const preKey = (v: Pep440Version): [number, number, string] =>
    v.pre ? [1, PRE_RANK[v.pre[0]], v.pre[1]] : v.post === null && v.dev !== null ? [0, 0, '0'] : [2, 0, '0'];
  const pa = preKey(a);
  const pb = preKey(b);
  r =
    pa[0] !== pb[0]
      ? pa[0] < pb[0]
        ? -1
        : 1
      : pa[1] !== pb[1]
        ? pa[1] < pb[1]
          ? -1
          : 1
        : compareDigits(pa[2], pb[2]);
  if (r !== 0) return r;
  // Post-release: none sorts first.
  if (a.post !== b.post) {
    if (a.post === null) return -1;
    if (b.post === null) return 1;
    r = compareDigits(a.post, b.post);
    if (r !== 0) return r;
  }
  // Dev release: none sorts last.
  if (a.dev !== b.dev) {
    if (a.dev === null) return 1;
    if (b.dev === null) return -1;
    r = compareDigits(a.dev, b.dev);
    if (r !== 0) return r;
  }
  // Local: none sorts first; numeric segments above alphanumeric ones; longer wins on a tie.
  if (a.local === null || b.local === null) return a.local === b.local ? 0 : a.local === null ? -1 : 1;
  const n = Math.min(a.local.length, b.local.length);
  for (let i = 0; i < n; i++) {
    const x = a.local[i]!;
    const y = b.local[i]!;
    const xn = isAllDigits(x);
    const yn = isAllDigits(y);
    if (xn && yn) r = compareDigits(x, y);
    else if (xn !== yn) r = xn ? 1 : -1;
    else r = x < y ? -1 : x > y ? 1 : 0;
    if (r !== 0) return r;
  }
  return a.local.length === b.local.length ? 0 : a.local.length < b.local.length ? -1 : 1;
}

/**
 * A pre-PEP 440 version (`0.1-bulbasaur`, `2004d`), as packaging < 22 read it (LegacyVersion):
 * runs of digits (zero-padded) and words, with `pre`/`rc` -> `c` and `dev` -> `@`. Old PyPI
 * releases and advisories still use such strings; they sort below every PEP 440 version.
 */
export interface LegacyVersion {
  readonly legacy: readonly string[];
}

export type PypiVersion = Pep440Version | LegacyVersion;

const LEGACY_SPLIT = /(\d+|[a-z]+|\.|-)/;
const LEGACY_MAP: Record<string, string> = { pre: 'c', preview: 'c', '-': 'final-', rc: 'c', dev: '@' };

export function parseLegacy(input: string): LegacyVersion | null {
  const s = input.trim().toLowerCase();
  if (s.length === 0) return null;
  const parts: string[] = [];
  const raw = s.split(LEGACY_SPLIT);
  raw.push('*final*');
  for (const piece of raw) {
    let part = piece === '*final*' ? '*final' : (LEGACY_MAP[piece] ?? piece);
    if (part === '' || part === '.') continue;
    if (part !== '*final') part = /^[0-9]/.test(part) ? part.padStart(8, '0') : `*${part}`;
    if (part.startsWith('*')) {
      if (part < '*final') while (parts.length > 0 && parts[parts.length - 1] === '*final-') parts.pop();
      while (parts.length > 0 && parts[parts.length - 1] === '00000000') parts.pop();
    }
    parts.push(part);
  }
  return { legacy: parts };
}

function isLegacy(v: PypiVersion): v is LegacyVersion {
  return 'legacy' in v;
}

export function comparePypi(a: PypiVersion, b: PypiVersion): Cmp {
  if (isLegacy(a) || isLegacy(b)) {
    if (!isLegacy(a)) return 1;
    if (!isLegacy(b)) return -1;
    const n = Math.min(a.legacy.length, b.legacy.length);
    for (let i = 0; i < n; i++) {
      const x = a.legacy[i]!;
      const y = b.legacy[i]!;
      if (x !== y) return x < y ? -1 : 1;
    }
    return a.legacy.length === b.legacy.length ? 0 : a.legacy.length < b.legacy.length ? -1 : 1;
  }
  return comparePep440(a, b);
}

/** PyPI ordering: PEP 440, with legacy strings below (parse), `valid` meaning PEP 440 proper. */
export const pep440 = makeComparator<PypiVersion>(
  'pep440',
  (v) => parsePep440(v) ?? parseLegacy(v),
  comparePypi,
  (v) => parsePep440(v) !== null,
  orderKeys.padded,
);

// --- specifiers ---------------------------------------------------------------------------

export type Pep440Operator = '~=' | '==' | '!=' | '<=' | '>=' | '<' | '>' | '===';

export interface Pep440Specifier {
  readonly operator: Pep440Operator;
  /** The version text as written after the operator (trimmed). */
  readonly text: string;
  /** Parsed version; null for `===` on a non-PEP 440 string. For `==X.*` the X part. */
  readonly version: Pep440Version | null;
  readonly wildcard: boolean;
  /** Explicit pre-release choice given when the specifier was made, else null. */
  readonly prereleases: boolean | null;
}

const SPEC_RE = /^\s*(~=|===|==|!=|<=|>=|<|>)\s*(\S+)\s*$/;
const WILDCARD_PREFIX_RE = /^v?(?:\d+!)?\d+(?:\.\d+)*$/i;

/** Parses one specifier (`>=1.0`, `==2.*`, `~=1.4.5`); null when packaging would reject it. */
export function parseSpecifier(spec: string, prereleases: boolean | null = null): Pep440Specifier | null {
  const m = SPEC_RE.exec(spec);
  if (!m) return null;
  const operator = m[1] as Pep440Operator;
  const text = m[2]!;
  if (operator === '===') return { operator, text, version: parsePep440(text), wildcard: false, prereleases };
  if ((operator === '==' || operator === '!=') && text.endsWith('.*')) {
    const prefix = text.slice(0, -2);
    if (!WILDCARD_PREFIX_RE.test(prefix)) return null;
    return { operator, text, version: parsePep440(prefix), wildcard: true, prereleases };
  }
  const version = parsePep440(text);
  if (!version) return null;
  if (operator !== '==' && operator !== '!=' && version.local !== null) return null;
  if (operator === '~=' && version.release.length < 2) return null;
  return { operator, text, version, wildcard: false, prereleases };
}

function withoutLocal(v: Pep440Version): Pep440Version {
  return v.local === null ? v : { ...v, local: null };
}

function equalsSpec(item: Pep440Version, spec: Pep440Specifier): boolean {
  const sv = spec.version!;
  if (spec.wildcard) {
    // Prefix match on the release, padding the candidate's release with zeros.
    if (compareDigits(item.epoch, sv.epoch) !== 0) return false;
    return sv.release.every((p, i) => compareDigits(item.release[i] ?? '0', p) === 0);
  }
  return comparePep440(sv.local === null ? withoutLocal(item) : item, sv) === 0;
}

/** The version minus the parts listed, for the "is X a pre/post release of the spec" checks. */
function strip(v: Pep440Version, parts: { pre?: boolean; post?: boolean; dev?: boolean }): Pep440Version {
  return {
    epoch: v.epoch,
    release: v.release,
    pre: parts.pre ? null : v.pre,
    post: parts.post ? null : v.post,
    dev: parts.dev ? null : v.dev,
    local: null,
  };
}

/** Whether `item` satisfies the operator, before any pre-release filtering. */
function operatorHolds(item: Pep440Version, spec: Pep440Specifier, raw: string): boolean {
  const sv = spec.version;
  switch (spec.operator) {
    case '===':
      return raw.trim().toLowerCase() === spec.text.toLowerCase();
    case '==':
      return equalsSpec(item, spec);
    case '!=':
      return !equalsSpec(item, spec);
    case '<=':
      return comparePep440(withoutLocal(item), sv!) <= 0;
    case '>=':
      return comparePep440(withoutLocal(item), sv!) >= 0;
    case '<': {
      if (comparePep440(item, sv!) >= 0) return false;
      // `<2.0` excludes 2.0's own pre-releases (2.0a1, 2.0.dev1, i.e. anything from 2.0.dev0
      // on), unless the spec is itself a pre-release.
      if (!isPrerelease(sv!) && isPrerelease(item) && comparePep440(item, { ...sv!, dev: '0', local: null }) >= 0)
        return false;
      return true;
    }
    case '>': {
      if (comparePep440(item, sv!) <= 0) return false;
      // `>1.0` excludes 1.0's own post releases (1.0.post1) and local versions (1.0+x).
      if (sv!.post === null && item.post !== null && comparePep440(strip(item, { post: true, dev: true }), sv!) === 0)
        return false;
      if (item.local !== null && comparePep440(withoutLocal(item), sv!) === 0) return false;
      return true;
    }
    case '~=': {
      if (comparePep440(withoutLocal(item), sv!) < 0) return false;
      const prefix = sv!.release.slice(0, -1);
      const epochOk = compareDigits(item.epoch, sv!.epoch) === 0;
      return epochOk && prefix.every((p, i) => compareDigits(item.release[i] ?? '0', p) === 0);
    }
  }
}

/**
 * `Specifier.contains(version, prereleases)`: a pre-release is refused only when pre-releases
 * are explicitly switched off (by the call, else by the specifier).
 */
export function specifierContains(spec: Pep440Specifier, version: string, prereleases: boolean | null = null): boolean {
  const item = parsePep440(version);
  if (!item) return spec.operator === '===' && version.trim().toLowerCase() === spec.text.toLowerCase();
  const allow = prereleases ?? spec.prereleases ?? true;
  if (!allow && isPrerelease(item)) return false;
  return operatorHolds(item, spec, version);
}

/** Whether the specifier itself names a pre-release (packaging's `Specifier.prereleases`). */
export function specifierWantsPrereleases(spec: Pep440Specifier): boolean {
  if (spec.prereleases !== null) return spec.prereleases;
  if (spec.operator === '!=') return false;
  return spec.version !== null && !spec.wildcard && isPrerelease(spec.version);
}

/** A comma-separated specifier set (`>=1.0,<2.0,!=1.5`); null when any part is invalid. */
export interface Pep440SpecifierSet {
  readonly specs: readonly Pep440Specifier[];
  readonly prereleases: boolean | null;
}

export function parseSpecifierSet(text: string, prereleases: boolean | null = null): Pep440SpecifierSet | null {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  const specs: Pep440Specifier[] = [];
  for (const p of parts) {
    const s = parseSpecifier(p, prereleases);
    if (!s) return null;
    specs.push(s);
  }
  return { specs, prereleases };
}

function setWantsPrereleases(set: Pep440SpecifierSet): boolean | null {
  if (set.prereleases !== null) return set.prereleases;
  if (set.specs.length === 0) return null;
  return set.specs.some(specifierWantsPrereleases) ? true : null;
}

/**
 * `SpecifierSet.contains(version, prereleases, installed)`. An installed pre-release is never
 * refused for being one (an installed 1.1.0.dev1 satisfies `~=1.0`); the operators still apply.
 */
export function specifierSetContains(
  set: Pep440SpecifierSet,
  version: string,
  prereleases: boolean | null = null,
  installed = false,
): boolean {
  const item = parsePep440(version);
  if (!item) return set.specs.every((s) => specifierContains(s, version, prereleases));
  const allow = installed || (prereleases ?? setWantsPrereleases(set) ?? true);
  if (!allow && isPrerelease(item)) return false;
  return set.specs.every((s) => operatorHolds(item, s, version));
}

/** Non-PEP 440 strings pass only `===` with the same text (and an empty set, which has no specs). */
function holdsOrArbitrary(v: Pep440Version | null, spec: Pep440Specifier, raw: string): boolean {
  if (v === null) return spec.operator === '===' && raw.trim().toLowerCase() === spec.text.toLowerCase();
  return operatorHolds(v, spec, raw);
}

/**
 * `filter()`: keeps matching versions; pre-releases only when allowed, or when nothing but
 * pre-releases matched and no one said no.
 */
function filterWith(
  versions: readonly string[],
  /** Receives null for strings that are not PEP 440 versions (only `===` can match those). */
  holds: (v: Pep440Version | null, raw: string) => boolean,
  explicit: boolean | null,
): string[] {
  const finals: string[] = [];
  const pres: string[] = [];
  for (const raw of versions) {
    const v = parsePep440(raw);
    if (!holds(v, raw)) continue;
    if (v && isPrerelease(v) && explicit !== true) {
      if (explicit === null) pres.push(raw);
    } else finals.push(raw);
  }
  return finals.length === 0 && explicit === null ? pres : finals;
}

export function specifierFilter(
  spec: Pep440Specifier,
  versions: readonly string[],
  prereleases: boolean | null = null,
): string[] {
  const explicit = prereleases ?? (specifierWantsPrereleases(spec) ? true : spec.prereleases);
  return filterWith(versions, (v, raw) => holdsOrArbitrary(v, spec, raw), explicit);
}

export function specifierSetFilter(
  set: Pep440SpecifierSet,
  versions: readonly string[],
  prereleases: boolean | null = null,
): string[] {
  const explicit = prereleases ?? setWantsPrereleases(set);
  return filterWith(versions, (v, raw) => set.specs.every((s) => holdsOrArbitrary(v, s, raw)), explicit);
}
