import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { UnavailableError } from '../../core/errors.js';

/** One stored key: its encoded state and its recency (`seq`, larger = used more recently). */
export interface StoredBaseline {
  readonly key: string;
  readonly state: string;
  readonly seq: number;
}

/**
 * Where baseline state lives across restarts: one row per (detector, key). The engine keeps the working set in
 * memory (bounded by its key cap) and writes what changed after each batch inside one transaction, so state is
 * durable once `BaselineEngine.process` returns. Same shape as the correlation state store (rules/state.ts).
 */
export interface BaselineStateStore {
  get(detector: string, key: string): StoredBaseline | undefined;
  put(detector: string, key: string, state: string, seq: number): void;
  delete(detector: string, key: string): void;
  /** Every row of one detector, least recently used first. */
  load(detector: string): StoredBaseline[];
  /** Drops every row of one detector (its state version changed). */
  clear(detector: string): void;
  /** Runs `fn` atomically: all of its puts and deletes land, or none. */
  transaction(fn: () => void): void;
  close(): void;
}

export class MemoryBaselineStore implements BaselineStateStore {
  private readonly rows = new Map<string, Map<string, StoredBaseline>>();
  private table(d: string) {
    let t = this.rows.get(d);
    if (!t) {
      t = new Map();
      this.rows.set(d, t);
    }
    return t;
  }
  get(d: string, key: string) {
    return this.rows.get(d)?.get(key);
  }
  put(d: string, key: string, state: string, seq: number) {
    this.table(d).set(key, { key, state, seq });
  }
  delete(d: string, key: string) {
    this.rows.get(d)?.delete(key);
  }
  load(d: string) {
    return [...(this.rows.get(d)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
  }
  clear(d: string) {
    this.rows.delete(d);
  }
  transaction(fn: () => void) {
    fn();
  }
  close() {}
}

/** better-sqlite3 in WAL mode: one transaction per engine batch keeps writes cheap and a crash consistent. */
export class SqliteBaselineStore implements BaselineStateStore {
  private readonly db: Database.Database;
  private readonly getStmt: Database.Statement<[string, string], { state: string; seq: number }>;
  private readonly putStmt: Database.Statement<[string, string, string, number]>;
  private readonly delStmt: Database.Statement<[string, string]>;
  private readonly loadStmt: Database.Statement<[string], StoredBaseline>;
  private readonly clearStmt: Database.Statement<[string]>;

  constructor(file: string) {
    let db: Database.Database | undefined;
    try {
      mkdirSync(dirname(file), { recursive: true });
      db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec(`CREATE TABLE IF NOT EXISTS baseline_state (
        detector TEXT NOT NULL,
        key TEXT NOT NULL,
        state TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (detector, key)
      ) WITHOUT ROWID`);
    } catch (err) {
      db?.close();
      throw new UnavailableError(`baseline state: cannot open ${file}: ${(err as Error).message}`);
    }
    this.db = db;
    this.getStmt = this.db.prepare('SELECT state, seq FROM baseline_state WHERE detector = ? AND key = ?');
    this.putStmt = this.db.prepare(
      `INSERT INTO baseline_state (detector, key, state, seq) VALUES (?, ?, ?, ?)
       ON CONFLICT (detector, key) DO UPDATE SET state = excluded.state, seq = excluded.seq`,
    );
    this.delStmt = this.db.prepare('DELETE FROM baseline_state WHERE detector = ? AND key = ?');
    this.loadStmt = this.db.prepare('SELECT key, state, seq FROM baseline_state WHERE detector = ? ORDER BY seq');
    this.clearStmt = this.db.prepare('DELETE FROM baseline_state WHERE detector = ?');
  }

  get(d: string, key: string) {
    const row = this.getStmt.get(d, key);
    return row ? { key, state: row.state, seq: row.seq } : undefined;
  }
  put(d: string, key: string, state: string, seq: number) {
    this.putStmt.run(d, key, state, seq);
  }
  delete(d: string, key: string) {
    this.delStmt.run(d, key);
  }
  load(d: string) {
    return this.loadStmt.all(d);
  }
  clear(d: string) {
    this.clearStmt.run(d);
  }
  transaction(fn: () => void) {
    this.db.transaction(fn)();
  }
  close() {
    if (this.db.open) this.db.close();
  }
}
