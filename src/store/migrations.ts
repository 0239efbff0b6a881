import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import { UnavailableError } from '../core/errors.js';

export type Dialect = 'sqlite' | 'postgres';

/**
 * Migrations are code, kept in one ordered list (names never change once released). They are written once for
 * both dialects; the only dialect difference is the auto-increment key type.
 */
function migrations(dialect: Dialect): Record<string, Migration> {
  // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
  const autoId = (db: Kysely<any>, table: string, column: string) =>
    dialect === 'postgres'
      ? db.schema.createTable(table).addColumn(column, 'bigserial', (c) => c.primaryKey())
      : db.schema.createTable(table).addColumn(column, 'integer', (c) => c.primaryKey().autoIncrement());
  return {
    '0001_watch_core': {
      // biome-ignore lint/suspicious/noExplicitAny: see above
      async up(db: Kysely<any>) {
        await autoId(db, 'events', 'seq')
          .addColumn('event_id', 'text', (c) => c.notNull().unique())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('time', 'bigint', (c) => c.notNull())
          .addColumn('received_at', 'bigint', (c) => c.notNull())
          .addColumn('raw', 'text', (c) => c.notNull())
          .addColumn('lake_file', 'text')
          .execute();
        await db.schema.createIndex('events_pending').on('events').columns(['lake_file', 'seq']).execute();
        await db.schema
          .createTable('lake_files')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('events', 'integer', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await autoId(db, 'alerts', 'id')
          .addColumn('rule', 'text', (c) => c.notNull())
          .addColumn('severity', 'text', (c) => c.notNull())
          .addColumn('title', 'text', (c) => c.notNull())
          .addColumn('dedup_key', 'text', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('alerts_dedup').on('alerts').columns(['dedup_key', 'created_at']).execute();
        await autoId(db, 'notify_outbox', 'id')
          .addColumn('alert_id', 'bigint', (c) => c.notNull())
          .addColumn('channel', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
          .addColumn('last_error', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('sent_at', 'bigint')
          .addUniqueConstraint('notify_outbox_alert_channel', ['alert_id', 'channel'])
          .execute();
        await db.schema
          .createIndex('notify_outbox_due')
          .on('notify_outbox')
          .columns(['status', 'next_attempt_at'])
          .execute();
        await db.schema
          .createTable('ingest_cursors')
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('item', 'text', (c) => c.notNull())
          .addColumn('version', 'text', (c) => c.notNull())
          .addColumn('read_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('ingest_cursors_pk', ['source', 'item'])
          .execute();
        await db.schema
          .createTable('heartbeats')
          .addColumn('source', 'text', (c) => c.primaryKey())
          .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
          .addColumn('alerted_at', 'bigint')
          .execute();
        await db.schema
          .createTable('kv_state')
          .addColumn('namespace', 'text', (c) => c.notNull())
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('value', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('kv_state_pk', ['namespace', 'key'])
          .execute();
      },
    },
  };
}

class ListProvider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations(this.dialect);
  }
}

/** Brings the schema up to date; idempotent. Throws UnavailableError naming the failed migration. */
// biome-ignore lint/suspicious/noExplicitAny: the migrator works on the untyped schema
export async function migrateToLatest(db: Kysely<any>, dialect: Dialect): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new ListProvider(dialect), migrationTableName: 'palisade_migrations' });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new UnavailableError(
      `store migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return (results ?? []).map((r) => r.migrationName);
}
