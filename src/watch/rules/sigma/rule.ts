import { parseAllDocuments } from 'yaml';
import { LimitExceededError, UserInputError } from '../../../core/errors.js';
import type { LogSource } from './logsource.js';

/**
 * Sigma rule files as SigmaHQ writes them (YAML 1.2, several documents per file for correlations).
 * This module only reads and checks the shape; compile.ts turns detections into closures.
 */
export interface SigmaRule {
  readonly kind: 'detection';
  readonly id?: string;
  readonly name?: string;
  readonly title: string;
  readonly level?: string;
  readonly status?: string;
  /** Kept for attribution: DRL 1.1 requires match messages to name the rule's author. */
  readonly author?: string;
  readonly tags: readonly string[];
  readonly logsource: LogSource;
  readonly detection: Readonly<Record<string, unknown>>;
  readonly conditions: readonly string[];
  readonly file?: string;
}

export const CORRELATION_TYPES = [
  'event_count',
  'value_count',
  'temporal',
  'temporal_ordered',
  'value_sum',
  'value_avg',
  'value_percentile',
] as const;
export type CorrelationType = (typeof CORRELATION_TYPES)[number];

export type Comparison = 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'neq';

export interface CorrelationRule {
  readonly kind: 'correlation';
  readonly id?: string;
  readonly name?: string;
  readonly title: string;
  readonly level?: string;
  readonly author?: string;
  readonly type: CorrelationType;
  /** Referenced rules by id or name. */
  readonly rules: readonly string[];
  readonly groupBy: readonly string[];
  readonly timespanMs: number;
  /** Threshold terms, all of which must hold (e.g. gt 2 and lte 5). */
  readonly thresholds: ReadonlyArray<readonly [Comparison, number]>;
  /** Extended temporal condition over rule names (`a and b`), instead of thresholds. */
  readonly expression?: string;
  readonly field?: readonly string[];
  readonly percentile?: number;
  /** alias -> (rule id/name -> field) */
  readonly aliases: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly generate: boolean;
  readonly file?: string;
}

/** Sigma filter (spec v2): extra exclusions for the listed rules, applied as `rule and not filter`. */
export interface SigmaFilter {
  readonly kind: 'filter';
  readonly id?: string;
  readonly title: string;
  readonly logsource: LogSource;
  /** Rule ids or names the filter tunes. */
  readonly rules: readonly string[];
  readonly detection: Readonly<Record<string, unknown>>;
  readonly conditions: readonly string[];
  readonly file?: string;
}

export type AnyRule = SigmaRule | CorrelationRule | SigmaFilter;

const MAX_TEXT = 4 * 1024 * 1024;
const LEVELS = new Set(['informational', 'low', 'medium', 'high', 'critical']);

export function ruleLabel(r: { id?: string; title: string }): string {
  return r.id ?? r.title;
}

export function parseSigmaText(text: string, file?: string): AnyRule[] {
  if (text.length > MAX_TEXT) throw new LimitExceededError(`${file ?? 'sigma rule'}: larger than ${MAX_TEXT} bytes`);
  const where = file ?? 'sigma rule';
  const docs = parseAllDocuments(text, { version: '1.2', uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: AnyRule[] = [];
  for (const doc of list) {
    if (doc.errors.length > 0)
      throw new UserInputError(`${where}: invalid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    if (value === null || value === undefined) continue;
    out.push(parseDoc(value, where, file));
  }
  if (out.length === 0) throw new UserInputError(`${where}: no Sigma rule in file`);
  return out;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function optString(o: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' && typeof v !== 'number') throw new UserInputError(`${where}: "${key}" must be a string`);
  return String(v);
}

function parseDoc(doc: unknown, where: string, file: string | undefined): AnyRule {
  if (!isMap(doc)) throw new UserInputError(`${where}: a rule must be a YAML mapping`);
  const title = optString(doc, 'title', where);
  if (!title) throw new UserInputError(`${where}: rule has no title`);
  const at = `${where}: rule "${title}"`;
  const id = optString(doc, 'id', at);
  const name = optString(doc, 'name', at);
  const level = optString(doc, 'level', at);
  if (level !== undefined && !LEVELS.has(level)) throw new UserInputError(`${at}: unknown level "${level}"`);
  if (doc.action !== undefined) throw new UserInputError(`${at}: Sigma 1 "action" documents are not supported`);
  const author = typeof doc.author === 'string' ? doc.author : undefined;
  if (doc.correlation !== undefined)
    return parseCorrelation(doc.correlation, { id, name, title, level, author, at, file });
  if (doc.filter !== undefined)
    return parseFilter(doc, {
      ...(id !== undefined ? { id } : {}),
      title,
      at,
      ...(file !== undefined ? { file } : {}),
    });
  // sigma-rust and pySigma accept an empty `logsource:`; it then applies to any source.
  const ls = doc.logsource ?? {};
  if (!isMap(ls)) throw new UserInputError(`${at}: logsource must be a mapping`);
  const det = doc.detection;
  if (!isMap(det)) throw new UserInputError(`${at}: detection must be a mapping`);
  const cond = det.condition;
  const conditions = typeof cond === 'string' ? [cond] : Array.isArray(cond) ? cond : null;
  if (!conditions || conditions.length === 0 || !conditions.every((c) => typeof c === 'string')) {
    throw new UserInputError(`${at}: detection.condition must be a string or a list of strings`);
  }
  const detection = Object.fromEntries(Object.entries(det).filter(([k]) => k !== 'condition'));
  if (Object.keys(detection).length === 0) throw new UserInputError(`${at}: detection has no search identifiers`);
  const tags = Array.isArray(doc.tags) ? doc.tags.map(String) : [];
  const logsource: LogSource = {
    ...(typeof ls.product === 'string' ? { product: ls.product } : {}),
    ...(typeof ls.category === 'string' ? { category: ls.category } : {}),
    ...(typeof ls.service === 'string' ? { service: ls.service } : {}),
  };
  return {
    kind: 'detection',
    ...(id !== undefined ? { id } : {}),
    ...(name !== undefined ? { name } : {}),
    title,
    ...(level !== undefined ? { level } : {}),
    ...(typeof doc.status === 'string' ? { status: doc.status } : {}),
    ...(typeof doc.author === 'string' ? { author: doc.author } : {}),
    tags,
    logsource,
    detection,
    conditions: conditions as string[],
    ...(file !== undefined ? { file } : {}),
  };
}

function parseFilter(
  doc: Record<string, unknown>,
  h: { id?: string; title: string; at: string; file?: string },
): SigmaFilter {
  const f = doc.filter;
  if (!isMap(f)) throw new UserInputError(`${h.at}: filter must be a mapping`);
  const rules = typeof f.rules === 'string' ? [f.rules] : f.rules;
  if (!Array.isArray(rules) || rules.length === 0 || !rules.every((r) => typeof r === 'string')) {
    throw new UserInputError(`${h.at}: filter.rules must list rule ids or names`);
  }
  const cond = f.condition;
  const conditions = typeof cond === 'string' ? [cond] : Array.isArray(cond) ? cond : null;
  if (!conditions || conditions.length === 0 || !conditions.every((c) => typeof c === 'string')) {
    throw new UserInputError(`${h.at}: filter.condition must be a string or a list of strings`);
  }
  const detection = Object.fromEntries(Object.entries(f).filter(([k]) => k !== 'rules' && k !== 'condition'));
  if (Object.keys(detection).length === 0) throw new UserInputError(`${h.at}: filter has no selection`);
  const ls = isMap(doc.logsource) ? doc.logsource : {};
  return {
    kind: 'filter',
    ...(h.id !== undefined ? { id: h.id } : {}),
    title: h.title,
    logsource: {
      ...(typeof ls.product === 'string' ? { product: ls.product } : {}),
      ...(typeof ls.category === 'string' ? { category: ls.category } : {}),
      ...(typeof ls.service === 'string' ? { service: ls.service } : {}),
    },
    rules: rules as string[],
    detection,
    conditions: conditions as string[],
    ...(h.file !== undefined ? { file: h.file } : {}),
  };
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function parseTimespan(v: unknown, at: string): number {
  const m = typeof v === 'string' ? /^([0-9]+)([smhdw])$/.exec(v.trim()) : null;
  if (!m) throw new UserInputError(`${at}: timespan must look like 30s, 5m, 1h, 1d or 1w (got ${JSON.stringify(v)})`);
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  if (ms <= 0) throw new UserInputError(`${at}: timespan must be positive`);
  return ms;
}

const COMPARISONS = new Set<Comparison>(['gt', 'gte', 'lt', 'lte', 'eq', 'neq']);

function parseCorrelation(
  c: unknown,
  h: { id?: string; name?: string; title: string; level?: string; author?: string; at: string; file?: string },
): CorrelationRule {
  const at = h.at;
  if (!isMap(c)) throw new UserInputError(`${at}: correlation must be a mapping`);
  const type = c.type as CorrelationType;
  if (!CORRELATION_TYPES.includes(type))
    throw new UserInputError(`${at}: unknown correlation type ${JSON.stringify(c.type)}`);
  const rules = typeof c.rules === 'string' ? [c.rules] : c.rules;
  if (!Array.isArray(rules) || rules.length === 0 || !rules.every((r) => typeof r === 'string')) {
    throw new UserInputError(`${at}: correlation.rules must list rule ids or names`);
  }
  const gb = c['group-by'] ?? [];
  const groupBy = typeof gb === 'string' ? [gb] : gb;
  if (!Array.isArray(groupBy) || !groupBy.every((g) => typeof g === 'string')) {
    throw new UserInputError(`${at}: group-by must be a list of field names`);
  }
  const timespanMs = parseTimespan(c.timespan ?? c.timeframe, at);
  const thresholds: Array<[Comparison, number]> = [];
  let expression: string | undefined;
  let field: string[] | undefined;
  let percentile: number | undefined;
  const cond = c.condition;
  if (typeof cond === 'string') {
    if (type !== 'temporal' && type !== 'temporal_ordered') {
      throw new UserInputError(`${at}: a condition expression is only valid for temporal correlations`);
    }
    expression = cond;
  } else if (isMap(cond)) {
    for (const [k, v] of Object.entries(cond)) {
      if (k === 'field') {
        const f = typeof v === 'string' ? [v] : v;
        if (!Array.isArray(f) || !f.every((x) => typeof x === 'string'))
          throw new UserInputError(`${at}: condition.field must be a field name`);
        field = f as string[];
      } else if (k === 'percentile') {
        if (typeof v !== 'number') throw new UserInputError(`${at}: percentile must be a number`);
        percentile = v;
      } else if (COMPARISONS.has(k as Comparison)) {
        if (typeof v !== 'number') throw new UserInputError(`${at}: condition.${k} must be a number`);
        thresholds.push([k as Comparison, v]);
      } else throw new UserInputError(`${at}: unknown condition key "${k}"`);
    }
  } else if (cond === undefined && (type === 'temporal' || type === 'temporal_ordered')) {
    thresholds.push(['gte', rules.length]);
  } else throw new UserInputError(`${at}: correlation.condition is required`);
  if (thresholds.length === 0 && expression === undefined)
    throw new UserInputError(`${at}: condition has no threshold`);
  const needsField =
    type === 'value_count' || type === 'value_sum' || type === 'value_avg' || type === 'value_percentile';
  if (needsField && !field) throw new UserInputError(`${at}: ${type} needs condition.field`);
  const aliases: Record<string, Record<string, string>> = {};
  if (c.aliases !== undefined) {
    if (!isMap(c.aliases)) throw new UserInputError(`${at}: aliases must be a mapping`);
    for (const [alias, m] of Object.entries(c.aliases)) {
      if (!isMap(m)) throw new UserInputError(`${at}: alias ${alias} must map rule names to fields`);
      aliases[alias] = Object.fromEntries(Object.entries(m).map(([r, f]) => [r, String(f)]));
    }
  }
  return {
    kind: 'correlation',
    ...(h.id !== undefined ? { id: h.id } : {}),
    ...(h.name !== undefined ? { name: h.name } : {}),
    title: h.title,
    ...(h.level !== undefined ? { level: h.level } : {}),
    ...(h.author !== undefined ? { author: h.author } : {}),
    type,
    rules: rules as string[],
    groupBy: groupBy as string[],
    timespanMs,
    thresholds,
    ...(expression !== undefined ? { expression } : {}),
    ...(field ? { field } : {}),
    ...(percentile !== undefined ? { percentile } : {}),
    aliases,
    generate: c.generate === true,
    ...(h.file !== undefined ? { file: h.file } : {}),
  };
}
