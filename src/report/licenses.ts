import spdx from './data/spdx-license-ids.json' with { type: 'json' };

const IDS = new Map<string, string>(spdx.ids.map((id) => [id.toLowerCase(), id]));

/** The canonical SPDX id for a licence string, or undefined when it is not one ("MIT" -> "MIT", "mit" -> "MIT"). */
export function spdxId(license: string): string | undefined {
  return IDS.get(license.trim().toLowerCase());
}

const OPERATORS = new Set(['AND', 'OR', 'WITH']);

/**
 * A licence string that is a valid SPDX expression of known ids ("MIT OR Apache-2.0", "(MIT AND BSD-3-Clause)"),
 * normalised, or undefined. Exceptions after WITH are accepted as written.
 */
export function spdxExpression(license: string): string | undefined {
  const tokens = license.replace(/[()]/g, ' $& ').trim().split(/\s+/);
  if (tokens.length < 2 || !tokens.some((t) => OPERATORS.has(t.toUpperCase()))) return undefined;
  const out: string[] = [];
  let depth = 0;
  let afterWith = false;
  for (const t of tokens) {
    const upper = t.toUpperCase();
    if (t === '(') depth++;
    else if (t === ')') depth--;
    if (depth < 0) return undefined;
    if (t === '(' || t === ')') out.push(t);
    else if (OPERATORS.has(upper)) {
      out.push(upper);
      afterWith = upper === 'WITH';
      continue;
    } else if (afterWith && /^[A-Za-z0-9.-]+$/.test(t)) out.push(t);
    else {
      const id = spdxId(t.replace(/\+$/, ''));
      if (!id) return undefined;
      out.push(t.endsWith('+') ? `${id}+` : id);
    }
    afterWith = false;
  }
  if (depth !== 0) return undefined;
  return out.join(' ').replace(/\( /g, '(').replace(/ \)/g, ')');
}
