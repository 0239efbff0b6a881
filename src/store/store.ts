import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { UnavailableError, UserInputError } from '../core/errors.js';
import { type Dialect, migrateToLatest } from './migrations.js';
import type { Database } from './schema.js';

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  close(): Promise<void>;
}

export interface StoreOptions {
  /**
   * `sqlite:PATH`, `sqlite::memory:`, a bare file path (SQLite), or `postgres://user:pass@host:port/db`
   * (also `postgresql://`). Default in the service: `sqlite:palisade.db`.
   */
  url: string;
  /** PostgreSQL pool size. */
  maxConnections?: number;
}

const INT8_OID = 20;

/** Opens the store and runs the migrations. The password of a PostgreSQL URL never appears in errors. */
export async function openStore(options: StoreOptions): Promise<Store> {
  const { url } = options;
  let db: Kysely<Database>;
  let dialect: Dialect;
  if (/^postgres(ql)?:\/\//.test(url)) {
    dialect = 'postgres';
    const pool = new pg.Pool({
      connectionString: url,
      max: options.maxConnections ?? 10,
      // bigint columns hold millisecond times and sequence numbers, all below 2^53: read them as numbers.
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID
            ? (v: string) => Number(v)
            : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  } else {
    dialect = 'sqlite';
    const path = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url;
    if (!path) throw new UserInputError('store: empty SQLite path');
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    let sqlite: SqliteDatabase.Database;
    try {
      sqlite = new SqliteDatabase(path);
    } catch (err) {
      throw new UnavailableError(`store: cannot open SQLite database ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    // WAL lets readers (palisade query, the CLI) run while the service writes; NORMAL sync is durable in WAL mode
    // against process crashes, which is what the outbox needs.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  }
  try {
    await migrateToLatest(db, dialect);
  } catch (err) {
    await db.destroy();
    if (err instanceof UnavailableError) throw err;
    throw new UnavailableError(`store: cannot reach the ${dialect} database: ${redact((err as Error).message, url)}`, {
      cause: err,
    });
  }
  return { db, dialect, close: () => db.destroy() };
}

function redact(message: string, url: string): string {
  try {
    const password = new URL(url).password;
    return password ? message.split(password).join('***') : message;
  } catch {
    return message;
  }
}
