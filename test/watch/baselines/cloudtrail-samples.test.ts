import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createBaselines } from '../../../src/watch/baselines/index.js';
import { normalizeEvent } from '../../../src/watch/normalize/index.js';
import { orderByTime } from '../../../src/watch/replay.js';
import { DAY, MIN } from './streams.js';

/** Real CloudTrail records: the Stratus Red Team detonations (see test/fixtures/PROVENANCE.md). */
const dir = fileURLToPath(new URL('../../fixtures/watch/cloudtrail/stratus-red-team/', import.meta.url));
const technique = (f: string): Array<Record<string, unknown>> => JSON.parse(readFileSync(join(dir, f), 'utf8')).Records;
const files = readdirSync(dir).filter((f) => f !== 'index.json');
const records = files.flatMap(technique);

describe('baselines over the Stratus Red Team CloudTrail samples', () => {
  const ordered = orderByTime(records).map((r) => r.ev);

  it('with no learning, first-seen fires exactly once per distinct (actor, action) pair, at its first occurrence', () => {
    const engine = createBaselines({
      'first-seen-action': { learningDays: 0, minEvents: 0 },
      'rare-action': { enabled: false },
      'volume-spike': { enabled: false },
    });
    const alerts = engine.process(ordered);
    const seen = new Set<string>();
    const perActor = new Map<string, number>();
    const want: Array<[string, string, number]> = [];
    for (const ev of ordered) {
      if (!ev.actor || !ev.action) continue;
      const pair = `${ev.actor}\n${ev.action}`;
      if (!seen.has(pair)) {
        seen.add(pair);
        want.push([ev.actor, ev.action, perActor.get(ev.actor) ?? 0]);
      }
      perActor.set(ev.actor, (perActor.get(ev.actor) ?? 0) + 1);
    }
    expect(records).toHaveLength(310);
    expect(want.length).toBeGreaterThan(50);
    expect(
      alerts.map((a) => [a.key, a.title.split(' called ')[1]!.replace(' for the first time', ''), a.numbers.events]),
    ).toEqual(want);
  });

  // The attacker's identity had a quiet routine for 14 days; then each technique's real records arrive.
  const cases = files.filter((f) => {
    const recs = technique(f).map((r) => normalizeEvent(r));
    return new Set(recs.map((e) => e.actor)).size === 1 && recs.every((e) => e.actor && e.timeMs);
  });
  const routine = ['sts:GetCallerIdentity', 'ec2:DescribeInstances'];

  it.each(cases)('%s: after a 14-day routine, every new API of the technique alerts once, in order', (f) => {
    const recs = technique(f);
    const start = Math.min(...recs.map((r) => Date.parse(String(r.eventTime)))) - 14 * DAY;
    const template = recs[0]!;
    const history = [];
    for (let t = start, i = 0; t < start + 14 * DAY - MIN; t += 30 * MIN, i++) {
      const [svc, name] = routine[i % 2]!.split(':') as [string, string];
      history.push({
        ...template,
        eventTime: new Date(t).toISOString(),
        eventSource: `${svc}.amazonaws.com`,
        eventName: name,
        errorCode: undefined,
      });
    }
    const events = orderByTime([...history, ...recs]).map((r) => r.ev);
    const alerts = createBaselines({ 'rare-action': { enabled: false }, 'volume-spike': { enabled: false } }).process(
      events,
    );
    const attack = events.slice(history.length);
    const fresh: string[] = [];
    for (const ev of attack) if (!routine.includes(ev.action!) && !fresh.includes(ev.action!)) fresh.push(ev.action!);
    expect(alerts.map((a) => a.title)).toEqual(fresh.map((a) => `${attack[0]!.actor} called ${a} for the first time`));
    for (const a of alerts) {
      expect(a.explanation).toMatch(/after [\d,]+ events over 14(\.\d)? days/);
      expect(a.numbers.events).toBeGreaterThanOrEqual(history.length);
    }
  });

  it('covers most techniques', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });
});
