import type { Store } from './store.js';

export interface AlertRecordInput {
  rule: string;
  severity: string;
  title: string;
  dedupKey: string;
  /** JSON text of the whole alert. */
  body: string;
}

export interface DueNotification {
  id: number;
  alertId: number;
  channel: string;
  attempts: number;
  nextAttemptAt: number;
  alertBody: string;
}

/**
 * Records an alert and one outbox row per channel, in one transaction, unless an alert with the same dedup key
 * was recorded within `dedupWindowMs`. Returns the new alert id, or null when deduplicated.
 */
export async function recordAlert(
  store: Store,
  alert: AlertRecordInput,
  channels: readonly string[],
  now: number,
  dedupWindowMs: number,
): Promise<number | null> {
  return store.db.transaction().execute(async (tx) => {
    const recent = await tx
      .selectFrom('alerts')
      .select('id')
      .where('dedup_key', '=', alert.dedupKey)
      .where('created_at', '>', now - dedupWindowMs)
      .limit(1)
      .executeTakeFirst();
    if (recent) return null;
    const row = await tx
      .insertInto('alerts')
      .values({
        rule: alert.rule,
        severity: alert.severity,
        title: alert.title,
        dedup_key: alert.dedupKey,
        body: alert.body,
        created_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const alertId = Number(row.id);
    if (channels.length > 0) {
      await tx
        .insertInto('notify_outbox')
        .values(
          channels.map((channel) => ({
            alert_id: alertId,
            channel,
            status: 'pending' as const,
            attempts: 0,
            next_attempt_at: now,
            last_error: null,
            created_at: now,
            sent_at: null,
          })),
        )
        .execute();
    }
    return alertId;
  });
}

export async function dueNotifications(store: Store, now: number, limit: number): Promise<DueNotification[]> {
  const rows = await store.db
    .selectFrom('notify_outbox as o')
    .innerJoin('alerts as a', 'a.id', 'o.alert_id')
    .select(['o.id', 'o.alert_id', 'o.channel', 'o.attempts', 'o.next_attempt_at', 'a.body'])
    .where('o.status', '=', 'pending')
    .where('o.next_attempt_at', '<=', now)
    .orderBy('o.next_attempt_at')
    .orderBy('o.id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: Number(r.id),
    alertId: Number(r.alert_id),
    channel: r.channel,
    attempts: r.attempts,
    nextAttemptAt: Number(r.next_attempt_at),
    alertBody: r.body,
  }));
}

/**
 * Leases a due row until `leaseUntil` so that two dispatchers (two service processes on one PostgreSQL) never
 * send the same notification at once. False when someone else got it first.
 */
export async function claimNotification(store: Store, n: DueNotification, leaseUntil: number): Promise<boolean> {
  const res = await store.db
    .updateTable('notify_outbox')
    .set({ next_attempt_at: leaseUntil })
    .where('id', '=', n.id)
    .where('status', '=', 'pending')
    .where('next_attempt_at', '=', n.nextAttemptAt)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function markNotificationSent(store: Store, id: number, attempts: number, now: number) {
  await store.db
    .updateTable('notify_outbox')
    .set({ status: 'sent', attempts, sent_at: now, last_error: null })
    .where('id', '=', id)
    .execute();
}

export async function markNotificationFailed(
  store: Store,
  id: number,
  attempts: number,
  error: string,
  nextAttemptAt: number | null,
) {
  await store.db
    .updateTable('notify_outbox')
    .set(
      nextAttemptAt === null
        ? { status: 'dead', attempts, last_error: error }
        : { attempts, last_error: error, next_attempt_at: nextAttemptAt },
    )
    .where('id', '=', id)
    .execute();
}

/** Notifications sent on a channel since `since` (for throttling). */
export async function countSentSince(store: Store, channel: string, since: number): Promise<number> {
  const row = await store.db
    .selectFrom('notify_outbox')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('channel', '=', channel)
    .where('status', '=', 'sent')
    .where('sent_at', '>=', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface OutboxRow {
  id: number;
  alertId: number;
  channel: string;
  status: string;
  attempts: number;
  lastError: string | null;
}

export async function listOutbox(store: Store): Promise<OutboxRow[]> {
  const rows = await store.db.selectFrom('notify_outbox').selectAll().orderBy('id').execute();
  return rows.map((r) => ({
    id: Number(r.id),
    alertId: Number(r.alert_id),
    channel: r.channel,
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
  }));
}
