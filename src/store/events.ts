import type { Store } from './store.js';

export interface StoredEventInput {
  eventId: string;
  source: string;
  time: number;
  receivedAt: number;
  /** JSON text of the raw event. */
  raw: string;
}

export interface StoredEvent extends StoredEventInput {
  seq: number;
}

const CHUNK = 500;

/**
 * Appends events to the outbox in one transaction. An event id already present is skipped (a shipper that
 * retries after a lost answer does not create a duplicate). Returns the ids that were new.
 */
export async function appendEvents(store: Store, events: readonly StoredEventInput[]): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  return store.db.transaction().execute(async (tx) => {
    const inserted = new Set<string>();
    for (let i = 0; i < events.length; i += CHUNK) {
      const rows = events.slice(i, i + CHUNK).map((e) => ({
        event_id: e.eventId,
        source: e.source,
        time: e.time,
        received_at: e.receivedAt,
        raw: e.raw,
        lake_file: null,
      }));
      // RETURNING after ON CONFLICT DO NOTHING yields only the rows inserted (SQLite ≥ 3.35 and PostgreSQL).
      const res = await tx
        .insertInto('events')
        .values(rows)
        .onConflict((oc) => oc.column('event_id').doNothing())
        .returning('event_id')
        .execute();
      for (const r of res) inserted.add(r.event_id);
    }
    return inserted;
  });
}

function toEvent(r: {
  seq: number;
  event_id: string;
  source: string;
  time: number;
  received_at: number;
  raw: string;
}): StoredEvent {
  return {
    seq: Number(r.seq),
    eventId: r.event_id,
    source: r.source,
    time: Number(r.time),
    receivedAt: Number(r.received_at),
    raw: r.raw,
  };
}

/** Oldest events not yet assigned to a lake file. */
export async function pendingEvents(store: Store, limit: number): Promise<StoredEvent[]> {
  const rows = await store.db
    .selectFrom('events')
    .select(['seq', 'event_id', 'source', 'time', 'received_at', 'raw'])
    .where('lake_file', 'is', null)
    .orderBy('seq')
    .limit(limit)
    .execute();
  return rows.map(toEvent);
}

/** Count, raw bytes and oldest receive time of pending events, computed in the database (cheap to poll). */
export async function pendingSummary(store: Store): Promise<{ count: number; bytes: number; oldest: number | null }> {
  const row = await store.db
    .selectFrom('events')
    .select((eb) => [
      eb.fn.countAll<number>().as('n'),
      eb.fn.sum<number>(eb.fn('length', ['raw'])).as('bytes'),
      eb.fn.min<number>('received_at').as('oldest'),
    ])
    .where('lake_file', 'is', null)
    .executeTakeFirstOrThrow();
  return {
    count: Number(row.n),
    bytes: Number(row.bytes ?? 0),
    oldest: row.oldest === null ? null : Number(row.oldest),
  };
}

export async function countPendingEvents(store: Store): Promise<number> {
  const row = await store.db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('lake_file', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Assigns events to lake files and records the files as 'writing', atomically. After a crash the files in
 * 'writing' are rebuilt from exactly these events, so the lake gets each event once.
 */
export async function assignLakeFiles(
  store: Store,
  files: readonly { name: string; seqs: readonly number[] }[],
  now: number,
): Promise<void> {
  await store.db.transaction().execute(async (tx) => {
    for (const f of files) {
      await tx
        .insertInto('lake_files')
        .values({ name: f.name, state: 'writing', events: f.seqs.length, created_at: now })
        .execute();
      for (let i = 0; i < f.seqs.length; i += CHUNK) {
        await tx
          .updateTable('events')
          .set({ lake_file: f.name })
          .where('seq', 'in', f.seqs.slice(i, i + CHUNK))
          .where('lake_file', 'is', null)
          .execute();
      }
    }
  });
}

export async function lakeFilesInState(store: Store, state: 'writing' | 'done'): Promise<string[]> {
  const rows = await store.db
    .selectFrom('lake_files')
    .select('name')
    .where('state', '=', state)
    .orderBy('name')
    .execute();
  return rows.map((r) => r.name);
}

export async function eventsOfLakeFile(store: Store, name: string): Promise<StoredEvent[]> {
  const rows = await store.db
    .selectFrom('events')
    .select(['seq', 'event_id', 'source', 'time', 'received_at', 'raw'])
    .where('lake_file', '=', name)
    .orderBy('seq')
    .execute();
  return rows.map(toEvent);
}

export async function markLakeFileDone(store: Store, name: string): Promise<void> {
  await store.db.updateTable('lake_files').set({ state: 'done' }).where('name', '=', name).execute();
}

/**
 * Deletes events already safely in the lake and received before `before`. Their ids stop deduplicating
 * retries after this, so keep `before` well behind any shipper's retry horizon (the service keeps 7 days).
 */
export async function pruneLakedEvents(store: Store, before: number): Promise<number> {
  const res = await store.db
    .deleteFrom('events')
    .where('received_at', '<', before)
    .where('lake_file', 'in', (eb) => eb.selectFrom('lake_files').select('name').where('state', '=', 'done'))
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}
