import type { NormalizedEvent } from '../normalize/index.js';
import { bump, decodeProfile, encodeProfile, newProfile, type Profile } from './profile.js';
import { type BaselineDetector, type CommonOptions, count, days, dec, positive, r3 } from './types.js';

export interface FirstSeenActionOptions extends CommonOptions {
  /** An actor needs this many earlier events before a new action of theirs is news (per-key learning). */
  readonly minEvents?: number;
  /** Distinct actions remembered per actor (least frequent forgotten first). */
  readonly maxActionsPerActor?: number;
  /** Sources whose actions are not API calls and have their own detectors. */
  readonly excludeSources?: readonly string[];
}

/** The (actor, action) pair has never been seen: alice called iam:CreateUser for the first time. */
export function firstSeenAction(options: FirstSeenActionOptions = {}): BaselineDetector<Profile> {
  const minEvents = positive('first-seen-action.minEvents', options.minEvents, 20, true);
  const maxItems = positive('first-seen-action.maxActionsPerActor', options.maxActionsPerActor, 2000, true);
  const exclude = new Set(options.excludeSources ?? ['egress-proxy', 'falco']);
  return {
    name: 'first-seen-action',
    version: 1,
    keys: (ev: NormalizedEvent) => (ev.actor && ev.action && !exclude.has(ev.source) ? [ev.actor] : []),
    init: newProfile,
    observe(p, ev, t, key) {
      const action = ev.action!;
      const events = p.n;
      const distinct = p.items.size;
      const first = p.first;
      const before = bump(p, action, t, maxItems);
      if (before > 0 || events < minEvents) return undefined;
      const d = days(first, t);
      const failed = ev.outcome === 'failure' ? ' (the call failed)' : '';
      return {
        detector: 'first-seen-action',
        key,
        severity: 'MEDIUM',
        title: `${key} called ${action} for the first time`,
        explanation:
          `${key} called ${action} for the first time after ${count(events, 'event')} over ${dec(d)} days ` +
          `(${count(distinct, 'distinct action')} before)${failed}`,
        numbers: { events, days: r3(d), distinctActions: distinct },
        time: t,
      };
    },
    encode: encodeProfile,
    decode: decodeProfile,
  };
}
