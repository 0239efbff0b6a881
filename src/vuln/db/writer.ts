import { randomBytes } from 'node:crypto';
import { closeSync, fdatasync, fsyncSync, openSync } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { UserInputError } from '../../core/errors.js';
import type { OsvRecord } from './osv.js';
import { type PreparedRecord, prepareRecord } from './rows.js';
import { checkMeta, checkSqliteHeader, FORMAT, INDEXES, SCHEMA_VERSION, TABLES } from './schema.js';

export type PutResult = 'inserted' | 'replaced' | 'unchanged' | 'withdrawn';

/** A temp file beside `target`, so the final rename stays on one file system (atomic). */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Flushes a file and its directory entry to disk before the rename makes it visible. */
export async function durableRename(tmp: string, target: string): Promise<void> {
  const fd = openSync(tmp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  await rename(tmp, target);
  try {
    const dfd = openSync(dirname(target), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself is still atomic.
  }
}

/**
 * Starts writing a file's dirty pages to disk in the background, one flush at a time, so that
 * the fsync at the end finds little left to write: a 500 MB import otherwise waited a second
 * there, with every thread idle.
 */
class BackgroundFlush {
  private fd: number | null;
  private running: Promise<void> | null = null;

  constructor(path: string) {
    this.fd = openSync(path, 'r+');
  }

  /** Starts a flush unless one is running. Failures are left to the final fsync to report. */
  start(): void {
    const fd = this.fd;
    if (fd === null || this.running) return;
    this.running = new Promise((resolve) =>
      fdatasync(fd, () => {
        this.running = null;
        resolve();
      }),
    );
  }

  async close(): Promise<void> {
    await this.running;
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Records written between background flushes (about 30 MB of pages). */
const FLUSH_EVERY = 16_384;

/** Where a stored record stands, for the upsert decision. */
interface Stored {
  rowid: number;
  modified: string;
}

/**
 * Writes a new DB generation: the current DB (if any) is copied to a temp file beside the
 * target, records are upserted there in one transaction, and `commit()` renames it over the
 * target. Until then the old DB is untouched, so an interrupted import leaves it usable.
 *
 * A new DB is filled in bulk mode: no index exists yet (stored ids are tracked in memory) and
 * each index is built once at commit, by sorting, instead of growing row by row. The first record
 * that must change or delete a row already written ends bulk mode early.
 */
export class DbWriter {
  private readonly stmt;
  private closed = false;
  private readonly flush: BackgroundFlush;
  private unflushed = 0;
  /** Bulk mode's record ids (null once the indexes exist). */
  private bulk: Map<string, Stored> | null;
  /**
   * Per-ecosystem counts kept while every row is an insert (bulk mode to the end); otherwise
   * null, and commit computes them from the tables.
   */
  private stats: Map<string, { records: number; newest: string }> | null;

  private constructor(
    private readonly db: Database.Database,
    readonly target: string,
    readonly tmp: string,
    bulk: boolean,
  ) {
    this.bulk = bulk ? new Map() : null;
    this.stats = bulk ? new Map() : null;
    this.flush = new BackgroundFlush(tmp);
    this.stmt = {
      insertAffected: db.prepare(
        'INSERT INTO affected (record, id, eco_base, name, ecosystem, head, entries, summary, severity, low, high) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      find: db.prepare<[string], Stored>('SELECT rowid, modified FROM records WHERE id = ?'),
      insert: db.prepare('INSERT INTO records (id, modified, detail, refs) VALUES (?, ?, ?, ?)'),
      update: db.prepare('UPDATE records SET modified = ?, detail = ?, refs = ? WHERE rowid = ?'),
      deleteRecord: db.prepare('DELETE FROM records WHERE rowid = ?'),
      deleteAffected: db.prepare('DELETE FROM affected WHERE record = ?'),
      deleteAffectedPkg: db.prepare('DELETE FROM affected WHERE record = ? AND ecosystem = ? AND name = ?'),
      // The stored severities were worked out with the old record fields: those rows fall back to the evaluator.
      updateHead: db.prepare('UPDATE affected SET head = ?, severity = NULL WHERE record = ?'),
      deleteAliases: db.prepare('DELETE FROM aliases WHERE record = ?'),
      insertAlias: db.prepare('INSERT INTO aliases (alias, record) VALUES (?, ?)'),
      setMeta: db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
    };
  }

  /** Starts a generation; `fresh` ignores the current DB instead of building on it. */
  static async open(target: string, opts: { fresh?: boolean } = {}): Promise<DbWriter> {
    await mkdir(dirname(target), { recursive: true });
    await removeStaleTemps(target);
    const tmp = tempPathFor(target);
    let db: Database.Database | undefined;
    let w: DbWriter | undefined;
    try {
      let existing = false;
      if (!opts.fresh) {
        try {
          await copyFile(target, tmp);
          existing = true;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
      if (existing) {
        try {
          checkSqliteHeader(tmp);
          db = new Database(tmp);
          checkMeta(db, target);
        } catch (err) {
          throw new UserInputError(
            `the DB at ${target} cannot be extended (${(err as Error).message.split(': run')[0]}); pass --fresh to rebuild it`,
          );
        }
      } else {
        db = new Database(tmp);
        db.exec(TABLES);
      }
      // The temp file is private until the rename: no journal, no fsync per transaction, no lock
      // traffic. (Failure means deleting the temp file, never a rollback.) better-sqlite3's
      // defensive mode refuses journal_mode=OFF, so it is lifted for this one pragma.
      db.unsafeMode(true);
      db.pragma('journal_mode = OFF');
      db.unsafeMode(false);
      db.pragma('synchronous = OFF');
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('cache_size = -65536');
      w = new DbWriter(db, target, tmp, !existing);
      w.setMeta('format', FORMAT);
      w.setMeta('schema_version', String(SCHEMA_VERSION));
      w.setMeta('complete', '0');
      db.exec('BEGIN');
      return w;
    } catch (err) {
      if (w) await w.abort();
      else {
        db?.close();
        await rm(tmp, { force: true });
      }
      throw err;
    }
  }

  setMeta(key: string, value: string): void {
    this.stmt.setMeta.run(key, value);
  }

  getMeta(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  private find(id: string): Stored | undefined {
    return this.bulk ? this.bulk.get(id) : this.stmt.find.get(id);
  }

  /** Ends bulk mode: every index is built, from rows already in place. */
  private endBulk(): void {
    if (!this.bulk) return;
    this.bulk = null;
    this.db.exec(INDEXES);
  }

  /**
   * Upserts one checked record: a newer `modified` replaces the stored one, an older or equal one
   * is ignored (imports are idempotent); a withdrawn record removes what it withdraws.
   * `mergeAffected` keeps stored packages the new version does not mention (feeds such as
   * Alpine's secdb are split over several files that each hold part of one advisory).
   */
  put(rec: OsvRecord, origin: string, mergeAffected = false): PutResult {
    return this.putPrepared(prepareRecord(rec, origin), mergeAffected);
  }

  /** `put` for a record already prepared (possibly on another thread). */
  putPrepared(rec: PreparedRecord, mergeAffected = false): PutResult {
    const { modified, groups, head, detail, refs } = rec;
    const existing = this.find(rec.id);
    if (rec.withdrawn) {
      if (existing && existing.modified <= modified) {
        this.endBulk();
        this.stats = null;
        this.stmt.deleteAffected.run(existing.rowid);
        this.stmt.deleteAliases.run(existing.rowid);
        this.stmt.deleteRecord.run(existing.rowid);
      }
      return 'withdrawn';
    }
    if (existing && (existing.modified > modified || (existing.modified === modified && !mergeAffected)))
      return 'unchanged';

    let rowid: number;
    if (existing) {
      this.endBulk();
      rowid = existing.rowid;
      this.stmt.update.run(modified, detail, refs, rowid);
      this.stmt.deleteAliases.run(rowid);
      if (mergeAffected) {
        for (const g of groups) this.stmt.deleteAffectedPkg.run(rowid, g.ecosystem, g.name);
        this.stmt.updateHead.run(head, rowid);
      } else this.stmt.deleteAffected.run(rowid);
    } else {
      rowid = Number(this.stmt.insert.run(rec.id, modified, detail, refs).lastInsertRowid);
      this.bulk?.set(rec.id, { rowid, modified });
    }
    if (this.stats) {
      if (existing) this.stats = null;
      else
        for (const eco of new Set(groups.map((g) => g.ecosystem))) {
          const e = this.stats.get(eco);
          if (!e) this.stats.set(eco, { records: 1, newest: modified });
          else {
            e.records++;
            if (modified > e.newest) e.newest = modified;
          }
        }
    }
    for (const g of groups)
      this.stmt.insertAffected.run(
        rowid,
        rec.id,
        g.ecoBase,
        g.name,
        g.ecosystem,
        head,
        g.entries,
        g.summary,
        g.severity,
        g.low,
        g.high,
      );
    for (const a of rec.aliases) this.stmt.insertAlias.run(a, rowid);
    if (++this.unflushed >= FLUSH_EVERY) {
      this.unflushed = 0;
      this.flush.start();
    }
    return existing ? 'replaced' : 'inserted';
  }

  /** Finishes the generation: indexes, statistics, the completion mark, then the atomic rename. */
  async commit(): Promise<void> {
    const db = this.db;
    this.endBulk();
    db.exec('DELETE FROM ecosystems');
    if (this.stats) {
      const add = db.prepare('INSERT INTO ecosystems (ecosystem, records, newest_modified) VALUES (?, ?, ?)');
      for (const [eco, e] of this.stats) add.run(eco, e.records, e.newest);
    } else
      db.exec(`INSERT INTO ecosystems (ecosystem, records, newest_modified)
               SELECT a.ecosystem, COUNT(DISTINCT a.record), MAX(r.modified)
               FROM affected a JOIN records r ON r.rowid = a.record GROUP BY a.ecosystem`);
    const total = (db.prepare('SELECT COUNT(*) AS n FROM records').get() as { n: number }).n;
    this.setMeta('records', String(total));
    this.setMeta('updated_at', new Date().toISOString());
    this.setMeta('complete', '1');
    db.exec('COMMIT');
    // Statistics from a sample of each index are enough for the planner and cost milliseconds.
    db.pragma('analysis_limit = 400');
    db.exec('ANALYZE');
    const { freelist_count: free } = db.prepare('PRAGMA freelist_count').get() as { freelist_count: number };
    const { page_count: pages } = db.prepare('PRAGMA page_count').get() as { page_count: number };
    if (free > pages / 4) db.exec('VACUUM');
    // The shipped file is a plain rollback-journal DB (never WAL), so it can be opened read-only anywhere.
    db.unsafeMode(true);
    db.pragma('journal_mode = DELETE');
    db.unsafeMode(false);
    db.close();
    this.closed = true;
    try {
      await this.flush.close();
      await durableRename(this.tmp, this.target);
    } catch (err) {
      await rm(this.tmp, { force: true });
      throw err;
    }
  }

  /** Drops the generation; the target is untouched. Safe to call after a failed commit. */
  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.db.close();
    }
    await this.flush.close();
    await rm(this.tmp, { force: true });
  }
}

/** Temp files a killed import or update left beside the DB more than a day ago (younger ones may be in use). */
const STALE_TEMP_MS = 24 * 3600 * 1000;

async function removeStaleTemps(target: string): Promise<void> {
  const prefix = `.${basename(target)}.`;
  const dir = dirname(target);
  for (const name of await readdir(dir)) {
    if (!name.startsWith(prefix) || !/\.tmp(\.zip|-journal)?$/.test(name)) continue;
    const path = join(dir, name);
    const st = await stat(path).catch(() => null);
    if (st?.isFile() && Date.now() - st.mtimeMs > STALE_TEMP_MS) await rm(path, { force: true });
  }
}
