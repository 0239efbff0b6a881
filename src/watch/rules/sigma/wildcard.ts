/**
 * Sigma string values: `*` is any run of characters, `?` exactly one; `\*`, `\?` and `\\` are the literal
 * characters; a backslash before anything else is itself literal (so `C:\Windows` needs no escaping).
 * Matching is case-insensitive unless `cased`.
 */
export type Piece = { readonly lit: string } | { readonly any: true } | { readonly one: true };

export function parseWildcard(p: string): Piece[] {
  const out: Piece[] = [];
  let lit = '';
  const flush = () => {
    if (lit) out.push({ lit });
    lit = '';
  };
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') {
      const n = p[i + 1];
      if (n === '*' || n === '?' || n === '\\') {
        lit += n;
        i++;
      } else lit += c;
    } else if (c === '*') {
      flush();
      if (!(out.at(-1) && 'any' in out.at(-1)!)) out.push({ any: true });
    } else if (c === '?') {
      flush();
      out.push({ one: true });
    } else lit += c;
  }
  flush();
  return out;
}

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

export function piecesToRegexSource(pieces: readonly Piece[]): string {
  return pieces.map((p) => ('lit' in p ? reEscape(p.lit) : 'any' in p ? '[\\s\\S]*' : '[\\s\\S]')).join('');
}

/**
 * A compiled string test. Plain, prefix, suffix and infix shapes use string methods (fast); anything with
 * `?` or an inner `*` becomes an anchored regular expression. `value` is the original, `lower` its lower case.
 */
export type StringTest = (value: string, lower: string) => boolean;

export function compileWildcard(pattern: string, cased: boolean): StringTest {
  return compilePieces(parseWildcard(pattern), cased);
}

export function compilePieces(given: readonly Piece[], cased: boolean): StringTest {
  // `**` is the same as `*`; collapsing keeps the string-method fast paths reachable.
  const pieces = given.filter((p, i) => !('any' in p && i > 0 && 'any' in given[i - 1]!));
  const isAny = (p: Piece | undefined) => p !== undefined && 'any' in p;
  const lits = pieces.filter((p): p is { lit: string } => 'lit' in p);
  const simple = pieces.every((p) => !('one' in p)) && lits.length <= 1;
  const inner = pieces.slice(isAny(pieces[0]) ? 1 : 0, isAny(pieces.at(-1)) ? -1 : undefined);
  if (simple && inner.every((p) => 'lit' in p)) {
    const lit = lits[0]?.lit ?? '';
    const needle = cased ? lit : lit.toLowerCase();
    const pick = cased ? (v: string) => v : (_v: string, l: string) => l;
    const lead = isAny(pieces[0]);
    const trail = isAny(pieces.at(-1)) && pieces.length > 1;
    if (pieces.length === 1 && lead) return () => true;
    if (lead && trail) return (v, l) => pick(v, l).includes(needle);
    if (lead) return (v, l) => pick(v, l).endsWith(needle);
    if (trail) return (v, l) => pick(v, l).startsWith(needle);
    return (v, l) => pick(v, l) === needle;
  }
  const re = new RegExp(`^${piecesToRegexSource(pieces)}$`, cased ? 'u' : 'iu');
  return (v) => re.test(v);
}
