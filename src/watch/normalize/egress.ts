import { compact, type NormalizedEvent, type Normalizer, str, timeFields } from './types.js';

/** Strips a port from "ip:port" or "[v6]:port"; leaves a bare address alone. */
function hostOnly(addr: string | undefined): string | undefined {
  if (!addr) return undefined;
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(addr);
  if (v6) return v6[1];
  const v4 = /^([^:]+):\d+$/.exec(addr);
  return v4 ? v4[1] : addr;
}

/** Palisade's egress proxy JSON log lines: one per request or tunnel, plus operational events. */
export const egress: Normalizer = {
  source: 'egress-proxy',
  detect: (r) =>
    (typeof r.decision === 'string' && (r.type === 'http' || r.type === 'connect')) ||
    (typeof r.event === 'string' && typeof r.ok === 'boolean' && typeof r.message === 'string'),
  normalize(r): NormalizedEvent {
    if (typeof r.event === 'string') {
      return compact({
        ...timeFields(str(r.time)),
        source: 'egress-proxy',
        action: `egress ${r.event}`,
        outcome: r.ok === true ? 'success' : 'failure',
        raw: r,
      });
    }
    const host = str(r.host);
    const port = str(r.port);
    return compact({
      ...timeFields(str(r.time)),
      source: 'egress-proxy',
      actor: str(r.client) ?? hostOnly(str(r.src)),
      action: [r.type, str(r.method)].filter(Boolean).join(' '),
      resource: host ? (port ? `${host}:${port}` : host) : undefined,
      // "report" is a denial the policy let through (report mode): the request did happen.
      outcome: r.decision === 'deny' ? 'failure' : 'success',
      sourceIp: hostOnly(str(r.src)),
      ocsfClass: r.type === 'http' ? 'HTTP Activity' : 'Network Activity',
      raw: r,
    });
  },
};
