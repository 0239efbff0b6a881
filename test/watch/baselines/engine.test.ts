import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { IntegrityError, UnavailableError, UserInputError } from '../../../src/core/errors.js';
import {
  type BaselineAlert,
  BaselineEngine,
  configureDetectors,
  createBaselines,
  MemoryBaselineStore,
  SqliteBaselineStore,
} from '../../../src/watch/baselines/index.js';
import type { NormalizedEvent } from '../../../src/watch/normalize/index.js';
import { cloudtrail, DAY, MIN, mixed, routine, T0 } from './streams.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-baselines-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const key = (a: BaselineAlert) => `${a.detector} ${a.key} ${a.time} ${a.explanation}`;

describe('baselines: engine state and restart', () => {
  const events = mixed();
  const uninterrupted = createBaselines().process(events).map(key);

  it('the mixed stream raises an alert from every detector', () => {
    expect(new Set(uninterrupted.map((k) => k.split(' ')[0]))).toEqual(
      new Set(['first-seen-action', 'rare-action', 'volume-spike', 'first-seen-egress']),
    );
  });

  const cuts: Array<[string, number]> = [
    ['a third of the way in (during learning)', Math.floor(events.length / 3)],
    ['in the middle of the burst (mid-bucket)', events.findIndex((e) => e.timeMs! >= T0 + 11 * DAY + 100_000)],
    ['right before the new egress destination', events.findIndex((e) => e.resource === 'evil.example:443')],
  ];
  it.each(cuts)('a restart from the SQLite state %s gives the same alerts as an uninterrupted run', (_n, cut) => {
    expect(cut).toBeGreaterThan(0);
    const file = join(dir, `restart-${cut}.db`);
    const first = createBaselines({}, { store: new SqliteBaselineStore(file) });
    const a = first.process(events.slice(0, cut));
    first.close();
    const second = createBaselines({}, { store: new SqliteBaselineStore(file) });
    const b = second.process(events.slice(cut));
    second.close();
    expect([...a, ...b].map(key)).toEqual(uninterrupted);
  });

  it('batching does not change the result: one event per process() call gives the same alerts', () => {
    const store = new SqliteBaselineStore(join(dir, 'per-event.db'));
    const engine = createBaselines({}, { store });
    const out = events.flatMap((e) => engine.process([e]));
    engine.close();
    expect(out.map(key)).toEqual(uninterrupted);
  });

  it('state of another detector version is discarded, not misread', () => {
    const store = new MemoryBaselineStore();
    const [first] = configureDetectors({ 'rare-action': { enabled: false } });
    const engine = new BaselineEngine([first!], { store });
    engine.process(routine('alice', 1));
    expect(engine.stats()['first-seen-action']!.keys).toBe(1);
    const bumped = { ...first!, detector: { ...first!.detector, version: first!.detector.version + 1 } };
    const reopened = new BaselineEngine([bumped], { store });
    expect(reopened.stats()['first-seen-action']!.keys).toBe(0);
    expect(store.load('first-seen-action')).toEqual([]);
  });
});

describe('baselines: bounded memory', () => {
  // 1,000 actors, each calling a few times; the cap is 100 keys per detector.
  const events: NormalizedEvent[] = [];
  for (let i = 0; i < 3000; i++) events.push(cloudtrail(T0 + i * 1000, `user${i % 1000}`, 'sts:GetCallerIdentity'));

  it('never holds more than maxKeys keys per detector, in memory or in the store', () => {
    const store = new MemoryBaselineStore();
    const engine = createBaselines({}, { store, maxKeys: 100 });
    for (let i = 0; i < events.length; i += 250) {
      engine.process(events.slice(i, i + 250));
      for (const [name, s] of Object.entries(engine.stats())) {
        expect(s.keys, name).toBeLessThanOrEqual(100);
        // + the detector's meta row
        expect(store.load(name).length, name).toBeLessThanOrEqual(101);
      }
    }
    const stats = engine.stats();
    expect(stats['first-seen-action']).toMatchObject({ keys: 100, evictions: 2900 });
    // volume-spike has 1,000 actor keys plus 1 source key competing for 100 places
    expect(stats['volume-spike']!.keys).toBe(100);
  });

  it('evicts the least recently used key: the 100 most recent actors stay', () => {
    const store = new SqliteBaselineStore(join(dir, 'evict.db'));
    const engine = createBaselines({}, { store, maxKeys: 100 });
    engine.process(events);
    engine.close();
    const reopened = new SqliteBaselineStore(join(dir, 'evict.db'));
    const keys = reopened
      .load('first-seen-action')
      .map((r) => r.key)
      .filter(Boolean);
    reopened.close();
    expect(keys).toEqual(Array.from({ length: 100 }, (_, i) => `arn:aws:iam::111122223333:user/user${900 + i}`));
  });

  it('an evicted actor starts learning afresh (no alert on their next new action)', () => {
    const engine = createBaselines({ 'first-seen-action': { minEvents: 2, learningDays: 0 } }, { maxKeys: 2 });
    const t = T0;
    const alerts = engine.process([
      cloudtrail(t, 'a', 's3:GetObject'),
      cloudtrail(t + 1, 'a', 's3:GetObject'),
      cloudtrail(t + 2, 'a', 's3:GetObject'),
      cloudtrail(t + 3, 'b', 's3:GetObject'),
      cloudtrail(t + 4, 'c', 's3:GetObject'), // evicts a
      cloudtrail(t + 5, 'a', 'iam:CreateUser'), // a is new again: 0 earlier events
      cloudtrail(t + 6, 'c', 's3:GetObject'),
      cloudtrail(t + 7, 'c', 'iam:CreateUser'), // c has 2 earlier events: alerts
    ]);
    expect(alerts.filter((x) => x.detector === 'first-seen-action').map((x) => x.key)).toEqual([
      'arn:aws:iam::111122223333:user/c',
    ]);
  });

  it('a store written with a larger cap is trimmed to the newest keys when reopened', () => {
    const store = new MemoryBaselineStore();
    createBaselines({}, { store, maxKeys: 1000 }).process(events);
    const smaller = createBaselines({}, { store, maxKeys: 10 });
    expect(smaller.stats()['first-seen-action']!.keys).toBe(10);
  });
});

describe('baselines: configuration errors', () => {
  const bad: Array<[string, () => unknown, RegExp]> = [
    ['unknown detector', () => createBaselines({ nope: {} } as never), /unknown detector "nope"/],
    ['negative learning period', () => createBaselines({ 'rare-action': { learningDays: -1 } }), /learningDays/],
    ['fractional key cap', () => createBaselines({}, { maxKeys: 1.5 }), /maxKeys must be a non-negative integer/],
    ['zero key cap', () => createBaselines({}, { maxKeys: 0 }), /maxKeys must be at least 1/],
    ['bad share', () => createBaselines({ 'rare-action': { maxShare: Number.NaN } }), /maxShare/],
  ];
  it.each(bad)('%s is a UserInputError', (_n, fn, msg) => {
    expect(fn).toThrow(UserInputError);
    expect(fn).toThrow(msg);
  });
});

describe('baselines: event time, never the wall clock', () => {
  it('an event without a time takes the time of the one before it', () => {
    const engine = createBaselines({ 'first-seen-action': { minEvents: 1, learningDays: 0 } });
    const first = cloudtrail(T0, 'a', 's3:GetObject');
    const { time: _t, timeMs: _m, ...untimed } = cloudtrail(T0, 'a', 'iam:CreateUser');
    const alerts = engine.process([first, untimed as NormalizedEvent]);
    expect(alerts.map((a) => [a.detector, a.time])).toEqual([['first-seen-action', T0]]);
  });
});

describe('baselines: damaged state is a clear error', () => {
  it('a row that does not decode is an IntegrityError naming the detector and key', () => {
    const store = new MemoryBaselineStore();
    store.put('first-seen-action', 'arn:aws:iam::1:user/x', '{not json', 1);
    expect(() => createBaselines({}, { store })).toThrow(IntegrityError);
    expect(() => createBaselines({}, { store })).toThrow(
      /first-seen-action key "arn:aws:iam::1:user\/x" does not decode/,
    );
  });
  it('a meta row of the wrong shape is an IntegrityError', () => {
    const store = new MemoryBaselineStore();
    store.put('volume-spike', '', '[1,2]', 0);
    expect(() => createBaselines({}, { store })).toThrow(/volume-spike: meta row is not/);
  });
  it('a file that is not SQLite is reported as unavailable state', () => {
    const file = join(dir, 'not-a-db.db');
    writeFileSync(file, 'hello, this is not a database file at all, just some text that is long enough');
    expect(() => new SqliteBaselineStore(file)).toThrow(UnavailableError);
    expect(() => new SqliteBaselineStore(file)).toThrow(/cannot open .*not-a-db\.db/);
  });
});

describe('baselines: reader cursor and clock survive a restart', () => {
  it('the cursor given with the last durable batch is there after reopening, and so is the event clock', () => {
    const file = join(dir, 'cursor.db');
    const first = createBaselines(
      { 'first-seen-action': { minEvents: 1, learningDays: 0 } },
      {
        store: new SqliteBaselineStore(file),
      },
    );
    expect(first.lastCursor()).toBeUndefined();
    first.process([cloudtrail(T0, 'a', 's3:GetObject')], 'file.json:1');
    first.process([cloudtrail(T0 + MIN, 'a', 's3:GetObject')], 'file.json:2');
    // observed but never made durable: lost with the "crash", and so is its cursor
    first.observe(cloudtrail(T0 + 2 * MIN, 'a', 'kms:Decrypt'));
    const second = createBaselines(
      { 'first-seen-action': { minEvents: 1, learningDays: 0 } },
      {
        store: new SqliteBaselineStore(file),
      },
    );
    expect(second.lastCursor()).toBe('file.json:2');
    // An event without a time takes the restored clock (T0 + 1 min), not 0.
    const { time: _t, timeMs: _m, ...untimed } = cloudtrail(T0, 'a', 'kms:Decrypt');
    const alerts = second.process([untimed as NormalizedEvent], 'file.json:3');
    expect(alerts.map((a) => [a.title, a.time])).toEqual([
      ['arn:aws:iam::111122223333:user/a called kms:Decrypt for the first time', T0 + MIN],
    ]);
    second.close();
  });
});

describe('baselines: a process killed mid-stream (SIGKILL) resumes from its SQLite state', () => {
  it('resuming from the stored cursor gives the alerts and state of an uninterrupted run', async () => {
    const file = join(dir, 'killed.db');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./crash-child.ts', import.meta.url)), file, '7'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let seen = 0;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = [...out.matchAll(/committed (\d+)/g)];
        seen = m.length ? Number(m.at(-1)![1]) : 0;
        if (m.length >= 40 && !child.killed) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
      child.on('error', reject);
    });
    expect(out).not.toMatch(/done/);
    const events = mixed();
    const resumed = createBaselines({}, { store: new SqliteBaselineStore(file) });
    const cursor = Number(resumed.lastCursor());
    expect(cursor).toBeGreaterThanOrEqual(seen); // every cursor the child reported is durable
    expect(cursor).toBeLessThan(events.length);
    const after = resumed.process(events.slice(cursor));
    const reference = createBaselines();
    reference.process(events.slice(0, cursor));
    expect(after.map(key)).toEqual(reference.process(events.slice(cursor)).map(key));
    expect(resumed.stats()).toEqual(reference.stats());
    resumed.close();
  }, 60_000);
});
