import { createHash } from 'node:crypto';
import { type Severity, severityRank } from '../core/types.js';
import {
  claimNotification,
  countSentSince,
  type DueNotification,
  dueNotifications,
  markNotificationFailed,
  markNotificationSent,
  recordAlert,
  type Store,
} from '../store/index.js';
import { type Alert, type Notifier, NotifyError, type RecordedAlert } from './types.js';

export interface Channel {
  /** Unique name; outbox rows refer to it, so renaming a channel orphans its pending rows. */
  name: string;
  notifier: Notifier;
  /** Lowest severity routed here (default LOW). */
  minSeverity?: Severity;
  /** At most this many sends per minute; the rest wait in the outbox (never dropped). */
  maxPerMinute?: number;
}

export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  /** After this many failed attempts a row is 'dead' (kept in the store for audit). */
  maxAttempts: number;
}

export interface NotificationsOptions {
  store: Store;
  channels: Channel[];
  /** An alert with the same dedup key within this window is dropped (default 10 minutes). */
  dedupWindowMs?: number;
  retry?: Partial<RetryPolicy>;
  /** How often the dispatcher looks for due rows (default 1 s). */
  pollMs?: number;
  now?: () => number;
  /** Called with each delivery outcome (for logs/metrics); never with secrets. */
  onOutcome?: (o: { channel: string; alertId: number; ok: boolean; error?: string; attempts: number }) => void;
}

const DEFAULT_RETRY: RetryPolicy = { baseMs: 1000, maxMs: 5 * 60_000, maxAttempts: 50 };
const LEASE_MS = 60_000;

/** Exponential backoff with full jitter in [delay/2, delay]: spreads retries of many rows after an outage. */
export function backoffMs(attempts: number, policy: RetryPolicy, random = Math.random): number {
  const delay = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(delay / 2 + (random() * delay) / 2);
}

export function defaultDedupKey(alert: Alert): string {
  return createHash('sha256').update(`${alert.rule}\u0000${alert.title}`).digest('hex').slice(0, 32);
}

/**
 * Alerts in, notifications out through the store's outbox: recording an alert and its outbox rows is one
 * transaction, and a row leaves the outbox only when its receiver accepted it, so a receiver that is down (or a
 * restart) loses nothing. Routing is by severity; dedupe by key within a window; throttling per channel.
 */
export class Notifications {
  private readonly retry: RetryPolicy;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = true;

  constructor(private readonly options: NotificationsOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.now = options.now ?? Date.now;
    const names = new Set<string>();
    for (const c of options.channels) {
      if (names.has(c.name)) throw new Error(`duplicate notification channel ${c.name}`);
      names.add(c.name);
    }
  }

  /** Channels an alert of this severity goes to. */
  route(severity: Severity): string[] {
    return this.options.channels
      .filter((c) => severityRank(severity) >= severityRank(c.minSeverity ?? 'LOW'))
      .map((c) => c.name);
  }

  /** Records the alert (unless a duplicate) and queues it for its channels. Null when deduplicated. */
  async raise(alert: Alert): Promise<RecordedAlert | null> {
    const now = this.now();
    const full = {
      ...alert,
      time: alert.time ?? new Date(now).toISOString(),
      dedupKey: alert.dedupKey ?? defaultDedupKey(alert),
    };
    const id = await recordAlert(
      this.options.store,
      {
        rule: full.rule,
        severity: full.severity,
        title: full.title,
        dedupKey: full.dedupKey,
        body: JSON.stringify(full),
      },
      this.route(full.severity),
      now,
      this.options.dedupWindowMs ?? 10 * 60_000,
    );
    if (id === null) return null;
    this.kick();
    return { ...full, id };
  }

  /** Sends every due row once; returns how many were sent and failed in this pass. */
  async dispatchDue(limit = 100): Promise<{ sent: number; failed: number }> {
    const { store } = this.options;
    const now = this.now();
    const due = await dueNotifications(store, now, limit);
    let sent = 0;
    let failed = 0;
    // Channels run in parallel; rows of one channel in order, so throttling counts this pass's sends too.
    const byChannel = new Map<string, DueNotification[]>();
    for (const row of due) byChannel.set(row.channel, [...(byChannel.get(row.channel) ?? []), row]);
    await Promise.all(
      [...byChannel.values()].map(async (rows) => {
        for (const row of rows) {
          const outcome = await this.deliver(row, now);
          if (outcome === 'sent') sent++;
          else if (outcome === 'failed') failed++;
        }
      }),
    );
    return { sent, failed };
  }

  private async deliver(row: DueNotification, now: number): Promise<'sent' | 'failed' | 'skipped'> {
    const { store } = this.options;
    const channel = this.options.channels.find((c) => c.name === row.channel);
    if (!channel) {
      await markNotificationFailed(store, row.id, row.attempts, `channel ${row.channel} is not configured`, null);
      return 'failed';
    }
    if (channel.maxPerMinute !== undefined) {
      const recent = await countSentSince(store, channel.name, now - 60_000);
      if (recent >= channel.maxPerMinute) {
        // Throttled: wait, without counting an attempt.
        const wait = Math.ceil(60_000 / Math.max(1, channel.maxPerMinute));
        await markNotificationFailed(store, row.id, row.attempts, 'throttled', now + wait);
        return 'skipped';
      }
    }
    if (!(await claimNotification(store, row, now + LEASE_MS))) return 'skipped';
    const alert = { ...(JSON.parse(row.alertBody) as Omit<RecordedAlert, 'id'>), id: row.alertId };
    const attempts = row.attempts + 1;
    try {
      await channel.notifier.send(alert, `${row.alertId}.${row.channel}`);
      await markNotificationSent(store, row.id, attempts, this.now());
      this.options.onOutcome?.({ channel: channel.name, alertId: row.alertId, ok: true, attempts });
      return 'sent';
    } catch (err) {
      const retryable = err instanceof NotifyError ? err.retryable : true;
      const message = err instanceof Error ? err.message : String(err);
      const next = retryable && attempts < this.retry.maxAttempts ? this.now() + backoffMs(attempts, this.retry) : null;
      await markNotificationFailed(store, row.id, attempts, message.slice(0, 500), next);
      this.options.onOutcome?.({ channel: channel.name, alertId: row.alertId, ok: false, error: message, attempts });
      return 'failed';
    }
  }

  /** Starts the background dispatcher. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Runs a pass soon (after raise()). */
  private kick(): void {
    if (!this.stopped && !this.running) this.schedule(0);
  }

  private schedule(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopped || this.running) return;
      this.running = this.dispatchDue()
        .catch(() => undefined) // the store may be briefly unavailable; the next pass retries
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.schedule(this.options.pollMs ?? 1000);
        });
    }, delay);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
