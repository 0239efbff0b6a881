import { postBody } from './http.js';
import type { Notifier, RecordedAlert } from './types.js';

export interface PagerDutyOptions {
  /** Integration key of an Events API v2 integration (a secret). */
  routingKey: string;
  /** Default https://events.pagerduty.com/v2/enqueue (EU: https://events.eu.pagerduty.com/v2/enqueue). */
  url?: string;
}

const DEFAULT_URL = 'https://events.pagerduty.com/v2/enqueue';

/** PagerDuty severities are critical, error, warning, info. */
const SEVERITY: Record<string, string> = {
  CRITICAL: 'critical',
  HIGH: 'error',
  MEDIUM: 'warning',
  LOW: 'info',
  UNKNOWN: 'info',
};

/**
 * Events API v2 trigger: routing_key, event_action, dedup_key (≤ 255 chars; same key = same incident) and a
 * payload with summary (≤ 1024 chars), source, severity, timestamp, and custom_details.
 */
export function pagerDutyBody(alert: RecordedAlert, routingKey: string): Record<string, unknown> {
  const body: Record<string, unknown> = {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: alert.dedupKey.slice(0, 255),
    payload: {
      summary: `${alert.severity}: ${alert.title}`.slice(0, 1024),
      source: alert.source ?? 'palisade',
      severity: SEVERITY[alert.severity] ?? 'info',
      timestamp: alert.time,
      component: 'palisade-watch',
      class: alert.rule,
      custom_details: { rule: alert.rule, description: alert.description, ...alert.fields },
    },
    client: 'Palisade',
  };
  if (alert.link) body.links = [{ href: alert.link, text: 'Details' }];
  return body;
}

export function pagerDutyNotifier(options: PagerDutyOptions): Notifier {
  return {
    type: 'pagerduty',
    async send(alert) {
      await postBody(options.url ?? DEFAULT_URL, JSON.stringify(pagerDutyBody(alert, options.routingKey)));
    },
  };
}
