import { describe, expect, it } from 'vitest';
import { createBaselines } from '../../../src/watch/baselines/index.js';
import type { NormalizedEvent } from '../../../src/watch/normalize/index.js';
import { arn, cloudtrail, DAY, egressLine, HOUR, MIN, merge, ROUTINE, routine, T0 } from './streams.js';

const only = { 'rare-action': { enabled: false }, 'volume-spike': { enabled: false } } as const;

describe('baselines: first-seen (actor, action)', () => {
  it('14 days of routine then a new API: exactly one alert that states the history in words', () => {
    const history = routine('alice', 14); // one call every 20 min: 72 a day
    const t = T0 + 14 * DAY + 5 * MIN;
    const events = [
      ...history,
      cloudtrail(t, 'alice', 'iam:CreateUser'),
      cloudtrail(t + MIN, 'alice', 'iam:CreateUser'),
    ];
    const engine = createBaselines(only);
    const alerts = engine.process(events);
    expect(alerts).toHaveLength(1);
    const a = alerts[0]!;
    const n = history.length;
    const days = (t - T0) / DAY;
    expect(n).toBe(14 * 72);
    expect(a).toMatchObject({
      detector: 'first-seen-action',
      key: arn('alice'),
      severity: 'MEDIUM',
      numbers: { events: n, days: Math.round(days * 1000) / 1000, distinctActions: 4 },
      time: t,
    });
    expect(a.explanation).toBe(
      `${arn('alice')} called iam:CreateUser for the first time after 1,008 events over 14 days (4 distinct actions before)`,
    );
  });

  it('the learning period suppresses alerts: a new API on day 3 of 7 raises nothing, the same on day 8 does', () => {
    const day3 = cloudtrail(T0 + 3 * DAY, 'alice', 'iam:CreateUser');
    const day8 = cloudtrail(T0 + 8 * DAY, 'alice', 'kms:Decrypt');
    const engine = createBaselines(only);
    const alerts = engine.process(merge(routine('alice', 9), [day3, day8]));
    expect(alerts.map((a) => a.title)).toEqual([`${arn('alice')} called kms:Decrypt for the first time`]);
    // The routine's own first calls fall in alice's first 20 events (per-key learning): only CreateUser was held back.
    expect(engine.stats()['first-seen-action']!.suppressed).toBe(1);
  });

  const learning: Array<[string, number, number]> = [
    ['an actor with fewer than minEvents events is still learning', 19, 0],
    ['an actor with exactly minEvents earlier events alerts', 20, 1],
  ];
  it.each(learning)('%s', (_name, prior, expected) => {
    // bob appears after the detector-wide learning period; his own history decides.
    const start = T0 + 10 * DAY;
    const bob = Array.from({ length: prior }, (_, i) => cloudtrail(start + i * MIN, 'bob', 'sts:GetCallerIdentity'));
    const events = merge(routine('alice', 11), bob, [cloudtrail(start + prior * MIN, 'bob', 'iam:CreateAccessKey')]);
    const alerts = createBaselines(only)
      .process(events)
      .filter((a) => a.key === arn('bob'));
    // bob's first event is itself a first-seen pair but he has 0 earlier events: only CreateAccessKey can count.
    expect(alerts.map((a) => a.numbers.events)).toEqual(expected ? [prior] : []);
  });

  it('a failed first call says so', () => {
    const t = T0 + 8 * DAY;
    const denied = cloudtrail(t, 'alice', 'iam:CreateUser', { errorCode: 'AccessDenied' });
    const [a] = createBaselines(only).process(merge(routine('alice', 8), [denied]));
    expect(a!.explanation).toMatch(/\(the call failed\)$/);
  });

  it('"__proto__" is an ordinary action name', () => {
    const t = T0 + 8 * DAY;
    const odd = { ...cloudtrail(t, 'alice', 'x:y'), action: '__proto__' };
    const engine = createBaselines(only);
    const alerts = engine.process(merge(routine('alice', 8), [odd, { ...odd, timeMs: t + 1 }]));
    expect(alerts.map((a) => a.title)).toEqual([`${arn('alice')} called __proto__ for the first time`]);
  });
});

describe('baselines: rare action per actor', () => {
  const rareOnly = { 'first-seen-action': { enabled: false }, 'volume-spike': { enabled: false } } as const;
  // 10 days of routine (720 events) with iam:ListUsers on day 1 and then again 3 more times after day 8.
  const base = routine('carol', 10, 20);
  const times = [T0 + 1 * DAY + 7 * MIN, T0 + 8 * DAY + 1 * MIN, T0 + 9 * DAY + 1 * MIN, T0 + 9 * DAY + 2 * MIN];
  const events = merge(
    base,
    times.map((t) => cloudtrail(t, 'carol', 'iam:ListUsers')),
  );
  it('alerts while the action was seen fewer than k = 3 times and under 1% of events, then stops', () => {
    const alerts = createBaselines(rareOnly).process(events);
    // Earlier events at each of the three later calls, counted independently.
    const earlier = (t: number) => events.filter((e) => e.timeMs! < t).length;
    expect(alerts.map((a) => [a.numbers.count, a.numbers.events])).toEqual([
      [1, earlier(times[1]!)],
      [2, earlier(times[2]!)],
    ]);
    expect(alerts[0]!.explanation).toBe(
      `${arn('carol')} called iam:ListUsers, seen only 1 time in ${earlier(times[1]!).toLocaleString('en-US')} events over 8 days (0.2% < 1%, 1 < 3)`,
    );
  });
  it('an action above the share threshold is not rare', () => {
    const alerts = createBaselines({ ...rareOnly, 'rare-action': { maxShare: 0.001 } }).process(events);
    expect(alerts).toEqual([]); // 1/577 = 0.17% is not below 0.1%
  });
  it("a never-seen action is not rare (that is first-seen-action's alert)", () => {
    const alerts = createBaselines(rareOnly).process(merge(base, [cloudtrail(T0 + 9 * DAY, 'carol', 'kms:Decrypt')]));
    expect(alerts).toEqual([]);
  });
  it('every routine action is common: no rare alert at all over 10 days', () => {
    expect(createBaselines(rareOnly).process(base)).toEqual([]);
    expect(ROUTINE).toHaveLength(4);
  });
});

describe('baselines: first-seen egress destination per client', () => {
  const egressOnly = {
    'first-seen-action': { enabled: false },
    'rare-action': { enabled: false },
    'volume-spike': { enabled: false },
  } as const;
  const known = ['api.stripe.com:443', 'sqs.eu-west-1.amazonaws.com:443', 'db.internal:5432'];
  const history: NormalizedEvent[] = [];
  for (let t = T0, i = 0; t < T0 + 10 * DAY; t += HOUR, i++) {
    const [host, port] = known[i % 3]!.split(':') as [string, string];
    history.push(egressLine(t, 'payments', host, Number(port)));
  }
  it('a client reaching a new host:port after 10 days raises one alert; a denied attempt says so', () => {
    const t = T0 + 10 * DAY;
    const events = [
      ...history,
      egressLine(t, 'payments', 'evil.example', 443, 'deny'),
      egressLine(t + MIN, 'payments', 'evil.example', 443, 'deny'),
      egressLine(t + 2 * MIN, 'payments', 'api.stripe.com', 8443),
    ];
    const alerts = createBaselines(egressOnly).process(events);
    expect(alerts.map((a) => a.explanation)).toEqual([
      'client payments tried to reach evil.example:443 for the first time after 240 connections to 3 destinations over 10 days (denied by the egress policy)',
      'client payments reached api.stripe.com:8443 for the first time after 242 connections to 4 destinations over 10 days',
    ]);
    expect(alerts[0]!.numbers).toEqual({ events: 240, destinations: 3, days: 10, denied: 1 });
  });
  it('clients are separate: a destination known to one client is new for another', () => {
    const t = T0 + 10 * DAY;
    const other = Array.from({ length: 30 }, (_, i) => egressLine(t + i * MIN, 'reports', 'db.internal', 5432));
    const alerts = createBaselines(egressOnly).process(
      merge(history, other, [egressLine(t + 40 * MIN, 'reports', 'api.stripe.com', 443)]),
    );
    expect(alerts.map((a) => [a.key, a.numbers.events])).toEqual([['reports', 30]]);
  });
  it('operational lines and CloudTrail events are not egress', () => {
    const engine = createBaselines(egressOnly);
    engine.process([
      ...history,
      cloudtrail(T0 + 11 * DAY, 'alice', 'iam:CreateUser'),
      // biome-ignore lint/suspicious/noExplicitAny: the normaliser's operational-line shape
      { ...egressLine(T0 + 11 * DAY, 'x', 'h', 1), raw: { event: 'start', ok: true, message: 'up' } } as any,
    ]);
    expect(engine.stats()['first-seen-egress']!.keys).toBe(1);
  });
});
