import type Database from 'better-sqlite3';
import { UserInputError } from '../../core/errors.js';
import { ecosystemBaseKey, nameKey, type OsvAffected, type OsvReference, type OsvSeverity } from './osv.js';
import { FIX_HINT, openChecked, SCHEMA_VERSION } from './schema.js';

/** A DB older than this many days makes a scan warn (and fail with `--fail-on-stale`). */
export const STALE_AFTER_DAYS = 7;

/** One advisory that names the looked-up package; the matcher evaluates `affected` with the comparators. */
export interface OsvCandidate {
  id: string;
  modified: string;
  published?: string;
  summary?: string;
  /** OSV `aliases` (CVE, GHSA, PYSEC ids ...). */
  aliases: string[];
  /** OSV `upstream` ids (a Debian DLA names the CVEs it fixes here). */
  upstream: string[];
  /** Record-level `severity` (CVSS vectors); entry-level ones stay inside `affected`. */
  severity: OsvSeverity[];
  /** `database_specific.severity` (GHSA's LOW/MODERATE/HIGH/CRITICAL), when the record has one. */
  databaseSeverity?: string;
  references: OsvReference[];
  /** Where the record came from: `osv`, `alpine-secdb`, `nodejs-wg`. */
  origin: string;
  /** The record's `affected[]` entries for this package (every release that matched), as published. */
  affected: OsvAffected[];
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
   */
  lookup(ecosystem: string, name: string): OsvCandidate[];
  /** Ids of the records that list `alias` among their aliases/upstream ids. */
  recordsWithAlias(alias: string): string[];
  status(): DbStatus;
  /** Days (fractional) since the data was last imported/updated or confirmed current by `db update`. */
  dbAgeDays(now?: Date): number;
  close(): void;
}

interface Row {
  id: string;
  modified: string;
  published: string | null;
  summary: string | null;
  aliases: string;
  upstream: string;
  severity: string;
  db_severity: string | null;
  refs: string;
  origin: string;
  entries: string;
}

const SELECT = `SELECT r.id, r.modified, r.published, r.summary, r.aliases, r.upstream, r.severity, r.db_severity,
  r.refs, r.origin, a.entries FROM affected a JOIN records r ON r.rowid = a.record`;

/** Opens the DB read-only after checking format, schema version and completeness (UserInputError otherwise). */
export function openVulnDb(path: string): VulnDb {
  const { db, meta } = openChecked(path, true);
  return new SqliteVulnDb(db, meta, path);
}

class SqliteVulnDb implements VulnDb {
  private readonly byRelease;
  private readonly byFamily;
  private readonly byAlias;

  constructor(
    private readonly db: Database.Database,
    private readonly meta: Map<string, string>,
    private readonly path: string,
  ) {
    try {
      this.byRelease = db.prepare<[string, string, string, string], Row>(
        `${SELECT} WHERE a.eco_base = ? AND a.name = ? AND a.ecosystem IN (?, ?) ORDER BY r.id`,
      );
      this.byFamily = db.prepare<[string, string], Row>(`${SELECT} WHERE a.eco_base = ? AND a.name = ? ORDER BY r.id`);
      this.byAlias = db.prepare<[string], { id: string }>(
        'SELECT r.id FROM aliases x JOIN records r ON r.rowid = x.record WHERE x.alias = ? ORDER BY r.id',
      );
    } catch (err) {
      db.close();
      throw new UserInputError(`vulnerability DB ${path} is damaged (${(err as Error).message}): ${FIX_HINT}`);
    }
  }

  lookup(ecosystem: string, name: string): OsvCandidate[] {
    const base = ecosystemBaseKey(ecosystem);
    const key = nameKey(ecosystem, name);
    const colon = ecosystem.indexOf(':');
    const rows =
      colon >= 0
        ? this.guard(() => this.byRelease.all(base, key, ecosystem, ecosystem.slice(0, colon)))
        : this.guard(() => this.byFamily.all(base, key));
    const out: OsvCandidate[] = [];
    let last: OsvCandidate | undefined;
    for (const row of rows) {
      const entries = JSON.parse(row.entries) as OsvAffected[];
      // Rows are ordered by id: a record matching under two ecosystems (Debian, Debian:12) becomes one candidate.
      if (last && last.id === row.id) {
        last.affected.push(...entries);
        continue;
      }
      last = {
        id: row.id,
        modified: row.modified,
        aliases: JSON.parse(row.aliases),
        upstream: JSON.parse(row.upstream),
        severity: JSON.parse(row.severity),
        references: JSON.parse(row.refs),
        origin: row.origin,
        affected: entries,
      };
      if (row.published) last.published = row.published;
      if (row.summary) last.summary = row.summary;
      if (row.db_severity) last.databaseSeverity = row.db_severity;
      out.push(last);
    }
    return out;
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
    if (this.db.open) this.db.close();
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
