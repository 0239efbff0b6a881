import { compact, type NormalizedEvent, type Normalizer, obj, str, timeFields } from './types.js';

/**
 * EventBridge envelopes that do not carry a CloudTrail record (ECS service actions, GuardDuty findings,
 * Config changes, ...). Routing patterns see them exactly as posted; the envelope is also the raw event.
 */
export const eventBridge: Normalizer = {
  source: 'aws.eventbridge',
  detect: (r) => typeof r['detail-type'] === 'string' && typeof r.source === 'string' && typeof r.detail === 'object',
  normalize(r): NormalizedEvent {
    const d = obj(r.detail);
    const resources = Array.isArray(r.resources) ? r.resources : [];
    return compact({
      ...timeFields(str(r.time)),
      source: 'aws.eventbridge',
      action: `${str(r.source)}:${str(r['detail-type'])}`,
      resource: str(resources[0]),
      outcome: 'unknown',
      account: str(r.account),
      region: str(r.region),
      actor: str(obj(d.userIdentity).arn),
      raw: r,
      envelope: r,
    });
  },
};
