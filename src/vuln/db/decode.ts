import { Worker } from 'node:worker_threads';
import { IntegrityError, LimitExceededError, UserInputError } from '../../core/errors.js';
import { looksLikeSecdb, SecdbConverter } from './alpine-secdb.js';
import type { Doc, Limits } from './inputs.js';
import { convertNodejsWg, looksLikeNodejsWg } from './nodejs-wg.js';
import { checkOsv, looksLikeOsv } from './osv.js';
import { type PreparedRecord, prepareRecord } from './rows.js';

/**
 * Decoding import inputs: documents routed to their converter and checked, records prepared as
 * the rows the DB stores. `decodeInWorker` runs it on a second thread, so reading, inflating,
 * JSON parsing and checking overlap with the SQLite writes on the calling thread.
 */

/** What decoding one document yields, in order; plain data, so it can cross a thread boundary. */
export type DecodeEvent =
  | { kind: 'document' }
  | { kind: 'put'; record: PreparedRecord; merge: boolean }
  | { kind: 'skip'; message: string }
  | { kind: 'warn'; message: string }
  | { kind: 'converted'; format: 'alpineSecdb' | 'nodejsWg'; count: number };

/** Routes each document to the right converter and prepares its records for the writer. */
export class Decoder {
  private readonly secdb = new SecdbConverter();
  private readonly startedAt = new Date().toISOString();

  constructor(private readonly emit: (e: DecodeEvent) => void) {}

  doc(doc: Doc): void {
    this.emit({ kind: 'document' });
    if ('error' in doc) {
      this.emit({ kind: 'skip', message: `${doc.where}: ${doc.error}` });
      return;
    }
    const data = doc.data;
    if (Array.isArray(data)) {
      for (const [i, d] of data.entries()) this.one(d, `${doc.where}[${i}]`);
      return;
    }
    const vulns = (data as { vulns?: unknown } | null)?.vulns;
    if (Array.isArray(vulns) && !looksLikeOsv(data)) {
      for (const [i, d] of vulns.entries()) this.one(d, `${doc.where}.vulns[${i}]`);
      return;
    }
    this.one(data, doc.where);
  }

  private one(data: unknown, where: string): void {
    if (looksLikeSecdb(data)) {
      for (const w of this.secdb.add(data as Record<string, unknown>, where)) this.emit({ kind: 'warn', message: w });
      return;
    }
    if (looksLikeNodejsWg(data)) {
      const c = convertNodejsWg(data as Record<string, unknown>);
      if (!c.ok) {
        this.emit({ kind: 'skip', message: `${where}: nodejs security-wg record skipped: ${c.reason}` });
        return;
      }
      this.emit({ kind: 'converted', format: 'nodejsWg', count: 1 });
      this.emit({ kind: 'put', record: prepareRecord(c.record, 'nodejs-wg'), merge: false });
      return;
    }
    const checked = checkOsv(data);
    if (!checked.ok) {
      const id = (data as { id?: unknown } | null)?.id;
      const named = typeof id === 'string' ? ` (${id.slice(0, 80)})` : '';
      this.emit({ kind: 'skip', message: `${where}${named}: not a valid OSV record: ${checked.reason}` });
      return;
    }
    this.emit({ kind: 'put', record: prepareRecord(checked.record, 'osv'), merge: false });
  }

  /** Emits what was collected across documents (secdb records span files). */
  finish(): void {
    const recs = this.secdb.records(this.startedAt);
    this.emit({ kind: 'converted', format: 'alpineSecdb', count: recs.length });
    for (const r of recs) this.emit({ kind: 'put', record: prepareRecord(r, 'alpine-secdb'), merge: true });
  }
}

/** Events per message, and messages the worker may run ahead of the writer (bounds memory). */
const BATCH = 512;
const MAX_IN_FLIGHT = 4;

export interface WorkerInput {
  inputs: readonly string[];
  limits: Limits;
}

export type WorkerMessage = { events: DecodeEvent[] } | { done: true } | { error: { name: string; message: string } };

/** Errors the worker may report, rebuilt as their own class so the CLI treats them alike. */
const ERRORS: Record<string, new (message: string) => Error> = {
  UserInputError,
  LimitExceededError,
  IntegrityError,
};

function startWorker(data: WorkerInput): Worker {
  // From TypeScript sources (tests, `tsx`) the worker needs the TypeScript loader registered in its
  // own thread; the built .js runs as is.
  const source = import.meta.url.endsWith('.ts');
  return new Worker(new URL(source ? './decode-worker-dev.mjs' : './decode-worker.js', import.meta.url), {
    workerData: data,
  });
}

/**
 * Decodes `inputs` on a worker thread and hands the events, in order, to `apply` (on this thread).
 * Resolves once every document is decoded and applied; rejects with the worker's error (its
 * class kept) or `apply`'s, stopping the worker.
 */
export function decodeInWorker(
  inputs: readonly string[],
  limits: Limits,
  apply: (events: DecodeEvent[]) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = startWorker({ inputs, limits });
    let settled = false;
    const settle = (err?: unknown) => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      if (err === undefined) resolve();
      else reject(err);
    };
    worker.on('message', (m: WorkerMessage) => {
      if ('events' in m) {
        try {
          apply(m.events);
        } catch (err) {
          settle(err);
          return;
        }
        worker.postMessage('ack');
      } else if ('done' in m) settle();
      else {
        const Cls = ERRORS[m.error.name];
        settle(Cls ? new Cls(m.error.message) : new Error(m.error.message));
      }
    });
    worker.on('error', (err) => settle(err));
    worker.on('exit', (code) => settle(new Error(`the import's decoding thread stopped (exit code ${code})`)));
  });
}

/** The worker's side: decode every document, post events in batches, at most MAX_IN_FLIGHT unacknowledged. */
export async function runDecoder(
  docs: AsyncIterable<Doc>,
  post: (m: WorkerMessage) => void,
  onAck: (fn: () => void) => void,
): Promise<void> {
  let batch: DecodeEvent[] = [];
  let inFlight = 0;
  let wake: (() => void) | null = null;
  onAck(() => {
    inFlight--;
    wake?.();
    wake = null;
  });
  const flush = async () => {
    if (batch.length === 0) return;
    post({ events: batch });
    batch = [];
    inFlight++;
    while (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((r) => (wake = r));
  };
  try {
    const decoder = new Decoder((e) => batch.push(e));
    for await (const doc of docs) {
      decoder.doc(doc);
      if (batch.length >= BATCH) await flush();
    }
    decoder.finish();
    await flush();
    post({ done: true });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    post({ error: { name: e.name, message: e.message } });
  }
}
