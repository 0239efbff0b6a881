import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UserInputError } from '../../../src/core/errors.js';
import { compilePattern, matchesEvent, PatternSet } from '../../../src/watch/rules/eventbridge/index.js';

const dir = new URL('../../fixtures/watch/eventbridge/', import.meta.url);
// The validity file was written by Python's json module, which spells non-finite numbers as bare Infinity
// in the parsed `pattern` field; we only read `pattern_text`, so those tokens are neutralised first.
const load = (name: string) =>
  JSON.parse(readFileSync(new URL(name, dir), 'utf8').replace(/(?<=[[:,]\s*)-?Infinity/g, 'null'));

interface MatchRecord {
  id: string;
  pattern: unknown;
  pattern_text?: string;
  event: unknown;
  event_text?: string;
  match: boolean;
}
const matchRecords: MatchRecord[] = load('event-ruler-match.json');
const eventOf = (r: MatchRecord) => (r.event_text !== undefined ? JSON.parse(r.event_text) : r.event);
const patternOf = (r: MatchRecord) => r.pattern_text ?? JSON.stringify(r.pattern);

describe('eventbridge patterns: event-ruler match verdicts', () => {
  it('has the 953 upstream records', () => {
    expect(matchRecords).toHaveLength(953);
  });
  it.each(matchRecords.map((r) => [r.id, r] as const))('%s: single-pattern verdict equals event-ruler', (_id, r) => {
    expect(matchesEvent(compilePattern(patternOf(r)), eventOf(r))).toBe(r.match);
  });
  it('an indexed PatternSet of all 953 patterns gives every record its verdict', () => {
    const set = new PatternSet();
    matchRecords.forEach((r) => {
      set.add(r.id, patternOf(r));
    });
    const wrong = matchRecords.filter((r) => set.match(eventOf(r)).includes(r.id) !== r.match).map((r) => r.id);
    expect(wrong).toEqual([]);
  });
});

describe('eventbridge patterns: one name added several times is OR', () => {
  const records: Array<{ id: string; patterns: unknown[]; event: unknown; match: boolean }> = load(
    'event-ruler-match-multi-pattern.json',
  );
  it.each(records.map((r) => [r.id, r] as const))('%s', (_id, r) => {
    const set = new PatternSet();
    for (const p of r.patterns) set.add('rule', p);
    expect(set.match(r.event)).toEqual(r.match ? ['rule'] : []);
  });
});

describe('eventbridge patterns: $or expansion', () => {
  const records: Array<{
    id: string;
    pattern: unknown;
    compiler?: string;
    expected_subrule_count?: number;
    machine_addRule_accepts?: boolean;
    JsonRuleCompiler_rejects?: boolean;
  }> = load('event-ruler-or-expansion.json');
  it.each(records.map((r) => [r.id, r] as const))('%s', (_id, r) => {
    if (r.expected_subrule_count !== undefined) {
      expect(compilePattern(r.pattern).branches).toHaveLength(r.expected_subrule_count);
    } else {
      // Legacy-compiler records ($or as a plain field name) and wrong $or shapes: EventBridge's $or rejects both.
      expect(r.machine_addRule_accepts === false || r.JsonRuleCompiler_rejects === true).toBe(true);
      expect(() => compilePattern(r.pattern)).toThrow(UserInputError);
    }
  });
});

describe('eventbridge patterns: validity', () => {
  const records: Array<{
    id: string;
    pattern_text: string;
    checked_with: string;
    withOverriding: boolean;
    valid: boolean;
    computed: { JsonRuleCompiler_valid: boolean };
  }> = load('event-ruler-pattern-validity.json');
  // The legacy RuleCompiler reads "$or" as an ordinary field name; we implement EventBridge's $or, so for
  // those records the JSON compiler's verdict (recomputed upstream, in `computed`) is the expectation.
  const expected = (r: (typeof records)[number]) =>
    r.checked_with === 'RuleCompiler' && r.pattern_text.includes('"$or"') ? r.computed.JsonRuleCompiler_valid : r.valid;
  it('has the 305 upstream records, 4 of them legacy-$or', () => {
    expect(records).toHaveLength(305);
    expect(records.filter((r) => expected(r) !== r.valid)).toHaveLength(4);
  });
  it.each(records.map((r) => [r.id, r] as const))('%s: accepted or rejected as event-ruler does', (_id, r) => {
    const compile = () => compilePattern(r.pattern_text, { allowDuplicatePaths: r.withOverriding });
    if (expected(r)) expect(compile).not.toThrow();
    else expect(compile).toThrow(UserInputError);
  });
});

describe('eventbridge patterns: behaviour worth naming', () => {
  const cases: Array<[string, unknown, unknown, boolean]> = [
    [
      'anything-but suffix skips matching values',
      { a: [{ 'anything-but': { suffix: '.png' } }] },
      { a: 'x.png' },
      false,
    ],
    ['equals-ignore-case folds case', { a: [{ 'equals-ignore-case': 'ALICE' }] }, { a: 'alice' }, true],
    ['a string literal never equals a number', { a: ['5'] }, { a: 5 }, false],
    ['cidr matches inside the block (IPv6)', { ip: [{ cidr: '2001:db8::/32' }] }, { ip: '2001:db8::1' }, true],
    ['cidr refuses an address outside', { ip: [{ cidr: '10.0.0.0/8' }] }, { ip: '11.0.0.1' }, false],
    [
      'array consistency: fields from different elements do not combine',
      { r: { k: ['a'], v: ['2'] } },
      {
        r: [
          { k: 'a', v: '1' },
          { k: 'b', v: '2' },
        ],
      },
      false,
    ],
    ['exists false holds when the field is missing', { a: [{ exists: false }] }, { b: 1 }, true],
  ];
  it.each(cases)('%s', (_name, pattern, event, want) => {
    expect(matchesEvent(compilePattern(pattern), event)).toBe(want);
  });
  it('errors name the problem', () => {
    expect(() => compilePattern('{"a":[{"wildcard":"a**b"}]}')).toThrow(/Consecutive wildcard/);
    expect(() => compilePattern('{"a":[{"numeric":[">",5,"<",1]}]}')).toThrow(/Bottom must be less than top/);
    expect(() => compilePattern('{"a":[1,2')).toThrow(/invalid pattern JSON/);
  });
});
