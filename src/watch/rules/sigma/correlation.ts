import { UserInputError } from '../../../core/errors.js';
import { type CorrelationStateStore, MemoryStateStore } from '../state.js';
import { resolveField, type Scalar } from './event.js';
import type { Comparison, CorrelationRule, SigmaRule } from './rule.js';

/**
 * Sigma correlation rules (spec v2.1): event_count, value_count, temporal, temporal_ordered, plus the extended
 * value_sum / value_avg / value_percentile. Windows slide over event time; each (correlation, group) keeps its
 * own small state in a CorrelationStateStore, written after every change, so a restart resumes mid-window.
 *
 * Repeats: rsigma fires on every event while the condition holds ("every"). For alerting we default to
 * "window": once a group fired, it stays quiet until a full timespan has passed, so a burst of 50 failed
 * logins raises one alert, not 46.
 */
export type RepeatMode = 'every' | 'window';

export interface CorrelationOptions {
  readonly store?: CorrelationStateStore;
  readonly repeat?: RepeatMode;
  /** Bound on remembered hits per group (oldest dropped first). */
  readonly maxEntriesPerGroup?: number;
}

export interface CorrelationMatch {
  readonly rule: CorrelationRule;
  readonly group: ReadonlyArray<readonly [string, Scalar]>;
  /** The aggregated value compared with the condition (count, distinct count, sum, average, ...). */
  readonly value: number;
  /** Event time (ms) of the event that completed it. */
  readonly time: number;
}

/** A rule hit as correlations see it: which rule (by its id and name) matched which event at what time. */
export interface RuleHit {
  readonly id?: string;
  readonly name?: string;
  readonly event: unknown;
  readonly time: number;
}

interface GroupState {
  /** [time, rule index in correlation.rules, value key or number or null] */
  hits: Array<[number, number, string | number | null]>;
  lastFired?: number;
}

const MAX_CHAIN = 8;
const PRUNE_EVERY = 1000;

function label(r: { id?: string; name?: string; title: string }): string {
  return r.id ?? r.name ?? r.title;
}

function compare(op: Comparison, a: number, b: number): boolean {
  switch (op) {
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
    case 'eq':
      return a === b;
    default:
      return a !== b;
  }
}

export class CorrelationEngine {
  private readonly byRef = new Map<string, Array<{ corr: CorrelationRule; index: number }>>();
  private readonly corrs: CorrelationRule[] = [];
  private readonly cache = new Map<string, GroupState>();
  private readonly store: CorrelationStateStore;
  private readonly repeat: RepeatMode;
  private readonly maxEntries: number;
  private readonly expressions = new Map<CorrelationRule, (seen: ReadonlySet<number>) => boolean>();
  private updates = 0;
  private clock = Number.NEGATIVE_INFINITY;

  constructor(correlations: readonly CorrelationRule[], options: CorrelationOptions = {}) {
    this.store = options.store ?? new MemoryStateStore();
    this.repeat = options.repeat ?? 'window';
    this.maxEntries = options.maxEntriesPerGroup ?? 100_000;
    for (const c of correlations) {
      this.corrs.push(c);
      c.rules.forEach((ref, index) => {
        const list = this.byRef.get(ref) ?? [];
        list.push({ corr: c, index });
        this.byRef.set(ref, list);
      });
      if (c.expression !== undefined) this.expressions.set(c, compileExpression(c));
    }
  }

  /** Rule ids/names referenced by any correlation (for "generate: false" filtering of base rules). */
  referenced(): Set<string> {
    return new Set(this.byRef.keys());
  }

  /** Checks that every referenced rule exists among the detection rules and correlations given. */
  validate(detections: readonly SigmaRule[]): void {
    const known = new Set<string>();
    for (const r of [...detections, ...this.corrs]) {
      if (r.id) known.add(r.id);
      if (r.name) known.add(r.name);
    }
    for (const c of this.corrs) {
      for (const ref of c.rules) {
        if (!known.has(ref)) throw new UserInputError(`correlation "${c.title}": unknown rule "${ref}"`);
      }
    }
  }

  /** Feeds the detection hits of one event; returns the correlations that fired (chains included). */
  process(hits: readonly RuleHit[]): CorrelationMatch[] {
    const out: CorrelationMatch[] = [];
    const queue: Array<[RuleHit, number]> = hits.map((h) => [h, 0]);
    while (queue.length > 0) {
      const [hit, depth] = queue.shift()!;
      const targets = new Map<CorrelationRule, number[]>();
      for (const ref of new Set([hit.id, hit.name].filter((x): x is string => x !== undefined))) {
        for (const { corr, index } of this.byRef.get(ref) ?? []) {
          const list = targets.get(corr) ?? [];
          if (!list.includes(index)) list.push(index);
          targets.set(corr, list);
        }
      }
      for (const [corr, indexes] of targets) {
        for (const index of indexes) {
          const m = this.update(corr, index, hit);
          if (m) {
            out.push(m);
            if (depth < MAX_CHAIN) {
              queue.push([
                {
                  ...(corr.id ? { id: corr.id } : {}),
                  ...(corr.name ? { name: corr.name } : {}),
                  event: hit.event,
                  time: hit.time,
                },
                depth + 1,
              ]);
            }
          }
        }
      }
    }
    return out;
  }

  close(): void {
    this.store.close();
  }

  /** Drops expired groups from the store and the cache (event time of the newest event seen). */
  prune(): number {
    const removed = this.store.prune(this.clock);
    this.cache.clear();
    return removed;
  }

  private groupOf(corr: CorrelationRule, index: number, event: unknown): Array<[string, Scalar]> {
    const ref = corr.rules[index]!;
    return corr.groupBy.map((g) => {
      const field = corr.aliases[g]?.[ref] ?? g;
      const v = resolveField(event, field);
      return [g, v && v.length > 0 ? v[0]! : null];
    });
  }

  private load(corrKey: string, groupKey: string): GroupState {
    const k = `${corrKey}\u0000${groupKey}`;
    let s = this.cache.get(k);
    if (!s) {
      const raw = this.store.get(corrKey, groupKey);
      s = raw ? (JSON.parse(raw) as GroupState) : { hits: [] };
      this.cache.set(k, s);
      if (this.cache.size > 50_000) this.cache.delete(this.cache.keys().next().value!);
    }
    return s;
  }

  private update(corr: CorrelationRule, index: number, hit: RuleHit): CorrelationMatch | null {
    const group = this.groupOf(corr, index, hit.event);
    const corrKey = label(corr);
    const groupKey = JSON.stringify(group);
    const state = this.load(corrKey, groupKey);
    const now = hit.time;
    const from = now - corr.timespanMs;

    let entry: string | number | null = null;
    if (corr.type === 'value_count') {
      const vals = (corr.field ?? []).map((f) => resolveField(hit.event, f)?.[0]);
      if (vals.some((v) => v === undefined || v === null)) return null; // nothing to count
      entry = JSON.stringify(vals);
    } else if (corr.type === 'value_sum' || corr.type === 'value_avg' || corr.type === 'value_percentile') {
      const v = resolveField(hit.event, corr.field![0]!)?.[0];
      const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN;
      if (!Number.isFinite(n)) return null;
      entry = n;
    }
    // Insert in time order (live sources may deliver slightly out of order), then drop what left the window.
    let at = state.hits.length;
    while (at > 0 && state.hits[at - 1]![0] > now) at--;
    state.hits.splice(at, 0, [now, index, entry]);
    let drop = 0;
    while (drop < state.hits.length && state.hits[drop]![0] < from) drop++;
    if (drop > 0) state.hits.splice(0, drop);
    if (state.hits.length > this.maxEntries) state.hits.splice(0, state.hits.length - this.maxEntries);

    const window = state.hits.filter((h) => h[0] <= now);
    const value = this.aggregate(corr, window);
    const holds = this.holds(corr, window, value);
    let fired = false;
    if (holds) {
      const quiet =
        this.repeat === 'window' && state.lastFired !== undefined && now < state.lastFired + corr.timespanMs;
      if (!quiet) {
        fired = true;
        state.lastFired = now;
      }
    }
    const lastHit = state.hits.at(-1)?.[0] ?? now;
    const expires = Math.max(lastHit, state.lastFired ?? 0) + corr.timespanMs;
    this.store.put(corrKey, groupKey, JSON.stringify(state), expires);
    // Groups that went quiet would otherwise stay forever: every so often drop what expired before the newest event.
    this.clock = Math.max(this.clock, now);
    if (++this.updates % PRUNE_EVERY === 0) this.prune();
    return fired ? { rule: corr, group, value, time: now } : null;
  }

  private aggregate(corr: CorrelationRule, hits: ReadonlyArray<[number, number, string | number | null]>): number {
    switch (corr.type) {
      case 'event_count':
        return hits.length;
      case 'value_count':
        return new Set(hits.map((h) => h[2])).size;
      case 'value_sum':
        return hits.reduce((s, h) => s + (h[2] as number), 0);
      case 'value_avg':
        return hits.length === 0 ? 0 : hits.reduce((s, h) => s + (h[2] as number), 0) / hits.length;
      case 'value_percentile': {
        const sorted = hits.map((h) => h[2] as number).sort((a, b) => a - b);
        const p = corr.percentile ?? 50;
        const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
        return sorted[rank - 1] ?? 0;
      }
      case 'temporal':
        return new Set(hits.map((h) => h[1])).size;
      default:
        return orderedChain(hits, corr.rules.length);
    }
  }

  private holds(
    corr: CorrelationRule,
    hits: ReadonlyArray<[number, number, string | number | null]>,
    value: number,
  ): boolean {
    const expr = this.expressions.get(corr);
    if (expr) {
      const seen = new Set(hits.map((h) => h[1]));
      if (corr.type === 'temporal_ordered' && value < corr.rules.length) return false;
      return expr(seen);
    }
    return corr.thresholds.every(([op, n]) => compare(op, value, n));
  }
}

/** Longest prefix of rules[0], rules[1], ... seen in that order (greedy on earliest times). */
function orderedChain(hits: ReadonlyArray<[number, number, unknown]>, n: number): number {
  let k = 0;
  let t = Number.NEGATIVE_INFINITY;
  while (k < n) {
    const next = hits.find((h) => h[1] === k && h[0] >= t);
    if (!next) break;
    t = next[0];
    k++;
  }
  return k;
}

/** Extended temporal conditions: rule names with and/or/not/parentheses. */
function compileExpression(corr: CorrelationRule): (seen: ReadonlySet<number>) => boolean {
  const text = corr.expression!;
  const tokens = text.match(/\(|\)|[^\s()]+/g) ?? [];
  let pos = 0;
  const fail = (m: string): never => {
    throw new UserInputError(`correlation "${corr.title}": condition "${text}": ${m}`);
  };
  type F = (s: ReadonlySet<number>) => boolean;
  const or = (): F => {
    const parts = [and()];
    while (tokens[pos]?.toLowerCase() === 'or') {
      pos++;
      parts.push(and());
    }
    return (s) => parts.some((p) => p(s));
  };
  const and = (): F => {
    const parts = [not()];
    while (tokens[pos]?.toLowerCase() === 'and') {
      pos++;
      parts.push(not());
    }
    return (s) => parts.every((p) => p(s));
  };
  const not = (): F => {
    if (tokens[pos]?.toLowerCase() === 'not') {
      pos++;
      const inner = not();
      return (s) => !inner(s);
    }
    const t = tokens[pos++] ?? fail('unexpected end');
    if (t === '(') {
      const inner = or();
      if (tokens[pos++] !== ')') fail("missing ')'");
      return inner;
    }
    const index = corr.rules.indexOf(t);
    if (index < 0) fail(`"${t}" is not one of the correlation's rules`);
    return (s) => s.has(index);
  };
  const f = or();
  if (pos !== tokens.length) fail(`unexpected "${tokens[pos]}"`);
  return f;
}
