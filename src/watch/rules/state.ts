import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { UnavailableError } from '../../core/errors.js';

/**
 * Where correlation windows live between events and across restarts. One small record per
 * (correlation, group); `expiresAt` (event time, ms) lets old groups be dropped. This interface is what the
 * shared store will implement later; until then the SQLite file below is the durable implementation.
 */
export interface CorrelationStateStore {
  get(correlation: string, group: string): string | undefined;
  put(correlation: string, group: string, state: string, expiresAt: number): void;
  delete(correlation: string, group: string): void;
  /** Drops every record that expired before `now` (event time, ms). Returns how many went. */
  prune(now: number): number;
  close(): void;
}

export class MemoryStateStore implements CorrelationStateStore {
  private readonly rows = new Map<string, { state: string; expiresAt: number }>();
  private key(c: string, g: string) {
    return `${c}\u0000${g}`;
  }
  get(c: string, g: string) {
    return this.rows.get(this.key(c, g))?.state;
  }
  put(c: string, g: string, state: string, expiresAt: number) {
    this.rows.set(this.key(c, g), { state, expiresAt });
  }
  delete(c: string, g: string) {
    this.rows.delete(this.key(c, g));
  }
  prune(now: number) {
    let n = 0;
    for (const [k, v] of this.rows) {
      if (v.expiresAt < now) {
        this.rows.delete(k);
        n++;
      }
    }
    return n;
  }
  close() {}
}

/** better-sqlite3, WAL: a write is durable once put() returns, so a crash loses no window. */
export class SqliteStateStore implements CorrelationStateStore {
  private readonly db: Database.Database;
  private readonly getStmt: Database.Statement<[string, string], { state: string }>;
  private readonly putStmt: Database.Statement<[string, string, string, number]>;
  private readonly delStmt: Database.Statement<[string, string]>;
  private readonly pruneStmt: Database.Statement<[number]>;

  constructor(file: string) {
    try {
      mkdirSync(dirname(file), { recursive: true });
      this.db = new Database(file);
    } catch (err) {
      throw new UnavailableError(`correlation state: cannot open ${file}: ${(err as Error).message}`);
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS correlation_state (
      correlation TEXT NOT NULL,
      grp TEXT NOT NULL,
      state TEXT NOT NULL,
      expires_at INTEGER NOT NULL,
      PRIMARY KEY (correlation, grp)
    ) WITHOUT ROWID`);
    this.db.exec('CREATE INDEX IF NOT EXISTS correlation_state_expiry ON correlation_state (expires_at)');
    this.getStmt = this.db.prepare('SELECT state FROM correlation_state WHERE correlation = ? AND grp = ?');
    this.putStmt = this.db.prepare(
      `INSERT INTO correlation_state (correlation, grp, state, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (correlation, grp) DO UPDATE SET state = excluded.state, expires_at = excluded.expires_at`,
    );
    this.delStmt = this.db.prepare('DELETE FROM correlation_state WHERE correlation = ? AND grp = ?');
    this.pruneStmt = this.db.prepare('DELETE FROM correlation_state WHERE expires_at < ?');
  }

  get(c: string, g: string) {
    return this.getStmt.get(c, g)?.state;
  }
  put(c: string, g: string, state: string, expiresAt: number) {
    this.putStmt.run(c, g, state, Math.floor(expiresAt));
  }
  delete(c: string, g: string) {
    this.delStmt.run(c, g);
  }
  prune(now: number) {
    return this.pruneStmt.run(Math.floor(now)).changes;
  }
  close() {
    if (this.db.open) this.db.close();
  }
}
