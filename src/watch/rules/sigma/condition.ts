import { UserInputError } from '../../../core/errors.js';
import { allOf, anyOf, orRequirements, type Pred, type Requirement, type Search } from './detection.js';

/**
 * Sigma conditions: identifiers, `and`, `or`, `not`, parentheses, and `1 of x*` / `any of x*` /
 * `all of x*` / `... of them`. Precedence: not > and > or. Identifiers starting with `_` are left out of
 * `them` (pySigma). The deprecated Sigma 1 aggregation (`| count() by …`) is refused: use correlations.
 */
export function compileCondition(text: string, searches: ReadonlyMap<string, Search>): Search {
  if (text.includes('|')) {
    throw new UserInputError(`condition "${text}": aggregation expressions are not supported; use a correlation rule`);
  }
  const tokens = text.match(/\(|\)|[^\s()]+/g) ?? [];
  let pos = 0;
  const fail = (msg: string): never => {
    throw new UserInputError(`condition "${text}": ${msg}`);
  };
  const peek = () => tokens[pos]?.toLowerCase();
  const lookup = (name: string): Search => searches.get(name) ?? fail(`unknown identifier "${name}"`);
  const selectNames = (pattern: string): string[] => {
    if (pattern === 'them') return [...searches.keys()].filter((k) => !k.startsWith('_'));
    if (!pattern.includes('*')) return [lookup(pattern) && pattern];
    const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    const names = [...searches.keys()].filter((k) => re.test(k));
    if (names.length === 0) fail(`"${pattern}" matches no identifier`);
    return names;
  };
  const or = (): Search => {
    const parts = [and()];
    while (peek() === 'or') {
      pos++;
      parts.push(and());
    }
    return parts.length === 1
      ? parts[0]!
      : { pred: anyOf(parts.map((p) => p.pred)), requirements: orRequirements(parts.map((p) => p.requirements)) };
  };
  const and = (): Search => {
    const parts = [not()];
    while (peek() === 'and') {
      pos++;
      parts.push(not());
    }
    return parts.length === 1
      ? parts[0]!
      : { pred: allOf(parts.map((p) => p.pred)), requirements: parts.flatMap((p) => p.requirements) };
  };
  const not = (): Search => {
    if (peek() === 'not') {
      pos++;
      const inner = not().pred;
      const pred: Pred = (ev) => !inner(ev);
      return { pred, requirements: [] };
    }
    return primary();
  };
  const primary = (): Search => {
    const t = tokens[pos];
    if (t === undefined) return fail('unexpected end');
    if (t === '(') {
      pos++;
      const inner = or();
      if (tokens[pos] !== ')') fail("missing ')'");
      pos++;
      return inner;
    }
    const lower = t.toLowerCase();
    if ((lower === '1' || lower === 'any' || lower === 'all') && tokens[pos + 1]?.toLowerCase() === 'of') {
      const target = tokens[pos + 2] ?? fail(`"${t} of" needs a target`);
      pos += 3;
      const parts = selectNames(target).map(lookup);
      if (lower === 'all') {
        return { pred: allOf(parts.map((p) => p.pred)), requirements: parts.flatMap((p) => p.requirements) };
      }
      return { pred: anyOf(parts.map((p) => p.pred)), requirements: orRequirements(parts.map((p) => p.requirements)) };
    }
    if (['and', 'or', 'not', 'of', ')'].includes(lower)) fail(`unexpected "${t}"`);
    if (/^[0-9]+$/.test(t) && tokens[pos + 1]?.toLowerCase() === 'of')
      fail(`only "1 of", "any of" and "all of" are supported`);
    pos++;
    return lookup(t);
  };
  if (tokens.length === 0) fail('empty condition');
  const result = or();
  if (pos !== tokens.length) fail(`unexpected "${tokens[pos]}"`);
  return result;
}

export type { Requirement };
