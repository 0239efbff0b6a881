import { UserInputError } from '../../../core/errors.js';
import { cidrContains, parseCidr, parseIp } from '../eventbridge/ip.js';
import { type EventView, type Scalar, scalarText } from './event.js';
import { applyTransform, asText, type Raw, TRANSFORMS, type TransformContext } from './modifiers.js';
import { compilePieces, type Piece, parseWildcard, type StringTest } from './wildcard.js';

/** A compiled search: true when the event satisfies it. */
export type Pred = (ev: EventView) => boolean;

/** A necessary condition: the event's `field` must equal (case-insensitively) one of `values`. Used to index rules. */
export interface Requirement {
  readonly field: string;
  readonly values: ReadonlySet<string>;
}

export interface Search {
  readonly pred: Pred;
  /** Alternative necessary conditions (any one may be used to pre-filter). */
  readonly requirements: readonly Requirement[];
}

export interface CompileContext extends TransformContext {
  /** Sigma field name -> event field name(s) for the rule's source. */
  readonly mapField: (field: string) => readonly string[];
  /** Whether `field: null` also matches an absent field (SIEM "is null"); sigma-rust says no. */
  readonly nullMatchesMissing: boolean;
}

const MATCH_MODIFIERS = new Set([
  'contains',
  'startswith',
  'endswith',
  'all',
  're',
  'i',
  'm',
  's',
  'cidr',
  'exists',
  'cased',
  'lt',
  'lte',
  'gt',
  'gte',
  'fieldref',
]);

const bad = (msg: string) => new UserInputError(msg);

const KEYWORD_MATCHERS = new Set([
  'contains',
  'startswith',
  'endswith',
  're',
  'cidr',
  'lt',
  'lte',
  'gt',
  'gte',
  'exists',
]);

export function compileSearch(name: string, def: unknown, ctx: CompileContext): Search {
  if (def === null || def === undefined) throw bad(`detection "${name}" is empty`);
  if (Array.isArray(def)) {
    if (def.length === 0) throw bad(`detection "${name}" is an empty list`);
    const parts = def.map((d) =>
      d !== null && typeof d === 'object' && !Array.isArray(d)
        ? compileMap(name, d as Record<string, unknown>, ctx)
        : null,
    );
    const keywords = def.filter((_d, i) => parts[i] === null);
    const preds = parts.filter((p): p is Search => p !== null).map((p) => p.pred);
    if (keywords.length > 0) preds.push(compileItem(name, '', keywords, ctx).pred);
    const reqs = keywords.length > 0 ? [] : orRequirements(parts.map((p) => p!.requirements));
    return { pred: anyOf(preds), requirements: reqs };
  }
  if (typeof def === 'object') return compileMap(name, def as Record<string, unknown>, ctx);
  // A bare scalar is a single keyword.
  return compileItem(name, '', [def], ctx);
}

function compileMap(name: string, map: Record<string, unknown>, ctx: CompileContext): Search {
  const entries = Object.entries(map);
  if (entries.length === 0) throw bad(`detection "${name}" has an empty map`);
  const items = entries.map(([k, v]) => compileItem(name, k, v, ctx));
  return { pred: allOf(items.map((i) => i.pred)), requirements: items.flatMap((i) => i.requirements) };
}

export function anyOf(preds: Pred[]): Pred {
  if (preds.length === 1) return preds[0]!;
  return (ev) => {
    for (const p of preds) if (p(ev)) return true;
    return false;
  };
}

export function allOf(preds: Pred[]): Pred {
  if (preds.length === 1) return preds[0]!;
  return (ev) => {
    for (const p of preds) if (!p(ev)) return false;
    return true;
  };
}

/** OR of alternatives: a requirement survives only if every alternative constrains the same field. */
export function orRequirements(alts: ReadonlyArray<readonly Requirement[]>): Requirement[] {
  if (alts.length === 0) return [];
  const out: Requirement[] = [];
  for (const first of alts[0]!) {
    const values = new Set(first.values);
    let ok = true;
    for (const alt of alts.slice(1)) {
      const same = alt.filter((r) => r.field === first.field);
      if (same.length === 0) {
        ok = false;
        break;
      }
      const smallest = same.reduce((a, b) => (b.values.size < a.values.size ? b : a));
      for (const v of smallest.values) values.add(v);
    }
    if (ok && !out.some((r) => r.field === first.field)) out.push({ field: first.field, values });
  }
  return out;
}

function isPlain(v: string): boolean {
  return !/[*?]/.test(v) && !v.includes('\\');
}

function compileItem(name: string, key: string, raw: unknown, ctx: CompileContext): Search {
  const [fieldName, ...given] = key.split('|');
  const field = fieldName ?? '';
  // Keywords are searched across the whole event (spec: "searching for keywords across an entire event"), so a
  // keyword without its own match modifier is a substring search, as SIEM full-text search treats it.
  const mods = field === '' && !given.some((m) => KEYWORD_MATCHERS.has(m)) ? [...given, 'contains'] : given;
  for (const m of mods) {
    if (!MATCH_MODIFIERS.has(m) && !TRANSFORMS.has(m))
      throw bad(`detection "${name}": unknown modifier "${m}" in "${key}"`);
  }
  const has = (m: string) => mods.includes(m);
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw bad(`detection "${name}": "${key}" has an empty value list`);
  for (const v of list) {
    if (v !== null && typeof v === 'object') throw bad(`detection "${name}": "${key}" values must be scalars`);
  }
  const values = list as Scalar[];
  const targets = field === '' ? null : ctx.mapField(field);
  const combine = has('all') ? allOf : anyOf;
  const where = `detection "${name}" "${key}"`;

  if (has('exists')) {
    if (values.length !== 1 || typeof values[0] !== 'boolean') throw bad(`${where}: exists takes true or false`);
    if (!targets) throw bad(`${where}: exists needs a field name`);
    const want = values[0];
    return { pred: (ev) => targets.some((f) => ev.values(f) !== undefined) === want, requirements: [] };
  }
  if (values.includes(null)) {
    if (values.length !== 1) throw bad(`${where}: null cannot be part of a list of values`);
    if (!targets) throw bad(`${where}: null needs a field name`);
    const missing = ctx.nullMatchesMissing;
    return {
      pred: (ev) =>
        targets.some((f) => {
          const vs = ev.values(f);
          return vs === undefined ? missing : vs.includes(null);
        }),
      requirements: [],
    };
  }

  // Per-value tests over one text value (and its lower case); null result = value dropped (unresolved placeholder).
  let tests: Array<StringTest | null>;
  let numericTest: ((n: number) => boolean)[] | null = null;
  const cmp = mods.find((m) => m === 'lt' || m === 'lte' || m === 'gt' || m === 'gte');
  if (cmp) {
    numericTest = values.map((v) => {
      const n = typeof v === 'number' ? v : Number(v);
      if (!Number.isFinite(n)) throw bad(`${where}: ${cmp} needs a number`);
      return cmp === 'lt' ? (x) => x < n : cmp === 'lte' ? (x) => x <= n : cmp === 'gt' ? (x) => x > n : (x) => x >= n;
    });
    tests = [];
  } else if (has('fieldref')) {
    return fieldRef(where, targets, values, mods, combine, ctx);
  } else if (has('cidr')) {
    if (!targets) throw bad(`${where}: CIDR values can't appear as standalone value without a field name.`);
    tests = transformed(values, mods, ctx).map((v) => {
      const c = parseCidr(v);
      if (typeof c === 'string') throw bad(`${where}: ${c}`);
      return (t: string) => {
        const ip = parseIp(t);
        return ip !== null && cidrContains(c, ip);
      };
    });
  } else if (has('re')) {
    tests = transformed(values, mods, ctx).map((v) => regexTest(where, v, mods));
  } else {
    tests = stringTests(values, mods, ctx);
  }

  let pred: Pred;
  if (numericTest) {
    const nt = numericTest;
    const one =
      (t: (n: number) => boolean): Pred =>
      (ev) =>
        valuesOf(ev, targets).some((v) => numberOf(v, t));
    pred = combine(nt.map(one));
  } else {
    const live = tests.filter((t): t is StringTest => t !== null);
    if (live.length === 0) {
      // Every value came from an unconfigured placeholder: this item can never hold.
      return { pred: () => false, requirements: [] };
    }
    const textsOf = targets ? textsFor(targets) : (ev: EventView) => ev.everyText();
    const one =
      (t: StringTest): Pred =>
      (ev) => {
        for (const [v, l] of textsOf(ev)) if (t(v, l)) return true;
        return false;
      };
    const plainSet = plainValues(values, mods);
    if (plainSet && !has('all')) {
      // Many exact values: one set lookup per event value instead of one comparison per rule value.
      pred = (ev) => {
        for (const [, l] of textsOf(ev)) if (plainSet.has(l)) return true;
        return false;
      };
    } else pred = combine(live.map(one));
  }
  const plain = plainValues(values, mods);
  const requirements = plain && targets?.length === 1 && !has('all') ? [{ field: targets[0]!, values: plain }] : [];
  return { pred, requirements };
}

function textsFor(targets: readonly string[]): (ev: EventView) => Array<[string, string]> {
  if (targets.length === 1) {
    const f = targets[0]!;
    return (ev) => ev.texts(f);
  }
  return (ev) => targets.flatMap((f) => ev.texts(f));
}

function valuesOf(ev: EventView, targets: readonly string[] | null): Scalar[] {
  if (!targets) return ev.everyScalar();
  return targets.flatMap((f) => ev.values(f) ?? []);
}

function numberOf(v: Scalar, t: (n: number) => boolean): boolean {
  if (typeof v === 'number') return t(v);
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) && t(n);
  }
  return false;
}

/** Lower-cased exact values when matching is a plain case-insensitive equality; otherwise null. */
function plainValues(values: readonly Scalar[], mods: readonly string[]): Set<string> | null {
  if (mods.length > 0) return null;
  const out = new Set<string>();
  for (const v of values) {
    const t = scalarText(v);
    if (t === null || !isPlain(t)) return null;
    out.add(t.toLowerCase());
  }
  return out;
}

/** Values after transform modifiers (expand, windash, ...), flattened; for cidr and re. */
function transformed(values: readonly Scalar[], mods: readonly string[], ctx: CompileContext): string[] {
  let raws: Raw[] = values.map((v) => scalarText(v) ?? '');
  for (const m of mods) if (TRANSFORMS.has(m)) raws = applyTransform(m, raws, ctx);
  return raws.map(asText);
}

function stringTests(
  values: readonly Scalar[],
  mods: readonly string[],
  ctx: CompileContext,
): Array<StringTest | null> {
  const cased = mods.includes('cased');
  const out: Array<StringTest | null> = [];
  for (const v of values) {
    let raws: Raw[] = [scalarText(v) ?? ''];
    for (const m of mods) if (TRANSFORMS.has(m)) raws = applyTransform(m, raws, ctx);
    if (raws.length === 0) {
      out.push(null);
      continue;
    }
    const contains = mods.includes('contains') || mods.includes('base64offset');
    const lead = contains || mods.includes('endswith');
    const trail = contains || mods.includes('startswith');
    const tests = raws.map((r) => {
      // Encoded values are literal text: their characters are not wildcards. The edges are added as pieces
      // so that a value ending in a backslash does not escape the added `*`.
      const body: Piece[] = typeof r === 'string' && !isEncoded(mods) ? parseWildcard(r) : [{ lit: asText(r) }];
      return compilePieces([...(lead ? [ANY] : []), ...body, ...(trail ? [ANY] : [])], cased);
    });
    out.push(tests.length === 1 ? tests[0]! : (s, l) => tests.some((t) => t(s, l)));
  }
  return out;
}

const isEncoded = (mods: readonly string[]) =>
  mods.some((m) => m.startsWith('base64') || m.startsWith('utf16') || m === 'wide');
const ANY: Piece = { any: true };

function regexTest(where: string, source: string, mods: readonly string[]): StringTest {
  let flags = 'u';
  let src = source;
  const inline = /^\(\?([ims]+)\)/.exec(src);
  if (inline) {
    flags += inline[1];
    src = src.slice(inline[0].length);
  }
  for (const f of ['i', 'm', 's']) if (mods.includes(f) && !flags.includes(f)) flags += f;
  let re: RegExp;
  try {
    re = new RegExp(src, flags);
  } catch (err) {
    try {
      re = new RegExp(src, flags.replace('u', ''));
    } catch {
      throw bad(`${where}: invalid regular expression: ${(err as Error).message}`);
    }
  }
  // An unanchored pattern that starts with .* or .+ makes the engine retry from every position (quadratic on long
  // values). On a single-line value, anchoring it at the start finds the same matches.
  if (/^\.[*+]/.test(src) && !flags.includes('m')) {
    const anchored = new RegExp(`^(?:${src})`, flags);
    return (v) => (LINE_BREAK.test(v) ? re.test(v) : anchored.test(v));
  }
  return (v) => re.test(v);
}

const LINE_BREAK = /[\n\r\u2028\u2029]/;

function fieldRef(
  where: string,
  targets: readonly string[] | null,
  values: readonly Scalar[],
  mods: readonly string[],
  combine: (p: Pred[]) => Pred,
  ctx: CompileContext,
): Search {
  if (!targets) throw bad(`${where}: fieldref needs a field name`);
  const cased = mods.includes('cased');
  const how = mods.includes('contains')
    ? (a: string, b: string) => a.includes(b)
    : mods.includes('startswith')
      ? (a: string, b: string) => a.startsWith(b)
      : mods.includes('endswith')
        ? (a: string, b: string) => a.endsWith(b)
        : (a: string, b: string) => a === b;
  const preds = values.map((v): Pred => {
    const other = ctx.mapField(scalarText(v) ?? '');
    return (ev) => {
      const mine = targets.flatMap((f) => ev.texts(f));
      const theirs = other.flatMap((f) => ev.texts(f));
      for (const [a, al] of mine) {
        for (const [b, bl] of theirs) if (cased ? how(a, b) : how(al, bl)) return true;
      }
      return false;
    };
  });
  return { pred: combine(preds), requirements: [] };
}
