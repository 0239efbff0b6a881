import { compact, type NormalizedEvent, type Normalizer, obj, str, timeFields } from './types.js';

/** Kubernetes audit.k8s.io Event (v1 or v1beta1; old Falco traces omit apiVersion). */
export const k8sAudit: Normalizer = {
  source: 'kubernetes.audit',
  detect: (r) =>
    r.kind === 'Event' &&
    (str(r.apiVersion)?.startsWith('audit.k8s.io/') === true ||
      (typeof r.auditID === 'string' && typeof r.verb === 'string')),
  normalize(r): NormalizedEvent {
    const ref = obj(r.objectRef);
    const resource = str(ref.resource);
    const sub = str(ref.subresource);
    const code = obj(r.responseStatus).code;
    const decision = str(obj(r.annotations)['authorization.k8s.io/decision']);
    const outcome =
      decision === 'forbid' || (typeof code === 'number' && code >= 400)
        ? 'failure'
        : typeof code === 'number'
          ? 'success'
          : 'unknown';
    const path = [resource, str(ref.namespace), str(ref.name)].filter(Boolean).join('/');
    const ips = Array.isArray(r.sourceIPs) ? r.sourceIPs : [];
    return compact({
      ...timeFields(
        str(r.stageTimestamp) ??
          str(r.requestReceivedTimestamp) ??
          str(r.timestamp) ??
          str(obj(r.metadata).creationTimestamp),
      ),
      source: 'kubernetes.audit',
      actor: str(obj(r.user).username),
      action:
        [str(r.verb), resource ? `${resource}${sub ? `/${sub}` : ''}` : undefined].filter(Boolean).join(' ') ||
        undefined,
      resource: path || str(r.requestURI),
      outcome,
      sourceIp: str(ips[0]),
      ocsfClass: 'API Activity',
      raw: r,
    });
  },
};
