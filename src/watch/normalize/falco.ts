import { compact, type NormalizedEvent, type Normalizer, obj, str, timeFields } from './types.js';

/** Falco alerts as http_output / falcosidekick post them. */
export const falco: Normalizer = {
  source: 'falco',
  detect: (r) => typeof r.rule === 'string' && typeof r.priority === 'string' && typeof r.output === 'string',
  normalize(r): NormalizedEvent {
    const f = obj(r.output_fields);
    const container = str(f['container.name']) ?? str(f['container.id']);
    const pod = str(f['k8s.pod.name']);
    return compact({
      ...timeFields(str(r.time)),
      source: 'falco',
      actor: str(f['user.name']) ?? str(f['ka.user.name']),
      action: str(r.rule),
      resource: pod ? `${str(f['k8s.ns.name']) ?? ''}/${pod}` : (container ?? str(f['fd.name']) ?? str(r.hostname)),
      // An alert is a finding, not an attempted action: there is nothing to succeed or fail.
      outcome: 'unknown',
      sourceIp: str(f['fd.cip']) ?? str(f['fd.sip']),
      ocsfClass: 'Detection Finding',
      raw: r,
    });
  },
};
