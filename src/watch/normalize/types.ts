/**
 * Common fields every watched event gets, whatever its source, next to the untouched raw event.
 * Field names follow OCSF where one fits (see docs/watch-normalize.md for each source's mapping).
 */
export type Outcome = 'success' | 'failure' | 'unknown';

export interface NormalizedEvent {
  /** ISO 8601 event time as the source gave it, if any. */
  readonly time?: string;
  /** Epoch milliseconds of `time` (undefined when absent or unparseable). */
  readonly timeMs?: number;
  /** "aws.cloudtrail", "kubernetes.audit", "falco", "egress-proxy" or "unknown". */
  readonly source: string;
  readonly actor?: string;
  readonly action?: string;
  readonly resource?: string;
  readonly outcome: Outcome;
  readonly sourceIp?: string;
  readonly account?: string;
  readonly region?: string;
  /** OCSF class name: "API Activity", "Authentication", "Detection Finding", "HTTP Activity", "Network Activity". */
  readonly ocsfClass?: string;
  /** The event as received; rules match on this. */
  readonly raw: unknown;
  /** When the event arrived inside an EventBridge envelope: that envelope (raw is then its detail). */
  readonly envelope?: unknown;
}

/** One source's mapping: a cheap shape test and the field mapping (STYLE.md §1: one file per format). */
export interface Normalizer {
  readonly source: string;
  detect(raw: Record<string, unknown>): boolean;
  normalize(raw: Record<string, unknown>): NormalizedEvent;
}

export function str(v: unknown): string | undefined {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

export function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function timeFields(time: string | undefined): { time?: string; timeMs?: number } {
  if (!time) return {};
  const ms = Date.parse(time);
  return Number.isFinite(ms) ? { time, timeMs: ms } : { time };
}

/** Drops undefined members so that events serialise without noise. */
export function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
