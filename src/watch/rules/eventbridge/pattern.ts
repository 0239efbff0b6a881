import { UserInputError } from '../../../core/errors.js';
import { type Cidr, cidrContains, parseCidr, parseIp } from './ip.js';
import { fromValue, type JNode, parseJsonText } from './json-text.js';

/**
 * EventBridge / aws event-ruler event patterns, compiled. A pattern is expanded into disjunctive normal
 * form (each `$or` multiplies the branches); every branch is a list of field conditions that must all
 * hold, array-consistently (see match.ts). Each condition is a list of value tests that are OR'ed.
 */

/** A scalar from the event: what JSON.parse gives for a leaf. */
export type Leaf = string | number | boolean | null;

export interface FieldCondition {
  /** Dotted path, as event-ruler flattens names: {"a":{"b.c":1}} is "a.b.c". */
  readonly path: string;
  /** OR of these tests over one value at the path. */
  readonly tests: ReadonlyArray<(v: Leaf) => boolean>;
  /** `{"exists": false}` given: the condition also holds when the path has no (consistent) value. */
  readonly allowAbsent: boolean;
  /** When every test is an exact literal: their keys (see exactKey), for indexing. */
  readonly exact: readonly string[] | null;
}

export type Branch = readonly FieldCondition[];

export interface CompiledPattern {
  readonly branches: readonly Branch[];
  /** Every path the pattern reads. */
  readonly paths: ReadonlySet<string>;
}

export interface CompileOptions {
  /** event-ruler `withOverridesForDuplicateRules`: a repeated path keeps the last value (default true). */
  readonly allowDuplicatePaths?: boolean;
}

const OPERATORS = new Set([
  'prefix',
  'suffix',
  'anything-but',
  'numeric',
  'cidr',
  'exists',
  'equals-ignore-case',
  'wildcard',
  'exactly',
]);

/** Key that identifies an exact literal regardless of where it came from (string "1" is not number 1). */
export function exactKey(v: Leaf): string {
  if (typeof v === 'string') return `s${v}`;
  if (typeof v === 'number') return `n${v}`;
  return `l${String(v)}`;
}

/** Compiles a pattern given as JSON text (preferred: sees duplicate keys and number text) or as a value. */
export function compilePattern(pattern: string | unknown, options: CompileOptions = {}): CompiledPattern {
  const root = typeof pattern === 'string' ? parseJsonText(pattern) : fromValue(pattern);
  if (root.t !== 'obj') throw invalid('Filter is not an object');
  const allowDup = options.allowDuplicatePaths ?? true;
  // Conditions that may hold by absence go last: absence is judged against the values already chosen.
  const branches = expandObject(root, '', allowDup).map((m) => {
    const conds = [...m.values()];
    return [...conds.filter((c) => !c.allowAbsent), ...conds.filter((c) => c.allowAbsent)];
  });
  const paths = new Set<string>();
  for (const b of branches) for (const c of b) paths.add(c.path);
  return { branches, paths };
}

function invalid(msg: string): UserInputError {
  return new UserInputError(`invalid event pattern: ${msg}`);
}

type Conj = Map<string, FieldCondition>;

function merge(a: Conj, b: Conj, allowDup: boolean): Conj {
  const out = new Map(a);
  for (const [k, v] of b) {
    if (out.has(k) && !allowDup) throw invalid(`Path \`${k}\` cannot be allowed multiple times`);
    out.delete(k); // re-insert so that the later value wins and keeps its place
    out.set(k, v);
  }
  return out;
}

function cross(left: Conj[], right: Conj[], allowDup: boolean): Conj[] {
  const out: Conj[] = [];
  for (const r of right) for (const l of left) out.push(merge(l, r, allowDup));
  return out;
}

const MAX_BRANCHES = 4096;

function expandObject(node: Extract<JNode, { t: 'obj' }>, prefix: string, allowDup: boolean): Conj[] {
  let conjs: Conj[] = [new Map()];
  for (const [key, value] of uniqueEntries(node, prefix, allowDup)) {
    if (key === '$or') {
      if (value.t !== 'arr') throw invalid('It must be an Array followed with $or.');
      if (value.items.length < 2) throw invalid('$or must list at least two alternatives');
      const alts: Conj[] = [];
      for (const item of value.items) {
        if (item.t !== 'obj' || item.entries.length === 0)
          throw invalid('each $or alternative must be a non-empty object');
        for (const [k] of item.entries) {
          if (OPERATORS.has(k)) throw invalid(`${k} is Ruler reserved fieldName which cannot be used inside $or.`);
        }
        alts.push(...expandObject(item, prefix, allowDup));
      }
      conjs = cross(conjs, alts, allowDup);
    } else {
      const path = prefix ? `${prefix}.${key}` : key;
      if (value.t === 'obj') {
        if (value.entries.length === 0) throw invalid('Empty objects are not allowed');
        conjs = cross(conjs, expandObject(value, path, allowDup), allowDup);
      } else if (value.t === 'arr') {
        const cond = compileField(path, value.items);
        conjs = conjs.map((c) => merge(c, new Map([[path, cond]]), allowDup));
      } else {
        throw invalid(`"${key}" must be an object or an array`);
      }
    }
    if (conjs.length > MAX_BRANCHES) throw invalid(`$or expands to more than ${MAX_BRANCHES} alternatives`);
  }
  return conjs;
}

/** A key repeated in one object: the last one replaces the whole earlier value (Jackson's overriding). */
function uniqueEntries(node: Extract<JNode, { t: 'obj' }>, prefix: string, allowDup: boolean): Array<[string, JNode]> {
  const m = new Map<string, JNode>();
  for (const [k, v] of node.entries) {
    if (m.has(k) && !allowDup)
      throw invalid(`Path \`${prefix ? `${prefix}.${k}` : k}\` cannot be allowed multiple times`);
    m.set(k, v);
  }
  return [...m];
}

function literal(n: JNode): Leaf | undefined {
  if (n.t === 'str' || n.t === 'lit') return n.v;
  if (n.t === 'num') return checkedNumber(n);
  return undefined;
}

/** event-ruler refuses numbers that a double cannot hold: overflow, and underflow to zero. */
function checkedNumber(n: Extract<JNode, { t: 'num' }>): number {
  const mantissaNonZero = /[1-9]/.test(n.raw.split(/[eE]/)[0]!);
  if (!Number.isFinite(n.v) || (n.v === 0 && mantissaNonZero)) throw invalid(`Cannot compare number : ${n.raw}`);
  return n.v;
}

function compileField(path: string, items: readonly JNode[]): FieldCondition {
  if (items.length === 0) throw invalid('Empty arrays are not allowed');
  const tests: Array<(v: Leaf) => boolean> = [];
  const exact: string[] = [];
  let allExact = true;
  let allowAbsent = false;
  for (const item of items) {
    const lit = literal(item);
    if (lit !== undefined) {
      tests.push(exactTest(lit));
      exact.push(exactKey(lit));
      continue;
    }
    if (item.t !== 'obj') throw invalid(`values of "${path}" must be literals or match expressions`);
    allExact = false;
    if (item.entries.length !== 1) throw invalid('Only one key allowed in match expression');
    const [op, arg] = item.entries[0]!;
    if (op === 'exists') {
      if (arg.t !== 'lit' || typeof arg.v !== 'boolean')
        throw invalid('exists match pattern must be either true or false.');
      if (arg.v) tests.push(() => true);
      else allowAbsent = true;
      continue;
    }
    tests.push(operatorTest(op, arg));
  }
  return { path, tests, allowAbsent, exact: allExact ? exact : null };
}

function exactTest(lit: Leaf): (v: Leaf) => boolean {
  if (typeof lit === 'number') return (v) => typeof v === 'number' && v === lit;
  return (v) => v === lit;
}

function str(arg: JNode, what: string): string {
  if (arg.t !== 'str') throw invalid(`${what} match pattern must be a string`);
  return arg.v;
}

/** Java-style case folding for equals-ignore-case: compare lower case of upper case. */
function fold(s: string): string {
  return s.toUpperCase().toLowerCase();
}

function operatorTest(op: string, arg: JNode): (v: Leaf) => boolean {
  switch (op) {
    case 'exactly': {
      const s = str(arg, 'exact');
      return (v) => v === s;
    }
    case 'prefix':
    case 'suffix': {
      const at = op === 'prefix' ? (v: string, p: string) => v.startsWith(p) : (v: string, p: string) => v.endsWith(p);
      if (arg.t === 'obj') {
        if (arg.entries.length !== 1) throw invalid('Only one key allowed in match expression');
        const [k, a] = arg.entries[0]!;
        if (k !== 'equals-ignore-case') throw invalid(`Unsupported ${op} pattern: ${k}`);
        const p = fold(str(a, 'equals-ignore-case'));
        return (v) => typeof v === 'string' && at(fold(v), p);
      }
      const p = str(arg, op);
      return (v) => typeof v === 'string' && at(v, p);
    }
    case 'equals-ignore-case': {
      const p = fold(str(arg, 'equals-ignore-case'));
      return (v) => typeof v === 'string' && fold(v) === p;
    }
    case 'wildcard': {
      const re = wildcardRegex(str(arg, 'wildcard'));
      return (v) => typeof v === 'string' && re.test(v);
    }
    case 'cidr': {
      const c = parseCidr(str(arg, 'cidr'));
      if (typeof c === 'string') throw invalid(c);
      return cidrTest(c);
    }
    case 'numeric':
      return numericTest(arg);
    case 'anything-but':
      return anythingBut(arg);
    default:
      throw invalid(`Unrecognized match type ${op}`);
  }
}

function cidrTest(c: Cidr): (v: Leaf) => boolean {
  return (v) => {
    if (typeof v !== 'string') return false;
    const ip = parseIp(v);
    return ip !== null && cidrContains(c, ip);
  };
}

/** `*` matches any run of characters; `\*` and `\\` are literal; consecutive `*` are refused. */
export function wildcardRegex(p: string): RegExp {
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') {
      const n = p[i + 1];
      if (n !== '*' && n !== '\\') throw invalid(`Unrecognized character escape in wildcard at pos ${i}`);
      re += `\\${n}`;
      i++;
    } else if (c === '*') {
      if (p[i + 1] === '*') throw invalid(`Consecutive wildcard characters at pos ${i}`);
      re += '[\\s\\S]*';
    } else re += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'u');
}

type Op = '<' | '<=' | '>' | '>=' | '=';
const NUM_OPS = new Set(['<', '<=', '>', '>=', '=']);

function numericTest(arg: JNode): (v: Leaf) => boolean {
  if (arg.t !== 'arr') throw invalid('Value of numeric must be an array.');
  const terms: Array<[Op, number]> = [];
  const items = arg.items;
  for (let i = 0; i < items.length; i += 2) {
    if (terms.length === 2) throw invalid('Too many terms in numeric range expression');
    const o = items[i]!;
    if (o.t !== 'str' || !NUM_OPS.has(o.v)) {
      throw invalid(`Unrecognized numeric range operator: ${o.t === 'str' ? o.v : JSON.stringify(o)}`);
    }
    const n = items[i + 1];
    const name = o.v === '=' ? 'equals' : o.v;
    if (n?.t !== 'num') throw invalid(`Value of ${name} must be numeric`);
    terms.push([o.v as Op, checkedNumber(n)]);
  }
  if (terms.length === 0) throw invalid('Empty numeric expression');
  if (terms.length === 2) {
    const [[o1, lo], [o2, hi]] = terms as [[Op, number], [Op, number]];
    if (!(o1 === '>' || o1 === '>=') || !(o2 === '<' || o2 === '<=')) {
      throw invalid('Too many elements in numeric expression');
    }
    if (!(lo < hi)) throw invalid('Bottom must be less than top');
    const loOk = o1 === '>' ? (x: number) => x > lo : (x: number) => x >= lo;
    const hiOk = o2 === '<' ? (x: number) => x < hi : (x: number) => x <= hi;
    return (v) => typeof v === 'number' && loOk(v) && hiOk(v);
  }
  const [o, x] = terms[0]!;
  switch (o) {
    case '<':
      return (v) => typeof v === 'number' && v < x;
    case '<=':
      return (v) => typeof v === 'number' && v <= x;
    case '>':
      return (v) => typeof v === 'number' && v > x;
    case '>=':
      return (v) => typeof v === 'number' && v >= x;
    default:
      return (v) => typeof v === 'number' && v === x;
  }
}

function stringList(arg: JNode, what: string, allowEmpty: boolean): string[] {
  const list = arg.t === 'arr' ? arg.items : [arg];
  return list.map((n) => {
    if (n.t !== 'str') throw invalid(`${what} match pattern must be a string`);
    if (!allowEmpty && n.v === '') throw invalid('Null prefix/suffix not allowed');
    return n.v;
  });
}

/** anything-but: the value is present and is none of the listed (it may be of another type). */
function anythingBut(arg: JNode): (v: Leaf) => boolean {
  if (arg.t === 'obj') {
    if (arg.entries.length !== 1) throw invalid('Too many elements in numeric expression');
    const [k, a] = arg.entries[0]!;
    switch (k) {
      case 'prefix': {
        const ps = stringList(a, 'prefix/suffix', false);
        return (v) => typeof v !== 'string' || !ps.some((p) => v.startsWith(p));
      }
      case 'suffix': {
        const ps = stringList(a, 'prefix/suffix', false);
        return (v) => typeof v !== 'string' || !ps.some((p) => v.endsWith(p));
      }
      case 'equals-ignore-case': {
        if (a.t === 'arr' && a.items.some((n) => n.t !== 'str')) {
          throw invalid('Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.');
        }
        const set = new Set(stringList(a, 'equals-ignore-case', true).map(fold));
        return (v) => typeof v !== 'string' || !set.has(fold(v));
      }
      case 'wildcard': {
        const res = stringList(a, 'wildcard', true).map(wildcardRegex);
        return (v) => typeof v !== 'string' || !res.some((re) => re.test(v));
      }
      default:
        throw invalid(`Unsupported anything-but pattern: ${k}`);
    }
  }
  const list = arg.t === 'arr' ? arg.items : [arg];
  if (list.length === 0) throw invalid('anything-but list must not be empty');
  const kinds = new Set(list.map((n) => n.t));
  if (kinds.size > 1 || !(kinds.has('str') || kinds.has('num'))) {
    throw invalid('Inside anything but list, either all values are number or string, mixed type is not supported');
  }
  const set = new Set(list.map((n) => exactKey(literal(n)!)));
  return (v) => !set.has(exactKey(v));
}
