import type { NormalizedEvent } from '../normalize/index.js';
import { bump, decodeProfile, encodeProfile, newProfile, type Profile } from './profile.js';
import { type BaselineDetector, type CommonOptions, days, dec, int, positive, r3, count as times } from './types.js';

export interface RareActionOptions extends CommonOptions {
  /** An actor needs this many earlier events before rarity means anything (per-key learning). */
  readonly minEvents?: number;
  /** Rare = seen fewer than this many times before ... */
  readonly maxCount?: number;
  /** ... and making up less than this share of the actor's earlier events (0.01 = 1%). */
  readonly maxShare?: number;
  readonly maxActionsPerActor?: number;
  readonly excludeSources?: readonly string[];
}

/**
 * An action the actor has done before, but seldom: fewer than `maxCount` times and under `maxShare` of their
 * events. A never-seen action is first-seen-action's alert, not this one, so one event raises one of the two.
 */
export function rareAction(options: RareActionOptions = {}): BaselineDetector<Profile> {
  const minEvents = positive('rare-action.minEvents', options.minEvents, 200, true);
  const maxCount = positive('rare-action.maxCount', options.maxCount, 3, true);
  const maxShare = positive('rare-action.maxShare', options.maxShare, 0.01);
  const maxItems = positive('rare-action.maxActionsPerActor', options.maxActionsPerActor, 2000, true);
  const exclude = new Set(options.excludeSources ?? ['egress-proxy', 'falco']);
  const pct = (x: number) => `${dec(x * 100)}%`;
  return {
    name: 'rare-action',
    version: 1,
    keys: (ev: NormalizedEvent) => (ev.actor && ev.action && !exclude.has(ev.source) ? [ev.actor] : []),
    init: newProfile,
    observe(p, ev, t, key) {
      const action = ev.action!;
      const events = p.n;
      const first = p.first;
      const count = bump(p, action, t, maxItems);
      if (events < minEvents || count === 0 || count >= maxCount) return undefined;
      const share = count / events;
      if (share >= maxShare) return undefined;
      const d = days(first, t);
      return {
        detector: 'rare-action',
        key,
        severity: 'LOW',
        title: `${key} called the rarely used ${action}`,
        explanation:
          `${key} called ${action}, seen only ${times(count, 'time')} in ${times(events, 'event')} ` +
          `over ${dec(d)} days (${pct(share)} < ${pct(maxShare)}, ${int(count)} < ${int(maxCount)})`,
        numbers: { count, events, share: r3(share), maxShare, maxCount, days: r3(d) },
        time: t,
      };
    },
    encode: encodeProfile,
    decode: decodeProfile,
  };
}
