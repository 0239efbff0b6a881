import type Database from 'better-sqlite3';
import { UserInputError } from '../../core/errors.js';
import { summaryAssess } from '../prefilter.js';
import { parseRowSeverity, type RowSeverity } from '../row-severity.js';
import { ecosystemBaseKey, nameKey, type OsvAffected, type OsvReference, type OsvSeverity } from './osv.js';
import { FIX_HINT, openChecked, SCHEMA_VERSION } from './schema.js';

export { STALE_AFTER_DAYS } from './stale.js';

/** What a hit needs of a record: stored with each of its package rows. */
export interface CandidateHead {
  id: string;
  summary?: string;
  /** OSV `aliases` (CVE, GHSA, PYSEC ids ...). */
  aliases: string[];
  /** OSV `upstream` ids (a Debian DLA names the CVEs it fixes here). */
  upstream: string[];
}

/** The record's other fields: stored once per record, read when a whole candidate is asked for. */
export interface CandidateDetail {
  modified: string;
  published?: string;
  /** Record-level `severity` (CVSS vectors); entry-level ones stay inside `affected`. */
  severity: OsvSeverity[];
  /** `database_specific.severity` (GHSA's LOW/MODERATE/HIGH/CRITICAL), when the record has one. */
  databaseSeverity?: string;
  /** Where the record came from: `osv`, `alpine-secdb`, `nodejs-wg`. */
  origin: string;
}

/** One advisory that names the looked-up package; the matcher evaluates `affected` with the comparators. */
export interface OsvCandidate extends CandidateHead, CandidateDetail {
  /** The record's `affected[]` entries for this package (every release that matched), as published. */
  affected: OsvAffected[];
}

/**
 * A record naming the looked-up package as the DB holds it: the id and the package's entries at
 * hand, the record's other fields parsed only when asked for (a matcher needs them for hits only).
 */
export interface StoredCandidate {
  readonly id: string;
  /** The record's `affected[]` entries for this package (every release that matched), as published. */
  readonly affected: OsvAffected[];
  /** The whole candidate; its `affected` is this one's. Read and parsed on the first call, then kept. */
  full(): OsvCandidate;
  /** What a hit needs of the record (its details and `affected` stay unread). */
  head(): CandidateHead;
  /**
   * What the import-time summaries (prefilter.ts) say about the version whose order key
   * (versions/order-key.ts) is given: null when they prove no entry covers it; a `SummaryHit`
   * when they prove one does and the row holds the severity too; undefined when they cannot say
   * either (then evaluate `affected`).
   */
  assess(installedKey: string): SummaryHit | null | undefined;
}

/** A hit answered from a row's summary: what the evaluator and `recordSeverity` would have said. */
export interface SummaryHit {
  /** Fixed versions ending the ranges that hold the version, as written, lowest first. */
  fixed: string[];
  severity: RowSeverity;
}

export interface EcosystemStatus {
  ecosystem: string;
  records: number;
  newestModified: string | null;
}

export interface DbStatus {
  path: string;
  schemaVersion: number;
  /** When the DB's content was last imported or updated. */
  updatedAt: string;
  /** When `db update` last found the mirror unchanged (304), if later than `updatedAt`. */
  checkedAt?: string;
  /** Whole days since the data was last refreshed or confirmed current. */
  ageDays: number;
  records: number;
  newestModified: string | null;
  ecosystems: EcosystemStatus[];
}

export interface VulnDb {
  /**
   * Advisories naming `name` in `ecosystem`. With a release (`Debian:12`, `Alpine:v3.19`) it returns
   * that release's records plus release-less ones; without (`npm`, `Debian`) every record of the
   * ecosystem family. PyPI names are compared PEP 503-normalised, others exactly.
   * Rows read are kept on the handle (the file it reads never changes under it); each call
   * returns new objects.
   */
  lookup(ecosystem: string, name: string): readonly OsvCandidate[];
  /**
   * `lookup` for matchers: the same records in the same order, each parsed only as far as used.
   * Given the installed version's order key (versions/order-key.ts), it leaves out, unread, records
   * whose import-time summaries cover only versions above or below it (the `low`/`high` bounds of
   * prefilter.ts's `Summary`): records `assess` would rule out anyway.
   */
  candidates(ecosystem: string, name: string, installedKey?: string | null): readonly StoredCandidate[];
  /**
   * Answers many `candidates` calls at once (one query per ecosystem instead of one per name) and
   * keeps them. An optimisation only: `candidates` gives the same answers without it.
   */
  prefetch(queries: Iterable<readonly [ecosystem: string, name: string, installedKey?: string | null]>): void;
  /** The stored references (advisories first, at most 5) of record `id`; empty when unknown. */
  references(id: string): OsvReference[];
  /** Ids of the records that list `alias` among their aliases/upstream ids. */
  recordsWithAlias(alias: string): string[];
  status(): DbStatus;
  /** Days (fractional) since the data was last imported/updated or confirmed current by `db update`. */
  dbAgeDays(now?: Date): number;
  close(): void;
}

interface AffectedRow {
  record: number;
  /** The record's `detail`, once `Loaders.detail` has read it. */
  detail?: string;
  id: string;
  summary: string | null;
  severity: string | null;
  pair?: number;
  /** Read by prefetch, whose rows may come without their entries. */
  rowid?: number;
  head: string;
  /** Null when read without them (prefetch of a row whose summary answers): `entriesOf` fetches them. */
  entries: string | null;
}

/** Lookups answered from the cache before it is emptied (a scan asks for a few thousand packages). */
const CACHE_KEYS = 20_000;

/**
 * A single lookup reads each record's detail with its rows (one join, instead of one query per
 * candidate when `full()` asks): lookups want whole candidates; a matcher prefetches instead.
 */
const AFFECTED =
  'SELECT a.record, a.id, a.head, a.entries, a.summary, a.severity, r.detail FROM affected a ' +
  'JOIN records r ON r.rowid = a.record WHERE a.eco_base = ? AND a.name = ?';
/** The index holds `low` and `high`: rows they rule out are skipped without reading the table. */
const WITHIN_BOUNDS = ' AND (a.high IS NULL OR a.high > ?) AND (a.low IS NULL OR a.low <= ?)';
/**
 * The same for every [name, installed key or null] of a JSON array: one statement, one index
 * descent per pair. CROSS JOIN fixes the loop order (pairs outside): without statistics the planner
 * may scan `affected` instead. `q.key` is the pair's index in the array.
 */
const AFFECTED_MANY =
  'SELECT q.key AS pair, a.rowid AS rowid, a.record, a.id, a.head, a.summary, a.severity, ' +
  // A row whose summary and severity answer a matcher is read without its entries (fetched if asked).
  'CASE WHEN a.summary IS NULL OR a.severity IS NULL THEN a.entries END AS entries ' +
  'FROM json_each(?) q CROSS JOIN affected a ' +
  'ON a.eco_base = ? AND a.name = q.value ->> 0 AND (q.value ->> 1 IS NULL OR ' +
  '((a.high IS NULL OR a.high > q.value ->> 1) AND (a.low IS NULL OR a.low <= q.value ->> 1)))';

/**
 * SQLite's page cache for the read handle, in KiB. Small on purpose: a scan's lookups touch a few
 * thousand scattered pages once each, so a large cache saves no reads, while every page it holds
 * costs a fresh allocation; on the first scan after open the default 16 MB made lookups 3x slower
 * than a 1 MB cache (measured on the 300,000-record bench DB).
 */
const READ_CACHE_KIB = 1024;

/** What `Stored` reads later, by rowid, when asked for: a row's entries, its record's detail. */
interface Loaders {
  entries(row: AffectedRow): string;
  detail(row: AffectedRow): string;
}

/** A candidate as read: entries and head stay text until asked for. */
class Stored implements StoredCandidate {
  private parsed: CandidateHead | undefined;
  private whole: OsvCandidate | undefined;
  private entries: OsvAffected[] | undefined;
  /** One per row (a record can match under `Debian` and `Debian:12`); null entries have no summary. */
  private readonly rows: AffectedRow[];
  constructor(
    readonly id: string,
    private readonly headText: string,
    first: AffectedRow,
    /** A row's entries when it was read without them, and its record's detail. */
    private readonly load: Loaders,
  ) {
    this.rows = [first];
  }

  add(row: AffectedRow): void {
    this.rows.push(row);
    this.entries = undefined;
    this.whole = undefined;
  }

  get affected(): OsvAffected[] {
    if (!this.entries) {
      this.entries =
        this.rows.length === 1
          ? (JSON.parse(this.rows[0]!.entries ?? this.load.entries(this.rows[0]!)) as OsvAffected[])
          : this.rows.flatMap((r) => JSON.parse(r.entries ?? this.load.entries(r)) as OsvAffected[]);
    }
    return this.entries;
  }

  assess(installedKey: string): SummaryHit | null | undefined {
    if (this.rows.length === 1) {
      const row = this.rows[0]!;
      if (row.summary === null) return undefined;
      const fixed = summaryAssess(row.summary, installedKey);
      if (fixed === null) return null;
      const severity = row.severity === null ? null : parseRowSeverity(row.severity);
      return severity === null ? undefined : { fixed, severity };
    }
    // Several rows (a record naming the package under `Debian` and `Debian:12`): the summaries can
    // still rule the record out; a hit's fix and severity come from the evaluator over all entries.
    for (const r of this.rows)
      if (r.summary === null || summaryAssess(r.summary, installedKey) !== null) return undefined;
    return null;
  }

  head(): CandidateHead {
    if (!this.parsed) this.parsed = JSON.parse(this.headText) as CandidateHead;
    return this.parsed;
  }

  full(): OsvCandidate {
    if (!this.whole) {
      const row = this.rows[0]!;
      const detail = row.detail ?? this.load.detail(row);
      // Head and detail are JSON objects with no field in common: one text, one parse (spreading
      // two parsed objects made repeated lookups twice as slow).
      const whole = JSON.parse(`${this.headText.slice(0, -1)},${detail.slice(1)}`) as OsvCandidate;
      whole.affected = this.affected;
      this.whole = whole;
    }
    return this.whole;
  }
}

/** One candidate per record (a record matching under `Debian` and `Debian:12` is one), by id. */
function candidatesOf(rows: readonly AffectedRow[], load: Loaders): Stored[] {
  if (rows.length === 0) return [];
  const byRecord = new Map<number, Stored>();
  const out: Stored[] = [];
  for (const row of rows) {
    const seen = byRecord.get(row.record);
    if (seen) {
      seen.add(row);
      continue;
    }
    const c = new Stored(row.id, row.head, row, load);
    byRecord.set(row.record, c);
    out.push(c);
  }
  return out.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
}

/** Opens the DB read-only after checking format, schema version and completeness (UserInputError otherwise). */
export function openVulnDb(path: string): VulnDb {
  const { db, meta } = openChecked(path, true);
  return new SqliteVulnDb(db, meta, path);
}

class SqliteVulnDb implements VulnDb {
  private readonly byRelease;
  private readonly byFamily;
  private readonly byReleaseWithin;
  private readonly byFamilyWithin;
  private readonly manyByRelease;
  private readonly manyByFamily;
  private readonly byAlias;
  private readonly refs;
  private readonly entriesByRowid;
  private readonly detailByRecord;
  /** `Stored`'s loaders: what a row was read without, fetched by rowid once and kept on the row. */
  private readonly load: Loaders = {
    entries: (row) => {
      row.entries = this.fetch(this.entriesByRowid, row.rowid!, 'row');
      return row.entries;
    },
    detail: (row) => {
      row.detail = this.fetch(this.detailByRecord, row.record, 'record');
      return row.detail;
    },
  };
  /**
   * Rows per lookup, as read: kept as the strings SQLite returned, and parsed per call, so the
   * candidates a matcher drops die young instead of being carried through every collection.
   */
  private readonly cache = new Map<string, readonly AffectedRow[]>();

  constructor(
    private readonly db: Database.Database,
    private readonly meta: Map<string, string>,
    private readonly path: string,
  ) {
    try {
      this.byRelease = db.prepare<[string, string, string, string], AffectedRow>(
        `${AFFECTED} AND a.ecosystem IN (?, ?)`,
      );
      this.byFamily = db.prepare<[string, string], AffectedRow>(AFFECTED);
      this.byReleaseWithin = db.prepare<[string, string, string, string, string, string], AffectedRow>(
        `${AFFECTED} AND a.ecosystem IN (?, ?)${WITHIN_BOUNDS}`,
      );
      this.byFamilyWithin = db.prepare<[string, string, string, string], AffectedRow>(`${AFFECTED}${WITHIN_BOUNDS}`);
      this.manyByRelease = db.prepare<[string, string, string, string], AffectedRow>(
        `${AFFECTED_MANY} AND a.ecosystem IN (?, ?)`,
      );
      this.manyByFamily = db.prepare<[string, string], AffectedRow>(AFFECTED_MANY);
      this.refs = db.prepare<[string], { refs: string }>('SELECT refs FROM records WHERE id = ?');
      this.entriesByRowid = db.prepare<[number], string>('SELECT entries FROM affected WHERE rowid = ?').pluck();
      this.detailByRecord = db.prepare<[number], string>('SELECT detail FROM records WHERE rowid = ?').pluck();
      this.byAlias = db.prepare<[string], { id: string }>(
        'SELECT r.id FROM aliases x JOIN records r ON r.rowid = x.record WHERE x.alias = ? ORDER BY r.id',
      );
      // One read transaction for the connection's life: without it every lookup takes and drops the
      // file lock (several syscalls), which cost 4-5x the lookup itself. Safe because a DB file is
      // never rewritten in place by imports: they swap in a new file by rename. For the same reason
      // answers can be cached for the handle's life.
      db.pragma(`cache_size = -${READ_CACHE_KIB}`);
      db.exec('BEGIN');
    } catch (err) {
      db.close();
      throw new UserInputError(`vulnerability DB ${path} is damaged (${(err as Error).message}): ${FIX_HINT}`);
    }
  }

  lookup(ecosystem: string, name: string): readonly OsvCandidate[] {
    return this.candidates(ecosystem, name).map((c) => c.full());
  }

  candidates(ecosystem: string, name: string, installedKey?: string | null): readonly StoredCandidate[] {
    const key = nameKey(ecosystem, name);
    const cacheKey = `${ecosystem}\0${key}\0${installedKey ?? ''}`;
    const cached = this.cache.get(cacheKey);
    if (cached) return candidatesOf(cached, this.load);
    const base = ecosystemBaseKey(ecosystem);
    const colon = ecosystem.indexOf(':');
    const release = colon >= 0 ? ([ecosystem, ecosystem.slice(0, colon)] as const) : null;
    const rows = this.guard(() =>
      installedKey
        ? release
          ? this.byReleaseWithin.all(base, key, ...release, installedKey, installedKey)
          : this.byFamilyWithin.all(base, key, installedKey, installedKey)
        : release
          ? this.byRelease.all(base, key, ...release)
          : this.byFamily.all(base, key),
    );
    this.remember(cacheKey, rows);
    return candidatesOf(rows, this.load);
  }

  prefetch(queries: Iterable<readonly [ecosystem: string, name: string, installedKey?: string | null]>): void {
    const byEcosystem = new Map<string, Map<string, [name: string, installedKey: string | null]>>();
    for (const [ecosystem, name, installedKey] of queries) {
      const key = nameKey(ecosystem, name);
      const cacheKey = `${ecosystem}\0${key}\0${installedKey ?? ''}`;
      if (this.cache.has(cacheKey)) continue;
      let pairs = byEcosystem.get(ecosystem);
      if (!pairs) {
        pairs = new Map();
        byEcosystem.set(ecosystem, pairs);
      }
      pairs.set(cacheKey, [key, installedKey || null]);
    }
    for (const [ecosystem, pairs] of byEcosystem) {
      const base = ecosystemBaseKey(ecosystem);
      const colon = ecosystem.indexOf(':');
      const json = JSON.stringify([...pairs.values()]);
      const rows =
        colon >= 0
          ? this.guard(() => this.manyByRelease.all(json, base, ecosystem, ecosystem.slice(0, colon)))
          : this.guard(() => this.manyByFamily.all(json, base));
      const byPair: AffectedRow[][] = Array.from({ length: pairs.size }, () => []);
      for (const row of rows) byPair[row.pair!]!.push(row);
      let i = 0;
      for (const cacheKey of pairs.keys()) this.remember(cacheKey, byPair[i++]!);
    }
  }

  references(id: string): OsvReference[] {
    const row = this.guard(() => this.refs.get(id));
    return row ? (JSON.parse(row.refs) as OsvReference[]) : [];
  }

  recordsWithAlias(alias: string): string[] {
    return this.guard(() => this.byAlias.all(alias)).map((r) => r.id);
  }

  status(): DbStatus {
    const ecosystems = this.guard(() =>
      this.db
        .prepare<[], { ecosystem: string; records: number; newest_modified: string | null }>(
          'SELECT ecosystem, records, newest_modified FROM ecosystems ORDER BY ecosystem',
        )
        .all(),
    ).map((e) => ({ ecosystem: e.ecosystem, records: e.records, newestModified: e.newest_modified }));
    const newest = ecosystems.reduce<string | null>(
      (m, e) => (e.newestModified && (!m || e.newestModified > m) ? e.newestModified : m),
      null,
    );
    return {
      path: this.path,
      schemaVersion: SCHEMA_VERSION,
      updatedAt: this.meta.get('updated_at') ?? '',
      ...(this.meta.get('checked_at') ? { checkedAt: this.meta.get('checked_at') } : {}),
      ageDays: Math.floor(this.dbAgeDays()),
      records: Number(this.meta.get('records') ?? 0),
      newestModified: newest,
      ecosystems,
    };
  }

  dbAgeDays(now: Date = new Date()): number {
    const at = Math.max(
      Date.parse(this.meta.get('updated_at') ?? ''),
      Date.parse(this.meta.get('checked_at') ?? '') || 0,
    );
    if (Number.isNaN(at)) return Number.POSITIVE_INFINITY;
    return Math.max(0, (now.getTime() - at) / 86_400_000);
  }

  close(): void {
    this.cache.clear();
    if (this.db.open) this.db.close();
  }

  private remember(cacheKey: string, rows: readonly AffectedRow[]): void {
    if (this.cache.size >= CACHE_KEYS) this.cache.clear();
    this.cache.set(cacheKey, rows);
  }

  private fetch(stmt: Database.Statement<[number], string>, rowid: number, what: string): string {
    const text = this.guard(() => stmt.get(rowid));
    if (typeof text !== 'string')
      throw new UserInputError(`vulnerability DB ${this.path} is damaged (${what} ${rowid} vanished): ${FIX_HINT}`);
    return text;
  }

  /** SQLite errors while reading (a file damaged after the checks) become one clear UserInputError. */
  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (
        err instanceof Error &&
        /SQLITE|malformed|not a database|disk image/i.test(`${(err as { code?: string }).code} ${err.message}`)
      )
        throw new UserInputError(`vulnerability DB ${this.path} is damaged (${err.message}): ${FIX_HINT}`);
      throw err;
    }
  }
}
