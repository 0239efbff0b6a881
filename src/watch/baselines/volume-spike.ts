import { UserInputError } from '../../core/errors.js';
import type { NormalizedEvent } from '../normalize/index.js';
import { type BaselineDetector, type CommonOptions, dec, int, positive, r3 } from './types.js';

export interface VolumeSpikeOptions extends CommonOptions {
  /** Bucket width in minutes. */
  readonly bucketMinutes?: number;
  /** EWMA weight of the newest bucket, in (0, 1]. */
  readonly alpha?: number;
  /** Alert when (count - mean) / stdDev reaches this. */
  readonly z?: number;
  /** Completed buckets (empty ones included) a key needs before it can alert (per-key learning). */
  readonly minBuckets?: number;
  /** Never alert on fewer events than this in a bucket: 0 -> 3 is not a spike worth a page. */
  readonly minCount?: number;
  /** Floor for the standard deviation, so that a perfectly steady key does not divide by zero. */
  readonly minStdDev?: number;
  /** What to count per bucket: per actor, per source, or both. */
  readonly by?: ReadonlyArray<'actor' | 'source'>;
}

/**
 * Per key: the current bucket's index and count, and the EWMA mean and variance of the completed buckets
 * (`n` of them, empty buckets included).
 */
export interface SpikeState {
  b: number;
  c: number;
  mean: number;
  v: number;
  n: number;
  /** Already alerted in the current bucket: one alert per key per bucket. */
  alerted: boolean;
}

/** Below this, mean and variance are zero for all practical purposes: stop iterating over a long gap. */
const NEGLIGIBLE = 1e-12;

/**
 * One EWMA step (West 1979 / Finch 2009, "Incremental calculation of weighted mean and variance"):
 * diff = x - mean; mean += alpha * diff; var = (1 - alpha) * (var + alpha * diff^2). The first bucket seeds the mean.
 */
export function ewmaStep(s: { mean: number; v: number; n: number }, x: number, alpha: number): void {
  if (s.n === 0) {
    s.mean = x;
    s.v = 0;
  } else {
    const diff = x - s.mean;
    const incr = alpha * diff;
    s.mean += incr;
    s.v = (1 - alpha) * (s.v + diff * incr);
  }
  s.n++;
}

/** Events per bucket per actor and/or per source, against an exponentially weighted mean and variance. */
export function volumeSpike(options: VolumeSpikeOptions = {}): BaselineDetector<SpikeState> {
  const minutes = positive('volume-spike.bucketMinutes', options.bucketMinutes, 5);
  const alpha = positive('volume-spike.alpha', options.alpha, 0.1);
  const zMin = positive('volume-spike.z', options.z, 4);
  const minBuckets = positive('volume-spike.minBuckets', options.minBuckets, 36, true);
  const minCount = positive('volume-spike.minCount', options.minCount, 10, true);
  const minStd = positive('volume-spike.minStdDev', options.minStdDev, 1);
  const by = options.by ?? ['actor', 'source'];
  if (minutes === 0) throw new UserInputError('baselines: volume-spike.bucketMinutes must be more than 0');
  if (alpha === 0 || alpha > 1) throw new UserInputError('baselines: volume-spike.alpha must be in (0, 1]');
  for (const b of by) {
    if (b !== 'actor' && b !== 'source') throw new UserInputError(`baselines: volume-spike.by: unknown "${b}"`);
  }
  const width = minutes * 60_000;
  const perActor = by.includes('actor');
  const perSource = by.includes('source');
  return {
    name: 'volume-spike',
    version: 1,
    keys(ev: NormalizedEvent) {
      const out: string[] = [];
      if (perActor && ev.actor) out.push(`actor:${ev.actor}`);
      if (perSource) out.push(`source:${ev.source}`);
      return out;
    },
    init: (t) => ({ b: Math.floor(t / width), c: 0, mean: 0, v: 0, n: 0, alerted: false }),
    observe(s, _ev, t, key) {
      const b = Math.floor(t / width);
      if (b > s.b) {
        ewmaStep(s, s.c, alpha);
        // The buckets between held no event: each is a zero (a quiet night lowers the mean).
        const empty = b - s.b - 1;
        for (let i = 0; i < empty; i++) {
          if (s.n > 0 && s.mean < NEGLIGIBLE && s.v < NEGLIGIBLE) {
            s.mean = 0;
            s.v = 0;
            s.n += empty - i;
            break;
          }
          ewmaStep(s, 0, alpha);
        }
        s.b = b;
        s.c = 0;
        s.alerted = false;
      }
      // An event older than the current bucket (late delivery) counts in the current one.
      s.c++;
      if (s.alerted || s.n < minBuckets || s.c < minCount) return undefined;
      const sd = Math.sqrt(s.v);
      const used = Math.max(sd, minStd);
      const z = (s.c - s.mean) / used;
      if (z < zMin) return undefined;
      s.alerted = true;
      const what = key.startsWith('actor:') ? `actor ${key.slice(6)}` : `source ${key.slice(7)}`;
      const floor = sd < minStd ? ` (standard deviation ${dec(sd)} raised to the floor ${dec(minStd)})` : '';
      return {
        detector: 'volume-spike',
        key,
        severity: z >= 2 * zMin ? 'HIGH' : 'MEDIUM',
        title: `event spike for ${what}`,
        explanation:
          `events per ${dec(minutes)} min for ${what}: ${int(s.c)} vs mean ${dec(s.mean)} ± ${dec(used)} ` +
          `(z = ${dec(z)} ≥ ${dec(zMin)}) over ${int(s.n)} buckets${floor}`,
        numbers: {
          count: s.c,
          mean: r3(s.mean),
          stdDev: r3(sd),
          z: r3(z),
          threshold: zMin,
          buckets: s.n,
          bucketMinutes: minutes,
          bucketStart: s.b * width,
        },
        time: t,
      };
    },
    encode: (s) => JSON.stringify([s.b, s.c, s.mean, s.v, s.n, s.alerted ? 1 : 0]),
    decode(text) {
      const [b, c, mean, v, n, alerted] = JSON.parse(text) as number[];
      return { b: b!, c: c!, mean: mean!, v: v!, n: n!, alerted: alerted === 1 };
    },
  };
}
