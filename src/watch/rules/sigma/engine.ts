import { UserInputError } from '../../../core/errors.js';
import { compileCondition } from './condition.js';
import { type CompileContext, compileSearch, type Pred, type Requirement, type Search } from './detection.js';
import { EventView } from './event.js';
import { bindingsFor, fieldMapper, type SourceBinding } from './logsource.js';
import type { SigmaFilter, SigmaRule } from './rule.js';

export interface SigmaOptions {
  /** Values for `|expand` placeholders (`%name%`). */
  readonly placeholders?: Readonly<Record<string, readonly string[]>>;
  /**
   * `field: null` also matches an absent field. Default true: that is how SIEM backends read "is null", and
   * CloudTrail omits errorCode on success. sigma-rust answers false; its conformance cases run with false.
   */
  readonly nullMatchesMissing?: boolean;
}

export interface CompiledRule {
  readonly rule: SigmaRule;
  readonly pred: Pred;
  readonly requirements: readonly Requirement[];
  /** Placeholders the rule uses that were not configured: those values match nothing. */
  readonly unresolvedPlaceholders: readonly string[];
}

/** Compiles one detection rule for one source binding (field names mapped for that source). */
export function compileRule(
  rule: SigmaRule,
  binding: SourceBinding | null,
  options: SigmaOptions = {},
  /** Filters naming this rule: compiled with the same binding, applied as `rule and not filter`. */
  filters: readonly SigmaFilter[] = [],
): CompiledRule {
  const unresolved = new Set<string>();
  const ctx: CompileContext = {
    placeholders: options.placeholders ?? {},
    unresolved,
    mapField: fieldMapper(binding?.fields ?? {}),
    nullMatchesMissing: options.nullMatchesMissing ?? true,
  };
  const where = rule.file ? `${rule.file}: rule "${rule.title}"` : `rule "${rule.title}"`;
  const searches = new Map<string, Search>();
  try {
    for (const [name, def] of Object.entries(rule.detection)) searches.set(name, compileSearch(name, def, ctx));
    const conds = rule.conditions.map((c) => compileCondition(c, searches));
    const c =
      conds.length === 1
        ? conds[0]!
        : {
            pred: (ev: EventView) => conds.some((x) => x.pred(ev)),
            requirements: [],
          };
    const excluded = filters.map((f) => compileFilter(f, ctx));
    const base = c.pred;
    const pred: Pred =
      excluded.length === 0
        ? base
        : (ev) => {
            if (!base(ev)) return false;
            for (const x of excluded) if (x(ev)) return false;
            return true;
          };
    return { rule, pred, requirements: c.requirements, unresolvedPlaceholders: [...unresolved] };
  } catch (err) {
    if (err instanceof UserInputError) throw new UserInputError(`${where}: ${err.message}`);
    throw err;
  }
}

function compileFilter(filter: SigmaFilter, ctx: CompileContext): Pred {
  try {
    const searches = new Map<string, Search>();
    for (const [name, def] of Object.entries(filter.detection)) searches.set(name, compileSearch(name, def, ctx));
    const conds = filter.conditions.map((c) => compileCondition(c, searches).pred);
    return (ev) => conds.some((p) => p(ev));
  } catch (err) {
    if (err instanceof UserInputError) throw new UserInputError(`filter "${filter.title}": ${err.message}`);
    throw err;
  }
}

/**
 * A set of compiled rules for one source, indexed: each rule that has a necessary exact-value condition
 * (say eventName = DeleteTrail) sits in a hash under that value; an event evaluates only the rules
 * filed under its own values, plus the few that have no such condition.
 */
export class RuleIndex {
  private readonly byField = new Map<string, Map<string, number[]>>();
  private readonly always: number[] = [];
  private readonly stamp: Uint32Array;
  private epoch = 0;

  constructor(readonly rules: readonly CompiledRule[]) {
    this.stamp = new Uint32Array(rules.length);
    const freq = new Map<string, number>();
    for (const r of rules) for (const q of r.requirements) freq.set(q.field, (freq.get(q.field) ?? 0) + 1);
    rules.forEach((r, i) => {
      // Prefer the field most rules are filed under (one lookup serves many), then the fewest values.
      const best = [...r.requirements].sort(
        (a, b) => (freq.get(b.field) ?? 0) - (freq.get(a.field) ?? 0) || a.values.size - b.values.size,
      )[0];
      if (!best) {
        this.always.push(i);
        return;
      }
      let m = this.byField.get(best.field);
      if (!m) {
        m = new Map();
        this.byField.set(best.field, m);
      }
      for (const v of best.values) {
        const list = m.get(v);
        if (list) list.push(i);
        else m.set(v, [i]);
      }
    });
  }

  /** Matching rules, in the order they were given. */
  evaluate(ev: EventView): CompiledRule[] {
    if (++this.epoch === 0xffffffff) {
      this.stamp.fill(0);
      this.epoch = 1;
    }
    const hits: number[] = [];
    for (const [field, m] of this.byField) {
      const texts = ev.texts(field);
      for (let t = 0; t < texts.length; t++) {
        const ids = m.get(texts[t]![1]);
        if (ids) for (let j = 0; j < ids.length; j++) this.visit(ids[j]!, ev, hits);
      }
    }
    const always = this.always;
    for (let j = 0; j < always.length; j++) this.visit(always[j]!, ev, hits);
    if (hits.length > 1) hits.sort((a, b) => a - b);
    return hits.map((i) => this.rules[i]!);
  }

  private visit(i: number, ev: EventView, hits: number[]): void {
    if (this.stamp[i] === this.epoch) return;
    this.stamp[i] = this.epoch;
    if (this.rules[i]!.pred(ev)) hits.push(i);
  }
}

/**
 * Detection rules grouped by the event source they apply to. `evaluate(event, source)` runs the rules bound
 * to that source (CloudTrail rules on CloudTrail events); without a source every rule runs with its fields
 * unmapped, which is what rule tests over bare events want.
 */
export class SigmaEngine {
  private readonly rules: SigmaRule[] = [];
  private readonly filters: SigmaFilter[] = [];
  private bySource: Map<string, RuleIndex> | null = null;
  private unbound: RuleIndex | null = null;
  private compiled: CompiledRule[] = [];

  constructor(private readonly options: SigmaOptions = {}) {}

  add(rule: SigmaRule): CompiledRule {
    // Compile every binding now so that a bad rule fails at load time, not on the first event.
    const unbound = compileRule(rule, null, this.options, this.filtersFor(rule));
    for (const b of bindingsFor(rule.logsource)) compileRule(rule, b, this.options, this.filtersFor(rule));
    this.rules.push(rule);
    this.compiled.push(unbound);
    this.bySource = null;
    this.unbound = null;
    return unbound;
  }

  /** Adds a Sigma filter; it tunes the rules it names, whether they were added before or after it. */
  addFilter(filter: SigmaFilter): void {
    compileFilter(filter, {
      placeholders: this.options.placeholders ?? {},
      unresolved: new Set(),
      mapField: (f) => [f],
      nullMatchesMissing: this.options.nullMatchesMissing ?? true,
    });
    this.filters.push(filter);
    this.bySource = null;
    this.unbound = null;
  }

  private filtersFor(rule: SigmaRule): SigmaFilter[] {
    return this.filters.filter((f) => f.rules.some((r) => r === rule.id || r === rule.name));
  }

  get size(): number {
    return this.rules.length;
  }

  /** Rules whose placeholders are not configured (their `expand` values match nothing). */
  warnings(): string[] {
    return this.compiled
      .filter((c) => c.unresolvedPlaceholders.length > 0)
      .map((c) => `rule "${c.rule.title}": placeholder(s) ${c.unresolvedPlaceholders.join(', ')} not configured`);
  }

  private build(): void {
    const groups = new Map<string, CompiledRule[]>();
    this.compiled = this.rules.map((r) => compileRule(r, null, this.options, this.filtersFor(r)));
    for (const rule of this.rules) {
      for (const b of bindingsFor(rule.logsource)) {
        const list = groups.get(b.source) ?? [];
        list.push(compileRule(rule, b, this.options, this.filtersFor(rule)));
        groups.set(b.source, list);
      }
    }
    this.bySource = new Map([...groups].map(([k, v]) => [k, new RuleIndex(v)]));
    this.unbound = new RuleIndex(this.compiled);
  }

  evaluate(event: unknown, source?: string): SigmaRule[] {
    return this.evaluateView(new EventView(event), source);
  }

  evaluateView(ev: EventView, source?: string): SigmaRule[] {
    if (!this.bySource || !this.unbound) this.build();
    const index = source === undefined ? this.unbound! : this.bySource!.get(source);
    return index ? index.evaluate(ev).map((c) => c.rule) : [];
  }
}
