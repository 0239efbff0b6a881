import type { NormalizedEvent } from '../normalize/index.js';
import { bump, decodeProfile, encodeProfile, newProfile, type Profile } from './profile.js';
import { type BaselineDetector, type CommonOptions, count, days, dec, positive, r3 } from './types.js';

export interface FirstSeenEgressOptions extends CommonOptions {
  /** A client needs this many earlier connections before a new destination is news (per-key learning). */
  readonly minEvents?: number;
  readonly maxDestinationsPerClient?: number;
}

/** An egress proxy access line (not an operational line) with a client and a destination. */
function isAccess(ev: NormalizedEvent): boolean {
  if (ev.source !== 'egress-proxy' || !ev.actor || !ev.resource) return false;
  const type = (ev.raw as { type?: unknown }).type;
  return type === 'http' || type === 'connect';
}

/** A client identity reached (or tried to reach) a host:port it never reached before. */
export function firstSeenEgress(options: FirstSeenEgressOptions = {}): BaselineDetector<Profile> {
  const minEvents = positive('first-seen-egress.minEvents', options.minEvents, 20, true);
  const maxItems = positive('first-seen-egress.maxDestinationsPerClient', options.maxDestinationsPerClient, 5000, true);
  return {
    name: 'first-seen-egress',
    version: 1,
    keys: (ev: NormalizedEvent) => (isAccess(ev) ? [ev.actor!] : []),
    init: newProfile,
    observe(p, ev, t, key) {
      const dest = ev.resource!;
      const events = p.n;
      const distinct = p.items.size;
      const first = p.first;
      const before = bump(p, dest, t, maxItems);
      if (before > 0 || events < minEvents) return undefined;
      const d = days(first, t);
      const denied = ev.outcome === 'failure';
      return {
        detector: 'first-seen-egress',
        key,
        severity: 'MEDIUM',
        title: `${key} ${denied ? 'tried to reach' : 'reached'} ${dest} for the first time`,
        explanation:
          `client ${key} ${denied ? 'tried to reach' : 'reached'} ${dest} for the first time after ` +
          `${count(events, 'connection')} to ${count(distinct, 'destination')} over ${dec(d)} days` +
          (denied ? ' (denied by the egress policy)' : ''),
        numbers: { events, destinations: distinct, days: r3(d), denied: denied ? 1 : 0 },
        time: t,
      };
    },
    encode: encodeProfile,
    decode: decodeProfile,
  };
}
