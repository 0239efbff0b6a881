import { UserInputError } from '../../../core/errors.js';

/**
 * Value-transforming modifiers (applied before matching, in the order written): base64, base64offset,
 * utf16le/utf16be/wide/utf16, windash and expand. Each turns one value into one or more values, so
 * they compose like pySigma's expansions.
 */
export const TRANSFORMS = new Set([
  'base64',
  'base64offset',
  'utf16le',
  'utf16be',
  'wide',
  'utf16',
  'windash',
  'expand',
]);

/** A value in flight: text, or bytes after an encoding step (base64 then turns them back into text). */
export type Raw = string | Buffer;

const asBytes = (v: Raw) => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v);
export const asText = (v: Raw) => (typeof v === 'string' ? v : v.toString('latin1'));

function utf16(v: Raw, be: boolean, bom: boolean): Buffer {
  const s = typeof v === 'string' ? v : v.toString('utf8');
  const le = Buffer.from(s, 'utf16le');
  const body = be ? Buffer.from(le).swap16() : le;
  return bom ? Buffer.concat([Buffer.from(be ? [0xfe, 0xff] : [0xff, 0xfe]), body]) : body;
}

/** pySigma's base64offset: the three encodings of the value at byte offsets 0, 1 and 2, trimmed of edges. */
export function base64Offsets(v: Raw): string[] {
  const bytes = asBytes(v);
  const start = [0, 2, 3];
  const end = [undefined, -3, -2];
  return [0, 1, 2].map((i) => {
    const enc = Buffer.concat([Buffer.alloc(i, 0x20), bytes]).toString('base64');
    return enc.slice(start[i], end[(bytes.length + i) % 3]);
  });
}

/** Dashes that start a word may be written with any of Windows' option characters. */
export const WINDASH_CHARS = ['-', '/', '\u2013', '\u2014', '\u2015'];

export function windashVariants(v: string): string[] {
  const positions: number[] = [];
  for (const m of v.matchAll(/\B[-/]\b/g)) positions.push(m.index);
  if (positions.length > 6) throw new UserInputError(`windash: too many dashes in "${v}"`);
  let out = [''];
  let last = 0;
  for (const p of positions) {
    const chunk = v.slice(last, p);
    out = out.flatMap((o) => WINDASH_CHARS.map((c) => o + chunk + c));
    last = p + 1;
  }
  return out.map((o) => o + v.slice(last));
}

export interface TransformContext {
  readonly placeholders: Readonly<Record<string, readonly string[]>>;
  /** Placeholder names used but not configured; the caller decides what an unresolved value means. */
  readonly unresolved: Set<string>;
}

/** Returns the values, or null for an expand whose placeholder is not configured. */
export function expandPlaceholders(v: string, ctx: TransformContext): string[] | null {
  let out = [''];
  let last = 0;
  for (const m of v.matchAll(/%([A-Za-z0-9_.-]+)%/g)) {
    const values = ctx.placeholders[m[1]!];
    if (!values) {
      ctx.unresolved.add(m[1]!);
      return null;
    }
    const chunk = v.slice(last, m.index);
    out = out.flatMap((o) => values.map((x) => o + chunk + x));
    last = m.index + m[0].length;
  }
  return out.map((o) => o + v.slice(last));
}

export function applyTransform(name: string, values: Raw[], ctx: TransformContext): Raw[] {
  switch (name) {
    case 'base64':
      return values.map((v) => asBytes(v).toString('base64'));
    case 'base64offset':
      return values.flatMap(base64Offsets);
    case 'utf16le':
    case 'wide':
      return values.map((v) => utf16(v, false, false));
    case 'utf16be':
      return values.map((v) => utf16(v, true, false));
    case 'utf16':
      return values.map((v) => utf16(v, false, true));
    case 'windash':
      return values.flatMap((v) => windashVariants(asText(v)));
    case 'expand':
      return values.flatMap((v) => expandPlaceholders(asText(v), ctx) ?? []);
    default:
      throw new UserInputError(`unknown transform modifier: ${name}`);
  }
}
