import { sql } from 'kysely';
import type { Store } from './store.js';

export interface Heartbeat {
  source: string;
  lastSeenAt: number;
  alertedAt: number | null;
}

/** Records that a source spoke at `at`; clears a raised silence alert so the next silence alerts again. */
export async function touchHeartbeat(store: Store, source: string, at: number): Promise<void> {
  await store.db
    .insertInto('heartbeats')
    .values({ source, last_seen_at: at, alerted_at: null })
    .onConflict((oc) =>
      oc.column('source').doUpdateSet({
        // max() is scalar in SQLite but an aggregate in PostgreSQL (which has greatest()): CASE works in both.
        last_seen_at: sql<number>`case when heartbeats.last_seen_at > ${at} then heartbeats.last_seen_at else ${at} end`,
        alerted_at: null,
      }),
    )
    .execute();
}

export async function listHeartbeats(store: Store): Promise<Heartbeat[]> {
  const rows = await store.db.selectFrom('heartbeats').selectAll().orderBy('source').execute();
  return rows.map((r) => ({
    source: r.source,
    lastSeenAt: Number(r.last_seen_at),
    alertedAt: r.alerted_at === null ? null : Number(r.alerted_at),
  }));
}

/** Marks a silence alert raised; false if another process already did (only one alert per silence). */
export async function markSilenceAlerted(store: Store, source: string, at: number): Promise<boolean> {
  const res = await store.db
    .updateTable('heartbeats')
    .set({ alerted_at: at })
    .where('source', '=', source)
    .where('alerted_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Registers a source that has never spoken, so its silence counts from now. */
export async function ensureHeartbeat(store: Store, source: string, at: number): Promise<void> {
  await store.db
    .insertInto('heartbeats')
    .values({ source, last_seen_at: at, alerted_at: null })
    .onConflict((oc) => oc.column('source').doNothing())
    .execute();
}
