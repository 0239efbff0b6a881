import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../../src/core/errors.js';
import { CorrelationEngine, type RepeatMode } from '../../../src/watch/rules/sigma/correlation.js';
import {
  type AnyRule,
  type CorrelationRule,
  loadSigmaFiles,
  parseSigmaText,
  SigmaEngine,
} from '../../../src/watch/rules/sigma/index.js';
import type { CorrelationStateStore } from '../../../src/watch/rules/state.js';
import { MemoryStateStore, SqliteStateStore } from '../../../src/watch/rules/state.js';

const fixtures = new URL('../../fixtures/watch/', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, fixtures), 'utf8');

function build(rules: readonly AnyRule[], repeat: RepeatMode, store?: CorrelationStateStore) {
  const sigma = new SigmaEngine();
  for (const r of rules) if (r.kind === 'detection') sigma.add(r);
  const corr = new CorrelationEngine(
    rules.filter((r): r is CorrelationRule => r.kind === 'correlation'),
    { repeat, ...(store ? { store } : {}) },
  );
  const feed = (event: unknown, timeMs: number, source?: string) => {
    const hits = sigma.evaluate(event, source);
    return {
      detections: hits,
      correlations: corr.process(
        hits.map((h) => ({ ...(h.id ? { id: h.id } : {}), ...(h.name ? { name: h.name } : {}), event, time: timeMs })),
      ),
    };
  };
  return { sigma, corr, feed };
}

interface Step {
  t: number;
  event: unknown;
  expect_correlations: number | null;
  expect_detections?: number;
  expect_aggregated_value?: number;
  expect_group_key?: Array<[string, unknown]>;
  expect_correlation_title?: string;
  expect_any_correlation_title?: string;
  expect_detection_title?: string;
}

describe('correlation: rsigma scenarios (crates/rsigma-eval/src/correlation_engine/tests.rs)', () => {
  const scenarios: Array<{ id: string; source: string; rules_yaml: string; steps: Step[] }> = JSON.parse(
    read('sigma/matching/rsigma-correlation-scenarios.json'),
  );
  it('has 17 scenarios and 52 steps', () => {
    expect(scenarios).toHaveLength(17);
    expect(scenarios.flatMap((s) => s.steps)).toHaveLength(52);
  });
  // rsigma fires on every event while a condition holds: that is repeat mode "every".
  it.each(scenarios.map((s) => [s.id, s.source, s] as const))('%s %s', (_id, _src, s) => {
    const { feed } = build(parseSigmaText(s.rules_yaml), 'every');
    for (const st of s.steps) {
      const { detections, correlations } = feed(st.event, st.t * 1000);
      const at = `t=${st.t}`;
      if (st.expect_correlations !== null) expect(correlations.length, at).toBe(st.expect_correlations);
      if (st.expect_detections !== undefined) expect(detections.length, at).toBe(st.expect_detections);
      if (st.expect_aggregated_value !== undefined) expect(correlations[0]?.value, at).toBe(st.expect_aggregated_value);
      if (st.expect_group_key !== undefined) expect(correlations[0]?.group, at).toEqual(st.expect_group_key);
      if (st.expect_correlation_title !== undefined)
        expect(correlations[0]?.rule.title, at).toBe(st.expect_correlation_title);
      if (st.expect_any_correlation_title !== undefined) {
        expect(
          correlations.map((c) => c.rule.title),
          at,
        ).toContain(st.expect_any_correlation_title);
      }
      if (st.expect_detection_title !== undefined) expect(detections[0]?.title, at).toBe(st.expect_detection_title);
    }
  });
});

describe('correlation: rule parsing', () => {
  it.each(['event_count', 'value_count', 'temporal', 'temporal_ordered', 'value_sum', 'value_avg', 'value_percentile'])(
    'the specification example %s parses',
    (type) => {
      const rules = parseSigmaText(read(`sigma/spec/correlation/${type}.yml`));
      expect(rules.map((r) => (r.kind === 'correlation' ? r.type : r.kind))).toContain(type);
    },
  );
  it("pySigma's valid correlation fixture parses with aliases and timespans", () => {
    const rules = parseSigmaText(read('sigma/pysigma-correlation_rule.yml'));
    const corrs = rules.filter((r): r is CorrelationRule => r.kind === 'correlation');
    expect(corrs.map((c) => [c.type, c.timespanMs])).toEqual([
      ['event_count', 15 * 60_000],
      ['value_count', 15 * 60_000],
      ['temporal', 15 * 60_000],
    ]);
    expect(corrs[2]!.aliases.field).toEqual({ base_rule_1: 'fieldC', base_rule_2: 'fieldD' });
    const e = new CorrelationEngine(corrs);
    expect(() => e.validate(rules.filter((r) => r.kind === 'detection'))).not.toThrow();
  });
  it.each([
    ['no timespan', 'type: event_count\n  rules: [a]\n  condition: {gte: 2}', /timespan/],
    ['bad timespan', 'type: event_count\n  rules: [a]\n  timespan: 5 minutes\n  condition: {gte: 2}', /timespan/],
    ['unknown type', 'type: magic\n  rules: [a]\n  timespan: 5m\n  condition: {gte: 2}', /unknown correlation type/],
    ['value_count without field', 'type: value_count\n  rules: [a]\n  timespan: 5m\n  condition: {gte: 2}', /field/],
    ['no rules', 'type: event_count\n  rules: []\n  timespan: 5m\n  condition: {gte: 2}', /rules/],
  ])('refuses a correlation with %s', (_n, body, msg) => {
    expect(() => parseSigmaText(`title: c\ncorrelation:\n  ${body}\n`)).toThrow(msg);
  });
  it('an unknown referenced rule is reported by validate()', () => {
    const rules = parseSigmaText(
      'title: c\ncorrelation:\n  type: event_count\n  rules: [nope]\n  timespan: 1m\n  condition: {gte: 2}\n',
    );
    expect(() => new CorrelationEngine(rules as CorrelationRule[]).validate([])).toThrow(/unknown rule "nope"/);
  });
});

describe('correlation: console-login brute force (shipped rule, real CloudTrail record)', () => {
  const shipped = fileURLToPath(new URL('../../../rules/sigma/palisade/', import.meta.url));
  const records: Array<Record<string, unknown>> = JSON.parse(
    read('cloudtrail/stratus-red-team/aws.initial-access.console-login-without-mfa.json'),
  ).Records;
  const login = records.find((r) => r.eventName === 'ConsoleLogin')!;
  // The sample is a successful login; a failed one differs as AWS documents: Failure + errorMessage.
  const failure = (ip: string) => ({
    ...login,
    sourceIPAddress: ip,
    responseElements: { ConsoleLogin: 'Failure' },
    errorMessage: 'Failed authentication',
  });
  const t0 = Date.parse(login.eventTime as string);
  const sec = (s: number) => t0 + s * 1000;
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('the successful sample itself does not count as a failure', async () => {
    const { feed } = build(await loadSigmaFiles([shipped]), 'window');
    expect(feed(login, t0, 'aws.cloudtrail').detections).toHaveLength(0);
  });

  it('fires once per 5-minute window per address, not once per failure', async () => {
    const { feed } = build(await loadSigmaFiles([shipped]), 'window');
    const fired: Array<[number, string]> = [];
    // 12 failures from one address within 3 minutes, 4 from another (below the threshold of 5).
    for (let i = 0; i < 12; i++) {
      for (const c of feed(failure('198.51.100.7'), sec(i * 15), 'aws.cloudtrail').correlations)
        fired.push([i, String(c.group[0]![1])]);
    }
    for (let i = 0; i < 4; i++) {
      expect(feed(failure('203.0.113.9'), sec(i * 10), 'aws.cloudtrail').correlations).toHaveLength(0);
    }
    expect(fired).toEqual([[4, '198.51.100.7']]);
    // A new burst after the window has passed raises a new alert.
    const later: number[] = [];
    for (let i = 0; i < 5; i++)
      later.push(feed(failure('198.51.100.7'), sec(600 + i), 'aws.cloudtrail').correlations.length);
    expect(later).toEqual([0, 0, 0, 0, 1]);
  });

  it('failures spread wider than 5 minutes never fire', async () => {
    const { feed } = build(await loadSigmaFiles([shipped]), 'window');
    const n = [0, 1, 2, 3, 4, 5, 6, 7].map(
      (i) => feed(failure('198.51.100.7'), sec(i * 80), 'aws.cloudtrail').correlations.length,
    );
    expect(n.reduce((a, b) => a + b)).toBe(0);
  });

  it('survives a restart mid-window: 3 failures, close, reopen from the state file, 2 more -> fires once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-corr-'));
    dirs.push(dir);
    const file = join(dir, 'state.db');
    const rules = await loadSigmaFiles([shipped]);
    const first = build(rules, 'window', new SqliteStateStore(file));
    for (let i = 0; i < 3; i++)
      expect(first.feed(failure('198.51.100.7'), sec(i * 20), 'aws.cloudtrail').correlations).toHaveLength(0);
    first.corr.close();

    const second = build(rules, 'window', new SqliteStateStore(file));
    const counts = [3, 4].map(
      (i) => second.feed(failure('198.51.100.7'), sec(i * 20), 'aws.cloudtrail').correlations.length,
    );
    expect(counts).toEqual([0, 1]);
    // And the "already fired" mark survives too: a further restart and failure in the window stays quiet.
    second.corr.close();
    const third = build(rules, 'window', new SqliteStateStore(file));
    expect(third.feed(failure('198.51.100.7'), sec(100), 'aws.cloudtrail').correlations).toHaveLength(0);
    third.corr.close();
  });

  it('without the state file the same restart would miss the alert (the store is what carries it)', async () => {
    const rules = await loadSigmaFiles([shipped]);
    const first = build(rules, 'window', new MemoryStateStore());
    for (let i = 0; i < 3; i++) first.feed(failure('198.51.100.7'), sec(i * 20), 'aws.cloudtrail');
    const second = build(rules, 'window', new MemoryStateStore());
    const counts = [3, 4].map(
      (i) => second.feed(failure('198.51.100.7'), sec(i * 20), 'aws.cloudtrail').correlations.length,
    );
    expect(counts).toEqual([0, 0]);
  });

  it('prune() forgets groups whose window has passed, and keeps live ones', async () => {
    const store = new MemoryStateStore();
    const { feed, corr } = build(await loadSigmaFiles([shipped]), 'window', store);
    feed(failure('198.51.100.1'), sec(0), 'aws.cloudtrail');
    feed(failure('198.51.100.2'), sec(400), 'aws.cloudtrail');
    expect(corr.prune()).toBe(1);
    // The live group still counts: 4 more failures from .2 within the window complete it.
    const n = [401, 402, 403, 404].map(
      (s) => feed(failure('198.51.100.2'), sec(s), 'aws.cloudtrail').correlations.length,
    );
    expect(n).toEqual([0, 0, 0, 1]);
  });

  it('a state file that cannot be opened is an UnavailableError naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-corr-'));
    dirs.push(dir);
    expect(() => new SqliteStateStore(dir)).toThrow(UnavailableError);
    expect(() => new SqliteStateStore(dir)).toThrow(/cannot open/);
  });

  it('the state store drops expired windows', () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-corr-'));
    dirs.push(dir);
    const s = new SqliteStateStore(join(dir, 's.db'));
    s.put('c', 'g1', '{}', 1000);
    s.put('c', 'g2', '{}', 5000);
    expect(s.prune(2000)).toBe(1);
    expect(s.get('c', 'g1')).toBeUndefined();
    expect(s.get('c', 'g2')).toBe('{}');
    s.close();
  });
});
