import { cloudtrail } from './cloudtrail.js';
import { egress } from './egress.js';
import { eventBridge } from './eventbridge.js';
import { falco } from './falco.js';
import { k8sAudit } from './k8s-audit.js';
import { compact, type NormalizedEvent, type Normalizer, obj, str, timeFields } from './types.js';

export type { NormalizedEvent, Normalizer, Outcome } from './types.js';

/** Every known source, most specific first. Adding a source = one file + one line here. */
export const normalizers: readonly Normalizer[] = [cloudtrail, k8sAudit, falco, egress, eventBridge];

/**
 * Adds the common fields. `source` forces a mapping (the ingest endpoint knows what it received);
 * otherwise the event's shape decides. An EventBridge envelope whose detail is a CloudTrail record is
 * unwrapped to that record, so rules see CloudTrail fields either way.
 */
export function normalizeEvent(raw: unknown, source?: string): NormalizedEvent {
  const r = obj(raw);
  const detail = obj(r.detail);
  if (
    typeof r['detail-type'] === 'string' &&
    cloudtrail.detect(detail) &&
    (source ?? 'aws.cloudtrail') === 'aws.cloudtrail'
  ) {
    return { ...cloudtrail.normalize(detail), envelope: raw };
  }
  const chosen = source ? normalizers.find((n) => n.source === source) : normalizers.find((n) => n.detect(r));
  if (chosen && (source || chosen.detect(r))) return chosen.normalize(r);
  return compact({
    ...timeFields(str(r.time) ?? str(r['@timestamp']) ?? str(r.timestamp) ?? str(r.eventTime)),
    source: source ?? 'unknown',
    outcome: 'unknown' as const,
    raw,
  });
}
