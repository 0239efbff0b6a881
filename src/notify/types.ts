import type { Severity } from '../core/types.js';

/** What a rule, a correlation, a heartbeat or the gate raises. Notifiers render it for their receiver. */
export interface Alert {
  /** Rule id or name that raised it (stable: used for routing and dedupe). */
  rule: string;
  severity: Severity;
  title: string;
  description?: string;
  /** ISO 8601 time the alert is about (event time), default: when raised. */
  time?: string;
  /** Where the evidence came from: a source name, host or account. */
  source?: string;
  /** Same key within the dedupe window = one alert. Default: rule + title. */
  dedupKey?: string;
  /** Short facts shown as fields (actor, IP, resource...). */
  fields?: Record<string, string | number | boolean>;
  /** Optional link to more detail (gate UI, runbook). */
  link?: string;
}

/** An alert as recorded in the store: defaults filled in, with its store id. */
export interface RecordedAlert extends Alert {
  id: number;
  time: string;
  dedupKey: string;
}

/** One receiver kind (STYLE.md §1: one file per notifier, registered in one list). */
export interface Notifier {
  readonly type: string;
  /** Delivers or throws NotifyError; `deliveryId` is stable across retries (receivers may dedupe on it). */
  send(alert: RecordedAlert, deliveryId: string): Promise<void>;
}

/** A failed delivery; `retryable` false means retrying cannot help (bad request, bad credentials). */
export class NotifyError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'NotifyError';
  }
}
