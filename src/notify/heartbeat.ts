import type { Severity } from '../core/types.js';
import { ensureHeartbeat, listHeartbeats, markSilenceAlerted, type Store } from '../store/index.js';
import type { Notifications } from './outbox.js';

export interface HeartbeatRule {
  source: string;
  /** Alert when nothing arrived from the source for longer than this. */
  maxSilenceMs: number;
  severity?: Severity;
}

/**
 * PCI DSS 10.7.2: a critical control that stops must be noticed. Each configured source must speak within its
 * window; one alert per silence (the store remembers it across restarts), re-armed when the source speaks.
 */
export class HeartbeatMonitor {
  constructor(
    private readonly store: Store,
    private readonly notifications: Notifications,
    private readonly rules: HeartbeatRule[],
  ) {}

  /** Registers the sources so a source that never spoke is also noticed. */
  async init(now: number): Promise<void> {
    for (const r of this.rules) await ensureHeartbeat(this.store, r.source, now);
  }

  /** Raises alerts for silent sources; returns their names. */
  async check(now: number): Promise<string[]> {
    const seen = new Map((await listHeartbeats(this.store)).map((h) => [h.source, h]));
    const silent: string[] = [];
    for (const rule of this.rules) {
      const hb = seen.get(rule.source);
      if (!hb || hb.alertedAt !== null || now - hb.lastSeenAt <= rule.maxSilenceMs) continue;
      if (!(await markSilenceAlerted(this.store, rule.source, now))) continue;
      silent.push(rule.source);
      const minutes = Math.round((now - hb.lastSeenAt) / 60_000);
      await this.notifications.raise({
        rule: 'palisade.heartbeat',
        severity: rule.severity ?? 'HIGH',
        title: `Log source ${rule.source} is silent`,
        description: `No events from ${rule.source} for ${minutes} min (limit ${Math.round(rule.maxSilenceMs / 60_000)} min). A stopped log source is a failed critical security control (PCI DSS 10.7.2).`,
        source: rule.source,
        dedupKey: `heartbeat:${rule.source}:${hb.lastSeenAt}`,
        fields: { lastSeen: new Date(hb.lastSeenAt).toISOString(), silentMinutes: minutes },
      });
    }
    return silent;
  }
}
