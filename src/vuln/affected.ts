import { baseEcosystem, type Comparator, comparatorFor } from './versions/index.js';

/**
 * OSV `affected[]` evaluation (OSV schema, "Evaluation"): which installed versions a record's
 * ranges and version lists cover, and which fixed version applies. Pure functions; the DB and
 * the matcher call these.
 */

export interface OsvEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}

export interface OsvRange {
  type: string;
  repo?: string;
  events?: OsvEvent[];
}

export interface OsvAffected {
  package?: { ecosystem?: string; name?: string; purl?: string };
  ranges?: OsvRange[];
  versions?: string[];
  database_specific?: unknown;
  ecosystem_specific?: unknown;
}

/**
 * One installed package to look up. `sourceName` is the distro source package (dpkg `Source:`,
 * rpm source name), `originName` apk's `origin`: distro advisories are keyed by those, and
 * `version` should then be the source version (a Debian binNMU `+b1` is not in advisories).
 * `epoch` is the rpm epoch when the inventory keeps it apart from `version`.
 */
export interface PackageQuery {
  ecosystem: string;
  name: string;
  version: string;
  sourceName?: string;
  originName?: string;
  epoch?: number;
}

export type EventKind = 'introduced' | 'fixed' | 'last_affected' | 'limit';
export interface Event {
  readonly kind: EventKind;
  readonly version: string;
  /** The parsed version; null for `introduced: "0"` and `limit: "*"` (the two ends). */
  readonly parsed: unknown;
}

/** The one event an OSV event object holds (the schema allows exactly one key). */
export function eventOf(e: OsvEvent): { kind: EventKind; version: string } | null {
  if (typeof e.introduced === 'string') return { kind: 'introduced', version: e.introduced };
  if (typeof e.fixed === 'string') return { kind: 'fixed', version: e.fixed };
  if (typeof e.last_affected === 'string') return { kind: 'last_affected', version: e.last_affected };
  if (typeof e.limit === 'string') return { kind: 'limit', version: e.limit };
  return null;
}

export function isZero(e: Pick<Event, 'kind' | 'version'>): boolean {
  return e.kind === 'introduced' && e.version === '0';
}
export function isStar(e: Pick<Event, 'kind' | 'version'>): boolean {
  return e.kind === 'limit' && e.version === '*';
}

/**
 * Parsed versions per comparator, by text: advisories repeat the same version strings across
 * records and releases, and parsing costs far more than a map lookup. Bounded (emptied when full);
 * parsed values are only ever compared, never changed.
 */
const parsedVersions = new WeakMap<Comparator, Map<string, unknown>>();
const MAX_PARSED = 100_000;

function parseVersion(cmp: Comparator, version: string): unknown {
  let memo = parsedVersions.get(cmp);
  if (!memo) {
    memo = new Map();
    parsedVersions.set(cmp, memo);
  }
  const hit = memo.get(version);
  if (hit !== undefined) return hit;
  const parsed = cmp.parse(version);
  if (memo.size >= MAX_PARSED) memo.clear();
  memo.set(version, parsed);
  return parsed;
}

/**
 * Order keys already computed, per comparator: an import meets the same few thousand version strings
 * in hundreds of thousands of records (and each Debian record once per release), and a long version
 * list is checked once per query. Bounded.
 */
const orderKeys = new WeakMap<Comparator, Map<string, string | null>>();
const MAX_KEYS = 50_000;

/** The comparator's order key for `version` (versions/order-key.ts), through the memo; null when none. */
export function orderKeyOf(cmp: Comparator, version: string): string | null {
  return orderKeysOf(cmp)(version);
}

/** `orderKeyOf` for one comparator, for callers keying many versions of one scheme in a row. */
export function orderKeysOf(cmp: Comparator): (version: string) => string | null {
  const orderKey = cmp.orderKey;
  if (!orderKey) return () => null;
  let memo = orderKeys.get(cmp);
  if (!memo) {
    memo = new Map();
    orderKeys.set(cmp, memo);
  }
  const m = memo;
  return (version) => {
    let k = m.get(version);
    if (k === undefined) {
      k = orderKey(version);
      if (m.size >= MAX_KEYS) m.clear();
      m.set(version, k);
    }
    return k;
  };
}

/**
 * The spec's event order: `introduced: "0"` first, `limit: "*"` last, the rest by `compare`.
 * Shared with the prefilter, whose summaries must walk events in exactly this order.
 */
export function eventOrder(compare: (x: Event, y: Event) => number): (x: Event, y: Event) => number {
  return (x, y) => {
    if (isZero(x) || isZero(y)) return isZero(x) === isZero(y) ? 0 : isZero(x) ? -1 : 1;
    if (isStar(x) || isStar(y)) return isStar(x) === isStar(y) ? 0 : isStar(x) ? 1 : -1;
    return compare(x, y);
  };
}

/**
 * Events sorted by version as the spec requires (`introduced: "0"` first). Events whose version
 * the scheme cannot read are dropped: they cannot be placed on the line.
 */
function sortedEvents(range: OsvRange, cmp: Comparator): Event[] {
  // Not cached per range: a matcher walks each record once per query and keeps the outcome;
  // a cache keyed by record objects cost more (allocation, weak-map upkeep) than it saved.
  const out: Event[] = [];
  for (const raw of range.events as unknown[]) {
    const e = raw && typeof raw === 'object' ? eventOf(raw as OsvEvent) : null;
    if (!e) continue;
    const end = isZero(e) || isStar(e);
    const parsed = end ? null : parseVersion(cmp, e.version);
    if (end || parsed !== null) out.push({ kind: e.kind, version: e.version, parsed });
  }
  out.sort(eventOrder((x, y) => cmp.compareParsed(x.parsed, y.parsed)));
  return out;
}

/**
 * Walks the sorted events: introduced opens an affected interval, fixed (at or above) and
 * last_affected (strictly above) close it. `vs` orders the installed version against an event's.
 * Returns the index of the event that closes the interval containing the version (or -1 when
 * open-ended), or null when not affected.
 */
export function walk(events: readonly Event[], vs: (e: Event) => number): { closedBy: number } | null {
  // limit: an upper bound for the whole range ("*" = none).
  let limited = false;
  let underLimit = false;
  for (const e of events) {
    if (e.kind !== 'limit') continue;
    limited = true;
    if (isStar(e) || vs(e) < 0) underLimit = true;
  }
  if (limited && !underLimit) return null;
  let affected = false;
  let i = 0;
  for (; i < events.length; i++) {
    const e = events[i]!;
    if (e.kind === 'introduced') {
      if (isZero(e) || vs(e) >= 0) affected = true;
      else break;
    } else if (e.kind === 'fixed') {
      if (vs(e) >= 0) affected = false;
      else break;
    } else if (e.kind === 'last_affected') {
      if (vs(e) > 0) affected = false;
      else break;
    }
  }
  if (!affected) return null;
  // The first closing event at or after the stop point ends the interval holding the version.
  for (let j = i; j < events.length; j++) {
    const k = events[j]!.kind;
    if (k === 'fixed' || k === 'last_affected') return { closedBy: j };
  }
  return { closedBy: -1 };
}

export function rangesToCheck(affected: OsvAffected): OsvRange[] {
  // GIT ranges are commit hashes: they say nothing about package versions.
  // Records come from outside: anything not shaped like the schema is skipped, never thrown on.
  if (!Array.isArray(affected.ranges)) return [];
  return affected.ranges.filter((r) => r && (r.type === 'ECOSYSTEM' || r.type === 'SEMVER') && Array.isArray(r.events));
}

function inVersionList(version: string, installed: unknown, affected: OsvAffected, cmp: Comparator): boolean {
  if (!Array.isArray(affected.versions)) return false;
  // Versions with order keys on both sides compare by key; anything else is parsed and compared.
  const keyOf = orderKeysOf(cmp);
  const key = keyOf(version);
  for (const v of affected.versions) {
    if (typeof v !== 'string') continue;
    if (v === version) return true;
    if (key !== null) {
      const k = keyOf(v);
      if (k !== null) {
        if (k === key) return true;
        continue;
      }
    }
    if (installed !== null) {
      const p = parseVersion(cmp, v);
      if (p !== null && cmp.compareParsed(installed, p) === 0) return true;
    }
  }
  return false;
}

/**
 * Whether `version` is affected by one `affected[]` entry, compared with `cmp` (the scheme of
 * the entry's ecosystem). An empty version counts as affected: with nothing to compare we
 * cannot clear it (osv-scalibr policy). An unreadable version matches only an identical string
 * in `versions`.
 */
export function isAffected(version: string, affected: OsvAffected, cmp: Comparator): boolean {
  if (version === '') return true;
  const installed = cmp.parse(version);
  if (inVersionList(version, installed, affected, cmp)) return true;
  if (installed === null) return false;
  for (const range of rangesToCheck(affected)) {
    if (walk(sortedEvents(range, cmp), (e) => cmp.compareParsed(installed, e.parsed))) return true;
  }
  return false;
}

/**
 * The fixed versions that end the affected intervals holding `version`, lowest first; empty
 * when the version is not affected or no fix is known ("affected, no fix yet", or an interval
 * closed only by last_affected).
 */
export function fixedVersions(version: string, affected: OsvAffected, cmp: Comparator): string[] {
  const installed = cmp.parse(version);
  if (installed === null) return [];
  const found = new Set<string>();
  for (const range of rangesToCheck(affected)) {
    const events = sortedEvents(range, cmp);
    const hit = walk(events, (e) => cmp.compareParsed(installed, e.parsed));
    if (hit && hit.closedBy >= 0 && events[hit.closedBy]!.kind === 'fixed') found.add(events[hit.closedBy]!.version);
  }
  return [...found].sort((a, b) => cmp.compare(a, b));
}

/** PyPI names compare after PEP 503 normalisation; other ecosystems compare names exactly. */
function normalizeName(ecosystem: string, name: string): string {
  return baseEcosystem(ecosystem).toLowerCase() === 'pypi' ? name.toLowerCase().replace(/[-_.]+/g, '-') : name;
}

/**
 * Whether an advisory's ecosystem covers the query's: the same ecosystem, and the same release
 * suffix when both name one (`Debian:12` vs `Debian:12`). A record without a suffix covers every
 * release; a query without one (release unknown) matches every record of the ecosystem; a query
 * suffix that is a `:`-bounded prefix of the record's matches it (`Red Hat:enterprise_linux:9`
 * covers `Red Hat:enterprise_linux:9::appstream`, not `...:8::appstream`).
 */
export function ecosystemMatches(recordEcosystem: string, queryEcosystem: string): boolean {
  if (recordEcosystem === queryEcosystem) return true;
  if (baseEcosystem(recordEcosystem).toLowerCase() !== baseEcosystem(queryEcosystem).toLowerCase()) return false;
  if (!recordEcosystem.includes(':') || !queryEcosystem.includes(':')) return true;
  return recordEcosystem.startsWith(`${queryEcosystem}:`);
}

/** Whether an `affected[]` entry names the queried package (by name, source or origin name). */
export function packageMatches(affected: OsvAffected, query: PackageQuery): boolean {
  return entryNamesPackage(affected, query, queryNames(query));
}

/** The query's names, the way entries are compared with them. */
function queryNames(query: PackageQuery): string[] {
  const names: string[] = [];
  for (const n of [query.name, query.sourceName, query.originName])
    if (typeof n === 'string') names.push(normalizeName(query.ecosystem, n));
  return names;
}

/** packageMatches with the query's names already normalised (an ecosystem family normalises one way). */
function entryNamesPackage(affected: OsvAffected, query: PackageQuery, names: readonly string[]): boolean {
  if (!affected || typeof affected !== 'object') return false;
  const eco = affected.package?.ecosystem;
  const name = affected.package?.name;
  if (typeof eco !== 'string' || typeof name !== 'string') return false;
  if (!ecosystemMatches(eco, query.ecosystem)) return false;
  return names.includes(normalizeName(eco, name));
}

/**
 * Ecosystems whose OSV versions carry the rpm epoch (`1:5.1-7`). For the others (openEuler,
 * SUSE, ...) advisories leave the epoch out, so adding the installed one would hide matches.
 */
const EPOCH_IN_VERSIONS = new Set(['red hat']);

/** The installed version as the advisory data of the query's ecosystem spells it. */
export function queryVersion(query: PackageQuery): string {
  const { epoch, version } = query;
  if (epoch === undefined || epoch === 0 || version === '' || version.includes(':')) return version;
  return EPOCH_IN_VERSIONS.has(baseEcosystem(query.ecosystem).toLowerCase()) ? `${epoch}:${version}` : version;
}

export interface AffectedMatch {
  /** The matching entries of the record's `affected[]`. */
  entries: OsvAffected[];
  /** Fixed versions for the installed version, lowest first; empty = no fix known. */
  fixed: string[];
  /** Why it matched, for the finding (STYLE: every decision carries its reason). */
  reason: string;
}

interface PreparedQuery {
  cmp: Comparator | undefined;
  version: string;
  installed: unknown;
  names: string[];
}

/**
 * What every record checked for one query shares: its scheme, its version as advisories spell it
 * (parsed once), its normalised names. A matcher checks one query against all the records naming
 * the package in a row, so the last query's is kept (by value: a caller may reuse the object).
 */
let last: { query: PackageQuery; prepared: PreparedQuery } | undefined;

function sameQuery(a: PackageQuery, b: PackageQuery): boolean {
  return (
    a.ecosystem === b.ecosystem &&
    a.name === b.name &&
    a.version === b.version &&
    a.sourceName === b.sourceName &&
    a.originName === b.originName &&
    a.epoch === b.epoch
  );
}

function prepareQuery(query: PackageQuery): PreparedQuery {
  if (last && sameQuery(last.query, query)) return last.prepared;
  const cmp = comparatorFor(query.ecosystem);
  const version = queryVersion(query);
  const installed = cmp && version !== '' ? parseVersion(cmp, version) : null;
  const prepared = { cmp, version, installed, names: queryNames(query) };
  last = { query: { ...query }, prepared };
  return prepared;
}

/**
 * Matches a query against a record's whole `affected[]`. Null when no entry both names the
 * package and covers its version.
 */
export function matchAffected(affected: readonly OsvAffected[], query: PackageQuery): AffectedMatch | null {
  const { cmp, version, installed, names } = prepareQuery(query);
  if (!cmp) {
    // No ordering known (GIT, an ecosystem we do not model): only an explicitly listed version
    // can match, by its exact string.
    const listed = affected.filter(
      (a) =>
        entryNamesPackage(a, query, names) &&
        (version === '' || (Array.isArray(a.versions) && a.versions.includes(version))),
    );
    return listed.length === 0
      ? null
      : { entries: listed, fixed: [], reason: `version ${version || '(unknown)'} is listed as affected` };
  }
  // What isAffected and fixedVersions say for each entry, in one walk, parsing the version once.
  // Ranges first: an entry they cover needs no look at its (often long) version list.
  const entries: OsvAffected[] = [];
  const fixed = new Set<string>();
  const vs = (e: Event) => cmp.compareParsed(installed, e.parsed);
  for (const a of affected) {
    if (!entryNamesPackage(a, query, names)) continue;
    let hit = version === '';
    if (installed !== null) {
      for (const range of rangesToCheck(a)) {
        const events = sortedEvents(range, cmp);
        const w = walk(events, vs);
        if (!w) continue;
        hit = true;
        if (w.closedBy >= 0 && events[w.closedBy]!.kind === 'fixed') fixed.add(events[w.closedBy]!.version);
      }
    }
    if (hit || inVersionList(version, installed, a, cmp)) entries.push(a);
  }
  if (entries.length === 0) return null;
  const fixedList = [...fixed].sort((a, b) => cmp.compare(a, b));
  return { entries, fixed: fixedList, reason: matchReason(cmp.name, version, fixedList) };
}

/** Why a version matched, for the finding (STYLE: every decision carries its reason). */
export function matchReason(scheme: string, version: string, fixed: readonly string[]): string {
  const what = version === '' ? 'version unknown' : `${scheme} version ${version}`;
  return fixed.length > 0
    ? `${what} is in an affected range; fixed in ${fixed.join(', ')}`
    : `${what} is affected; no fixed version known`;
}
