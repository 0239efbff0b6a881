import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import Database from 'better-sqlite3';
import { UserInputError } from '../../core/errors.js';

/** Bump when the tables change; a reader refuses any other version (the DB is rebuilt, never migrated). */
export const SCHEMA_VERSION = 7;
/** `meta.format`: tells our file from any other SQLite file. */
export const FORMAT = 'palisade-vulndb';

/**
 * Pages of 16 KiB: rows run to a few KiB, and against 4 KiB pages the file is 7% smaller and an
 * import 5-10% faster; a cold match takes the same time within the noise (paired medians 85 and
 * 89 ms at a quiet moment, 116 and 100 ms in a slow one).
 *
 * One row per OSV record in `records` (its id, `modified` for upserts, `detail`, the record's
 * fields a hit does not need (dates, severity vectors, origin) as JSON, and the references; both
 * read only on demand). One row per (record, ecosystem, package) in `affected`, holding what a
 * match reads: the record `id`, `head`, what a hit needs of the record (id, summary, aliases) as
 * JSON, the same text in each of its rows, and `entries`, that package's raw `affected[]` entries
 * as JSON, which the matcher evaluates itself. A lookup reads `affected` alone: one index probe and the package's rows, no
 * join; the id beside the head lets a matcher order and skip records without parsing heads, and
 * `summary` (prefilter.ts) lets it rule most records out without parsing `entries` either, and
 * answer most hits without it too, with `severity` (row-severity.ts), the record's severity for
 * that package worked out at import. `low` and `high` (prefilter.ts, `Summary`), in the lookup index, let a
 * lookup that knows the installed version skip rows whose ranges and lists all lie above or below
 * it without reading them.
 * `aliases` maps every alias (and `upstream` id) back to its record for de-duplication.
 * `eco_base` is the lower-cased ecosystem family (`debian` for `Debian:12`) so one index answers
 * both "this release" and "any release" lookups.
 */
export const TABLES = `
PRAGMA page_size = 16384;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE records (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  modified TEXT NOT NULL,
  detail TEXT NOT NULL,
  refs TEXT NOT NULL
);
CREATE TABLE affected (
  record INTEGER NOT NULL,
  id TEXT NOT NULL,
  eco_base TEXT NOT NULL,
  name TEXT NOT NULL,
  ecosystem TEXT NOT NULL,
  head TEXT NOT NULL,
  entries TEXT NOT NULL,
  summary TEXT,
  severity TEXT,
  low TEXT,
  high TEXT
);
CREATE TABLE aliases (alias TEXT NOT NULL, record INTEGER NOT NULL);
CREATE TABLE ecosystems (ecosystem TEXT PRIMARY KEY, records INTEGER NOT NULL, newest_modified TEXT) WITHOUT ROWID;
`;

/**
 * Built after a bulk load (sorting once beats growing B-trees row by row), or with the tables when
 * a DB is extended in place.
 */
export const INDEXES = `
CREATE UNIQUE INDEX records_id ON records (id);
CREATE INDEX affected_lookup ON affected (eco_base, name, ecosystem, high, low);
CREATE INDEX affected_record ON affected (record);
CREATE INDEX aliases_alias ON aliases (alias);
CREATE INDEX aliases_record ON aliases (record);
`;

export const FIX_HINT = 'run `palisade db update` or `palisade db import`';

/**
 * Cheap pre-open check of the SQLite header: magic, and a file at least as long as the page
 * count the header promises (a copy cut short fails here instead of answering from half a file).
 */
export function checkSqliteHeader(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserInputError(`no vulnerability DB at ${path}: ${FIX_HINT}`);
    throw new UserInputError(`cannot read vulnerability DB ${path} (${code ?? 'error'}): ${FIX_HINT}`);
  }
  try {
    const head = Buffer.alloc(100);
    const n = readSync(fd, head, 0, 100, 0);
    const size = fstatSync(fd).size;
    if (n < 100 || head.toString('latin1', 0, 16) !== 'SQLite format 3\0')
      throw new UserInputError(`${path} is not a vulnerability DB (not an SQLite file): ${FIX_HINT}`);
    const rawPage = head.readUInt16BE(16);
    const pageSize = rawPage === 1 ? 65536 : rawPage;
    const pages = head.readUInt32BE(28);
    // The header's page count is valid when its "version-valid-for" equals the change counter.
    if (head.readUInt32BE(92) === head.readUInt32BE(24) && pages > 0 && size < pages * pageSize)
      throw new UserInputError(
        `vulnerability DB ${path} is truncated (${size} of ${pages * pageSize} bytes; half-written?): ${FIX_HINT}`,
      );
  } finally {
    closeSync(fd);
  }
}

/** Reads and checks `meta`: our format, our schema version, and the mark written last by an import. */
export function checkMeta(db: Database.Database, path: string): Map<string, string> {
  let rows: { key: string; value: string }[];
  try {
    rows = db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[];
  } catch (err) {
    throw new UserInputError(`vulnerability DB ${path} is unreadable (${(err as Error).message}): ${FIX_HINT}`);
  }
  const meta = new Map(rows.map((r) => [r.key, r.value]));
  if (meta.get('format') !== FORMAT)
    throw new UserInputError(`${path} is not a palisade vulnerability DB: ${FIX_HINT}`);
  const version = Number(meta.get('schema_version'));
  if (version !== SCHEMA_VERSION)
    throw new UserInputError(
      `vulnerability DB ${path} has schema version ${meta.get('schema_version') ?? '?'}, this palisade reads ${SCHEMA_VERSION}: ${FIX_HINT}`,
    );
  if (meta.get('complete') !== '1')
    throw new UserInputError(`vulnerability DB ${path} was not completely written: ${FIX_HINT}`);
  return meta;
}

/** Opens an existing DB file after the header and meta checks; any SQLite failure becomes a UserInputError. */
export function openChecked(path: string, readonly: boolean): { db: Database.Database; meta: Map<string, string> } {
  checkSqliteHeader(path);
  let db: Database.Database;
  try {
    db = new Database(path, { readonly, fileMustExist: true });
  } catch (err) {
    throw new UserInputError(`cannot open vulnerability DB ${path} (${(err as Error).message}): ${FIX_HINT}`);
  }
  try {
    return { db, meta: checkMeta(db, path) };
  } catch (err) {
    db.close();
    throw err;
  }
}
