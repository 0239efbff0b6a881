/**
 * How a Sigma field name finds values in a JSON event. The whole name is tried as a key first
 * ("Image.source" may be a flat key), then every split at a dot descends into nested objects, so
 * "User.Mobile.phone" reaches {"User":{"Mobile.phone":…}}. Arrays fan out: every element is a value.
 * A field that resolves to nothing is absent (undefined); a JSON null is present and null.
 */
export type Scalar = string | number | boolean | null;

const MAX_VALUES = 10_000;

export function resolveField(event: unknown, name: string): Scalar[] | undefined {
  // Fast path: a plain top-level key holding a scalar (most CloudTrail and audit fields at depth 1).
  if (event !== null && typeof event === 'object' && !Array.isArray(event)) {
    const direct = (event as Record<string, unknown>)[name];
    if (direct !== undefined && (direct === null || typeof direct !== 'object') && Object.hasOwn(event, name)) {
      if (name.indexOf('.') === -1) return [direct as Scalar];
    }
  }
  const r = new Resolution();
  r.walk(event, name, 0);
  return r.found ? r.out : undefined;
}

class Resolution {
  out: Scalar[] = [];
  found = false;

  emit(v: unknown, depth: number): void {
    if (this.out.length >= MAX_VALUES || depth > 32) return;
    this.found = true;
    if (Array.isArray(v)) {
      for (const x of v) this.emit(x, depth + 1);
    } else if (v === null || typeof v !== 'object') {
      this.out.push(v as Scalar);
    }
    // An object is present but has no scalar value to compare.
  }

  walk(node: unknown, rest: string, depth: number): void {
    if (depth > 32 || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const x of node) this.walk(x, rest, depth + 1);
      return;
    }
    const obj = node as Record<string, unknown>;
    if (Object.hasOwn(obj, rest)) this.emit(obj[rest], depth);
    for (let i = rest.indexOf('.'); i !== -1; i = rest.indexOf('.', i + 1)) {
      const head = rest.slice(0, i);
      if (Object.hasOwn(obj, head)) this.walk(obj[head], rest.slice(i + 1), depth + 1);
    }
  }
}

/** Text form of a scalar for string comparison; null has none. */
export function scalarText(v: Scalar): string | null {
  if (v === null) return null;
  return typeof v === 'string' ? v : String(v);
}

interface Resolved {
  readonly values: Scalar[] | undefined;
  texts?: Array<[string, string]>;
}

/**
 * One event seen by many rules: field lookups and lower-casing happen once per field, not once per rule.
 */
export class EventView {
  private readonly cache = new Map<string, Resolved>();
  private allTexts: Array<[string, string]> | null = null;
  private allScalars: Scalar[] | null = null;

  constructor(readonly event: unknown) {}

  values(field: string): Scalar[] | undefined {
    let r = this.cache.get(field);
    if (!r) {
      r = { values: resolveField(this.event, field) };
      this.cache.set(field, r);
    }
    return r.values;
  }

  /** [text, lower-case text] for every non-null value of the field. */
  texts(field: string): Array<[string, string]> {
    this.values(field);
    const r = this.cache.get(field)!;
    if (!r.texts) r.texts = toTexts(r.values ?? []);
    return r.texts;
  }

  /** Every scalar anywhere in the event, for keyword searches. */
  everyText(): Array<[string, string]> {
    if (!this.allTexts) this.allTexts = toTexts(this.everyScalar());
    return this.allTexts;
  }

  everyScalar(): Scalar[] {
    if (this.allScalars) return this.allScalars;
    const out: Scalar[] = [];
    const walk = (v: unknown, depth: number): void => {
      if (out.length >= MAX_VALUES || depth > 32) return;
      if (Array.isArray(v)) for (const x of v) walk(x, depth + 1);
      else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) walk(x, depth + 1);
      else out.push(v as Scalar);
    };
    walk(this.event, 0);
    this.allScalars = out;
    return out;
  }
}

function toTexts(values: readonly Scalar[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const v of values) {
    const t = scalarText(v);
    if (t !== null) out.push([t, t.toLowerCase()]);
  }
  return out;
}
