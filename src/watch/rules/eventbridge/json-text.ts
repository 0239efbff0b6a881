import { LimitExceededError, UserInputError } from '../../../core/errors.js';

/**
 * A strict JSON reader for pattern text. JSON.parse hides two things event patterns care about:
 * repeated keys (a path given twice must be rejected unless overriding is allowed) and number
 * literals that are not representable (1E309 overflows, 1E-325 underflows to 0). Objects therefore
 * keep their entries in order, duplicates included, and numbers keep their source text.
 */
export type JNode =
  | { readonly t: 'obj'; readonly entries: ReadonlyArray<readonly [string, JNode]> }
  | { readonly t: 'arr'; readonly items: readonly JNode[] }
  | { readonly t: 'str'; readonly v: string }
  | { readonly t: 'num'; readonly v: number; readonly raw: string }
  | { readonly t: 'lit'; readonly v: boolean | null };

const MAX_DEPTH = 64;
const MAX_TEXT = 1024 * 1024;

export function parseJsonText(text: string): JNode {
  if (text.length > MAX_TEXT) throw new LimitExceededError(`event pattern larger than ${MAX_TEXT} characters`);
  let i = 0;
  const fail = (what: string): never => {
    throw new UserInputError(`invalid pattern JSON: ${what} at offset ${i}`);
  };
  const ws = (): void => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const str = (): string => {
    i++; // opening quote
    let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text[i]!;
      if (c === '"') {
        i++;
        return out;
      }
      if (c === '\\') {
        const e = text[i + 1];
        const simple: Record<string, string> = {
          '"': '"',
          '\\': '\\',
          '/': '/',
          b: '\b',
          f: '\f',
          n: '\n',
          r: '\r',
          t: '\t',
        };
        if (e !== undefined && e in simple) {
          out += simple[e];
          i += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else fail('bad escape in string');
      } else if (c.charCodeAt(0) < 0x20) fail('control character in string');
      else {
        out += c;
        i++;
      }
    }
  };
  const value = (depth: number): JNode => {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const entries: Array<[string, JNode]> = [];
      ws();
      if (text[i] === '}') {
        i++;
        return { t: 'obj', entries };
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const k = str();
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        entries.push([k, value(depth + 1)]);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return { t: 'obj', entries };
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const items: JNode[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return { t: 'arr', items };
      }
      for (;;) {
        items.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return { t: 'arr', items };
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return { t: 'str', v: str() };
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return { t: 'lit', v };
      }
    }
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m) fail('unexpected character');
    i += m![0].length;
    return { t: 'num', v: Number(m![0]), raw: m![0] };
  };
  const root = value(0);
  ws();
  if (i !== text.length) fail('trailing characters');
  return root;
}

/** Converts a plain JS value (already parsed elsewhere) to the same node form. */
export function fromValue(v: unknown, depth = 0): JNode {
  if (depth > MAX_DEPTH) throw new UserInputError('invalid pattern: nesting too deep');
  if (v === null || typeof v === 'boolean') return { t: 'lit', v };
  if (typeof v === 'string') return { t: 'str', v };
  if (typeof v === 'number') return { t: 'num', v, raw: String(v) };
  if (Array.isArray(v)) return { t: 'arr', items: v.map((x) => fromValue(x, depth + 1)) };
  if (typeof v === 'object') {
    return { t: 'obj', entries: Object.entries(v as object).map(([k, x]) => [k, fromValue(x, depth + 1)] as const) };
  }
  throw new UserInputError(`invalid pattern: unsupported value of type ${typeof v}`);
}
