import { describe, expect, it } from 'vitest';
import { createBaselines, ewmaStep } from '../../../src/watch/baselines/index.js';
import type { NormalizedEvent } from '../../../src/watch/normalize/index.js';
import { cloudtrail, DAY, MIN, prng, T0 } from './streams.js';

const BUCKET = 5 * MIN;
const spikeOnly = (o: Record<string, unknown> = {}) => ({
  'first-seen-action': { enabled: false },
  'rare-action': { enabled: false },
  'volume-spike': { by: ['source'] as Array<'source'>, learningDays: 0, ...o },
});

/** Events spread evenly inside each bucket, `counts[i]` of them in bucket i. */
function fromCounts(counts: readonly number[]): NormalizedEvent[] {
  const out: NormalizedEvent[] = [];
  counts.forEach((c, i) => {
    for (let j = 0; j < c; j++)
      out.push(cloudtrail(T0 + i * BUCKET + Math.floor((j * BUCKET) / c), 'ops', 's3:GetObject'));
  });
  return out;
}

/**
 * The expected alerts, worked out over the whole list of bucket counts (empty buckets are explicit zeros here):
 * in bucket i the alert fires at the first event whose running count c satisfies c >= minCount and
 * (c - mean) / max(sd, minStd) >= z, with mean and sd the EWMA of buckets 0..i-1.
 */
function expected(counts: readonly number[], alpha: number, z: number, minBuckets: number, minCount: number) {
  const out: Array<{ bucket: number; count: number; mean: number; sd: number; z: number }> = [];
  let mean = 0;
  let v = 0;
  for (let i = 0; i < counts.length; i++) {
    if (i >= minBuckets) {
      const sd = Math.sqrt(v);
      const used = Math.max(sd, 1);
      for (let c = minCount; c <= counts[i]!; c++) {
        if ((c - mean) / used >= z) {
          out.push({ bucket: i, count: c, mean, sd, z: (c - mean) / used });
          break;
        }
      }
    }
    const x = counts[i]!;
    if (i === 0) mean = x;
    else {
      const d = x - mean;
      mean += alpha * d;
      v = (1 - alpha) * (v + alpha * d * d);
    }
  }
  return out;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

describe('baselines: EWMA step', () => {
  it('matches a hand calculation: 10 then 20 with alpha 0.1 gives mean 11, variance 9', () => {
    const s = { mean: 0, v: 0, n: 0 };
    ewmaStep(s, 10, 0.1);
    expect(s).toEqual({ mean: 10, v: 0, n: 1 });
    ewmaStep(s, 20, 0.1);
    expect(s.mean).toBeCloseTo(11, 12);
    expect(s.v).toBeCloseTo(9, 12); // 0.9 * (0 + 0.1 * 10^2)
  });
});

describe('baselines: volume spike by EWMA z-score', () => {
  // Two days of 30-50 events per 5 min with a quiet hour (12 empty buckets) each night, then one burst of 400.
  const rnd = prng(42);
  const counts: number[] = [];
  for (let i = 0; i < 576; i++) counts.push(i % 288 >= 120 && i % 288 < 132 ? 0 : 30 + Math.floor(rnd() * 21));
  counts.push(400, 40, 41);
  const events = fromCounts(counts);

  it('fires exactly where the independent computation says, with its numbers', () => {
    const want = expected(counts, 0.1, 4, 36, 10);
    expect(want.map((w) => w.bucket)).toContain(576);
    const alerts = createBaselines(spikeOnly()).process(events);
    expect(
      alerts.map((a) => ({
        bucket: (a.numbers.bucketStart! - Math.floor(T0 / BUCKET) * BUCKET) / BUCKET,
        count: a.numbers.count,
        mean: a.numbers.mean,
        sd: a.numbers.stdDev,
        z: a.numbers.z,
      })),
    ).toEqual(want.map((w) => ({ ...w, mean: round(w.mean), sd: round(w.sd), z: round(w.z) })));
    const burst = alerts.find((a) => a.numbers.bucketStart === T0 + 576 * BUCKET)!;
    const w = want.find((x) => x.bucket === 576)!;
    const one = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 1 });
    expect(burst.explanation).toBe(
      `events per 5 min for source aws.cloudtrail: ${w.count} vs mean ${one(w.mean)} ± ${one(w.sd)} (z = ${one(w.z)} ≥ 4) over 576 buckets`,
    );
    expect(burst.key).toBe('source:aws.cloudtrail');
  });

  it('one alert per key per bucket, however far the count climbs', () => {
    const alerts = createBaselines(spikeOnly()).process(events);
    const buckets = alerts.map((a) => a.numbers.bucketStart);
    expect(new Set(buckets).size).toBe(buckets.length);
  });

  it('empty buckets count as zeros: after a quiet gap the mean has decayed by (1 - alpha)^gap', () => {
    const steady = [...Array(50).fill(20), ...Array(36).fill(0), 20];
    const [a] = createBaselines(spikeOnly()).process(fromCounts(steady));
    expect(a!.numbers.buckets).toBe(86);
    expect(a!.numbers.mean).toBe(round(20 * 0.9 ** 36));
    expect(a).toMatchObject({ numbers: expected(steady, 0.1, 4, 36, 10).map((w) => ({ count: w.count }))[0] });
  });

  it('a gap of a year is handled in one step and counts every empty bucket', () => {
    const sparse = fromCounts(Array(40).fill(5));
    const late = T0 + 365 * DAY;
    for (let j = 0; j < 12; j++) sparse.push(cloudtrail(late + j, 'ops', 's3:GetObject'));
    const [a] = createBaselines(spikeOnly()).process(sparse);
    const lastBucket = Math.floor(late / BUCKET) - Math.floor(T0 / BUCKET);
    expect(a!.numbers).toMatchObject({ buckets: lastBucket, mean: 0, count: 10 });
    expect(a!.explanation).toMatch(/standard deviation 0 raised to the floor 1/);
  });

  const gates: Array<[string, Record<string, unknown>, number]> = [
    ['minBuckets not reached: no alert', { minBuckets: 600 }, 0],
    ['a higher z threshold than the burst reaches: no alert', { z: 1000 }, 0],
    ['minCount above the burst: no alert', { minCount: 401 }, 0],
    ['the detector-wide learning period covers the burst: no alert', { learningDays: 3 }, 0],
    ['learning period over before the burst: it alerts', { learningDays: 1.5 }, 1],
  ];
  it.each(gates)('%s', (_name, o, n) => {
    const alerts = createBaselines(spikeOnly(o)).process(events);
    expect(alerts.filter((a) => a.numbers.bucketStart === T0 + 576 * BUCKET)).toHaveLength(n);
  });

  it('per actor and per source are separate keys', () => {
    const engine = createBaselines({ ...spikeOnly(), 'volume-spike': { learningDays: 0 } });
    const alerts = engine.process(events);
    expect(new Set(alerts.map((a) => a.key))).toEqual(
      new Set(['source:aws.cloudtrail', 'actor:arn:aws:iam::111122223333:user/ops']),
    );
  });

  it('bad options are clear errors', () => {
    expect(() => createBaselines(spikeOnly({ alpha: 0 }))).toThrow(/alpha must be in \(0, 1\]/);
    expect(() => createBaselines(spikeOnly({ bucketMinutes: -5 }))).toThrow(/bucketMinutes must be a non-negative/);
    expect(() => createBaselines(spikeOnly({ by: ['host'] }))).toThrow(/by: unknown "host"/);
  });
});
