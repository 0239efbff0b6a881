import type { Severity } from '../core/types.js';
import type { Notifications } from '../notify/index.js';
import type { EventSink, IngestEvent } from './ingest/types.js';
import { normalizeEvent } from './normalize/index.js';
import type { RuleSet } from './replay.js';
import { CorrelationEngine, type CorrelationStateStore, EventView } from './rules/index.js';

/** Ingest source names (lake partitions) -> the normaliser they feed; others are detected by shape. */
const NORMALIZER_OF: Record<string, string> = {
  cloudtrail: 'aws.cloudtrail',
  k8s_audit: 'kubernetes.audit',
  falco: 'falco',
  egress: 'egress-proxy',
};

const LEVEL: Record<string, Severity> = {
  critical: 'CRITICAL',
  high: 'HIGH',
  medium: 'MEDIUM',
  low: 'LOW',
  informational: 'LOW',
};

/**
 * The live half of `watch`: every committed event is normalised, routed by the EventBridge patterns and run
 * through the Sigma rules and correlations; each match raises an alert through the notifications outbox.
 * Correlation state lives in `state` so that a restart mid-window loses nothing.
 */
export function detectionSink(set: RuleSet, notifications: Notifications, state?: CorrelationStateStore): EventSink {
  const correlations = new CorrelationEngine(set.correlations, {
    repeat: 'window',
    ...(state ? { store: state } : {}),
  });
  const silent = new Set<string>();
  for (const c of set.correlations) if (!c.generate) for (const r of c.rules) silent.add(r);
  return async (events: readonly IngestEvent[]) => {
    for (const e of events) {
      const ev = normalizeEvent(e.data, NORMALIZER_OF[e.source]);
      const time = new Date(ev.timeMs ?? e.time).toISOString();
      const fields: Record<string, string> = {};
      for (const k of ['actor', 'action', 'resource', 'sourceIp', 'account', 'region'] as const) {
        if (ev[k]) fields[k] = String(ev[k]);
      }
      for (const r of set.router.match(ev)) {
        await notifications.raise({
          rule: `route:${r.name}`,
          severity: 'MEDIUM',
          title: `${r.name}: ${ev.action ?? 'event'} by ${ev.actor ?? 'unknown'}`,
          time,
          source: ev.source,
          fields: { ...fields, targets: r.targets.join(', ') },
        });
      }
      const hits = set.sigma.evaluateView(new EventView(ev.raw), ev.source === 'unknown' ? undefined : ev.source);
      for (const h of hits) {
        if ((h.id && silent.has(h.id)) || (h.name && silent.has(h.name))) continue;
        await notifications.raise({
          rule: `sigma:${h.id ?? h.title}`,
          severity: LEVEL[h.level ?? ''] ?? 'MEDIUM',
          title: h.title,
          time,
          source: ev.source,
          fields,
        });
      }
      const fired = correlations.process(
        hits.map((h) => ({
          ...(h.id ? { id: h.id } : {}),
          ...(h.name ? { name: h.name } : {}),
          event: ev.raw,
          time: ev.timeMs ?? e.time,
        })),
      );
      for (const c of fired) {
        await notifications.raise({
          rule: `correlation:${c.rule.id ?? c.rule.title}`,
          severity: LEVEL[c.rule.level ?? ''] ?? 'HIGH',
          title: c.rule.title,
          description: `${c.rule.title}: value ${c.value} for ${c.group.map(([k, v]) => `${k}=${String(v)}`).join(', ') || 'all events'}`,
          time: new Date(c.time).toISOString(),
          source: ev.source,
          dedupKey: `correlation:${c.rule.id ?? c.rule.title}:${c.group.map(([, v]) => String(v)).join('/')}:${c.time}`,
          fields,
        });
      }
    }
  };
}
