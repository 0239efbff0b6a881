import { createHash, randomUUID } from 'node:crypto';

/** One event as a source delivered it, before normalisation. */
export interface IngestEvent {
  /** Stable id (dedupe key in the store and the lake): the source's own id where it has one. */
  id: string;
  /** Source name; also the lake partition `source=…` ([a-z0-9_]+). */
  source: string;
  /** Event time in ms (from the event when it states one, else the receive time). */
  time: number;
  receivedAt: number;
  /** The raw event, parsed (JSON object, or the parsed syslog record which keeps its raw line). */
  data: Record<string, unknown>;
}

/**
 * Where durable events go next (the rules half: normalisation, routing, Sigma). Called after the events are
 * committed to the store, in order, never concurrently; a throw is reported but does not lose events.
 */
export type EventSink = (events: readonly IngestEvent[]) => void | Promise<void>;

/** Content id: identical resubmissions (a shipper's retry) map to the same id. */
export function contentId(source: string, raw: string): string {
  return `${source}:h:${createHash('sha256').update(raw).digest('hex').slice(0, 32)}`;
}

export function nativeId(source: string, id: string): string {
  return `${source}:${id}`;
}

/** For sources where identical records are distinct events (syslog): a fresh id. */
export function freshId(source: string): string {
  return `${source}:u:${randomUUID()}`;
}

/** Event time from the first parseable field (ISO 8601 string, or epoch seconds/ms number), else `fallback`. */
export function eventTime(data: Record<string, unknown>, fields: readonly string[], fallback: number): number {
  for (const f of fields) {
    const v = data[f];
    if (typeof v === 'string') {
      const t = Date.parse(v);
      if (!Number.isNaN(t)) return t;
    } else if (typeof v === 'number' && Number.isFinite(v)) {
      return v < 1e11 ? Math.round(v * 1000) : Math.round(v); // seconds vs milliseconds
    }
  }
  return fallback;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
