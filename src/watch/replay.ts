import { readFile, stat } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { LimitExceededError, NotFoundError, UserInputError } from '../core/errors.js';
import { type BaselineConfig, type BaselineEngine, createBaselines } from './baselines/index.js';
import { type NormalizedEvent, normalizeEvent } from './normalize/index.js';
import { isRoutesDocument, parseRoutes, Router } from './rules/routing.js';
import { CorrelationEngine } from './rules/sigma/correlation.js';
import {
  type AnyRule,
  type CorrelationRule,
  EventView,
  parseSigmaText,
  ruleLabel,
  SigmaEngine,
  type SigmaOptions,
  type SigmaRule,
  sigmaFiles,
} from './rules/sigma/index.js';

/**
 * Offline replay: events from files, in event-time order, through routing patterns, Sigma rules and
 * correlations, one match record per hit. This is how users try rules on sample logs before deploying.
 */
export interface ReplayMatch {
  /** Route name, or a Sigma rule's id (title when it has none). */
  readonly rule: string;
  readonly kind: 'route' | 'sigma' | 'correlation' | 'baseline';
  /** 0-based index of the event in input order (for a correlation: the event that completed it). */
  readonly event: number;
  /** Sigma rule author, carried as the Detection Rule License requires. */
  readonly author?: string;
  /** Baseline alerts (rule "baseline:<detector>"): the alert with its numbers. */
  readonly key?: string;
  readonly severity?: string;
  readonly title?: string;
  readonly explanation?: string;
  readonly numbers?: Readonly<Record<string, number>>;
}

export interface ReplayOptions extends SigmaOptions {
  readonly rules: readonly string[];
  readonly inputs: readonly string[];
  /** Also run the baseline detectors (in memory, learning from the inputs themselves). */
  readonly baselines?: BaselineConfig;
}

const MAX_INPUT_BYTES = 256 * 1024 * 1024;
const MAX_EVENTS = 5_000_000;

export interface RuleSet {
  readonly router: Router;
  readonly sigma: SigmaEngine;
  readonly detections: readonly SigmaRule[];
  readonly correlations: readonly CorrelationRule[];
}

/** Reads routing files and Sigma rules from files and directories; a YAML file with `routes:` is routing. */
export async function loadRuleSet(paths: readonly string[], options: SigmaOptions = {}): Promise<RuleSet> {
  const router = new Router();
  const sigma = new SigmaEngine(options);
  const detections: SigmaRule[] = [];
  const correlations: CorrelationRule[] = [];
  for (const file of await sigmaFiles(paths)) {
    const text = await readFile(file, 'utf8');
    let first: unknown;
    try {
      first = parse(text.split(/^---\s*$/m)[0] ?? '', { version: '1.2' });
    } catch {
      first = null; // parseSigmaText reports the YAML error with the file name
    }
    if (isRoutesDocument(first)) {
      for (const r of parseRoutes(text, file)) router.add(r.name, r.pattern, r.targets);
      continue;
    }
    for (const rule of parseSigmaText(text, file) as AnyRule[]) {
      if (rule.kind === 'detection') {
        sigma.add(rule);
        detections.push(rule);
      } else if (rule.kind === 'filter') sigma.addFilter(rule);
      else correlations.push(rule);
    }
  }
  new CorrelationEngine(correlations).validate(detections);
  return { router, sigma, detections, correlations };
}

/** Parses one input file: CloudTrail {"Records":[…]}, a Kubernetes EventList, a JSON array or object, or NDJSON; gzip is detected by its magic bytes. */
export async function readEvents(file: string): Promise<unknown[]> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    throw new NotFoundError(`input not found: ${file}`);
  }
  if (size > MAX_INPUT_BYTES) throw new LimitExceededError(`${file}: larger than ${MAX_INPUT_BYTES} bytes`);
  let bytes = await readFile(file);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: MAX_INPUT_BYTES });
    } catch (err) {
      const msg = (err as Error).message;
      if (/maxOutputLength|buffer/i.test(msg))
        throw new LimitExceededError(`${file}: decompresses to more than ${MAX_INPUT_BYTES} bytes`);
      throw new UserInputError(`${file}: invalid gzip: ${msg}`);
    }
  }
  const text = bytes.toString('utf8');
  let whole: unknown;
  let isWhole = true;
  try {
    whole = JSON.parse(text);
  } catch {
    isWhole = false;
  }
  if (isWhole) return unwrap(whole, file);
  const out: unknown[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    try {
      out.push(...unwrap(JSON.parse(line), file));
    } catch (err) {
      if (err instanceof UserInputError) throw err;
      throw new UserInputError(`${file}:${i + 1}: not JSON, NDJSON, or a CloudTrail file`);
    }
  }
  return out;
}

function unwrap(v: unknown, file: string): unknown[] {
  if (Array.isArray(v)) return v;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.Records)) return o.Records;
    if (o.kind === 'EventList' && Array.isArray(o.items)) return o.items;
    return [v];
  }
  throw new UserInputError(`${file}: an event must be a JSON object`);
}

/** Normalises and orders events by time (stable; an event without a time keeps the time of the one before it). */
export function orderByTime(events: readonly unknown[]): Array<{ index: number; ev: NormalizedEvent; t: number }> {
  let last = 0;
  const rows = events.map((raw, index) => {
    const ev = normalizeEvent(raw);
    const t = ev.timeMs ?? last;
    last = t;
    return { index, ev, t };
  });
  return rows.sort((a, b) => a.t - b.t || a.index - b.index);
}

export async function replay(options: ReplayOptions): Promise<ReplayMatch[]> {
  if (options.rules.length === 0 && !options.baselines) {
    throw new UserInputError('replay: give at least one --rules path (or --baselines)');
  }
  if (options.inputs.length === 0) throw new UserInputError('replay: give at least one --input path');
  const set = await loadRuleSet(options.rules, options);
  const events: unknown[] = [];
  for (const f of options.inputs) {
    events.push(...(await readEvents(f)));
    if (events.length > MAX_EVENTS) throw new LimitExceededError(`more than ${MAX_EVENTS} events in the inputs`);
  }
  return replayEvents(set, events, options.baselines ? createBaselines(options.baselines) : undefined);
}

export function replayEvents(set: RuleSet, events: readonly unknown[], baselines?: BaselineEngine): ReplayMatch[] {
  const correlations = new CorrelationEngine(set.correlations, { repeat: 'window' });
  // Sigma correlation spec: rules a correlation uses are not reported on their own unless it says generate: true.
  const silent = new Set<string>();
  for (const c of set.correlations) if (!c.generate) for (const r of c.rules) silent.add(r);
  const out: ReplayMatch[] = [];
  for (const { index, ev, t } of orderByTime(events)) {
    for (const r of set.router.match(ev)) out.push({ rule: r.name, kind: 'route', event: index });
    const source = ev.source === 'unknown' ? undefined : ev.source;
    const hits = set.sigma.evaluateView(new EventView(ev.raw), source);
    for (const h of hits) {
      if ((h.id && silent.has(h.id)) || (h.name && silent.has(h.name))) continue;
      out.push({ rule: ruleLabel(h), kind: 'sigma', event: index, ...(h.author ? { author: h.author } : {}) });
    }
    const fired = correlations.process(
      hits.map((h) => ({ ...(h.id ? { id: h.id } : {}), ...(h.name ? { name: h.name } : {}), event: ev.raw, time: t })),
    );
    for (const c of fired) {
      out.push({
        rule: ruleLabel(c.rule),
        kind: 'correlation',
        event: index,
        ...(c.rule.author ? { author: c.rule.author } : {}),
      });
    }
    for (const a of baselines?.observe(ev, t) ?? []) {
      const { detector, time: _time, ...alert } = a;
      out.push({ rule: `baseline:${detector}`, kind: 'baseline', event: index, ...alert });
    }
  }
  correlations.close();
  baselines?.close();
  return out;
}
