import { Worker } from 'node:worker_threads';
import { IntegrityError, LimitExceededError, UserInputError } from '../../core/errors.js';
import { looksLikeSecdb } from './alpine-secdb.js';
import { type Doc, DocumentIndex, type Limits, type Source } from './inputs.js';
import { convertNodejsWg, looksLikeNodejsWg } from './nodejs-wg.js';
import { checkOsv, looksLikeOsv } from './osv.js';
import { type PreparedRecord, prepareRecord } from './rows.js';
import { fromWire, toWire, type WireChunk } from './wire.js';

/**
 * Decoding import inputs: documents routed to their converter and checked, records prepared as
 * the rows the DB stores. `decodeShared` spreads it over the writing thread and worker threads, so
 * reading, inflating, JSON parsing, checking and preparing use every core the SQLite writes leave.
 */

/** What decoding one document yields, in order; plain data, so it can cross a thread boundary. */
export type DecodeEvent =
  | { kind: 'document' }
  | { kind: 'put'; record: PreparedRecord; merge: boolean }
  | { kind: 'skip'; message: string }
  | { kind: 'warn'; message: string }
  | { kind: 'converted'; format: 'nodejsWg'; count: number }
  // Alpine secdb documents each hold part of many advisories: one converter, on the writing
  // thread, collects them all (import.ts).
  | { kind: 'secdb'; data: Record<string, unknown>; where: string };

/** Routes each document to the right converter and prepares its records for the writer. */
export class Decoder {
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
      this.emit({ kind: 'secdb', data: data as Record<string, unknown>, where });
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
}

/**
 * How threads share an import's decoding: the documents (inputs.ts, `DocumentIndex`) are cut into
 * chunks of consecutive documents; the writing thread and each worker claim the next unclaimed
 * chunk from a shared counter whenever they have nothing better to do, so the work balances itself
 * whatever each thread's speed. The writer applies the chunks in order, so an import gives the same
 * DB whatever the number of threads, and whoever decoded what.
 */
const CHUNK_DOCUMENTS = 256;
/** Chunks a worker may run ahead of the writer, and decoded chunks the writer keeps waiting (bound memory). */
const MAX_IN_FLIGHT = 4;
const MAX_WAITING = 8;

export interface WorkerInput {
  sources: readonly Source[];
  limits: Limits;
  /** Documents in the index the writer built: a worker that counts otherwise fails the import. */
  documents: number;
  chunk: number;
  /** One Int32: the next unclaimed chunk. */
  claims: SharedArrayBuffer;
}

export type WorkerMessage =
  | { chunk: number; wire: WireChunk }
  | { done: true }
  | { error: { name: string; message: string } };

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

/** The events of one chunk's documents. */
async function decodeChunk(index: DocumentIndex, chunk: number, size: number): Promise<DecodeEvent[]> {
  const events: DecodeEvent[] = [];
  const decoder = new Decoder((e) => events.push(e));
  for await (const doc of index.range(chunk * size, (chunk + 1) * size)) decoder.doc(doc);
  return events;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Decodes `sources` on this thread and `workers` worker threads, and hands the events, in
 * document order, to `apply` (on this thread). Resolves once every document is decoded and
 * applied; rejects with a worker's error (its class kept), this thread's, or `apply`'s, stopping
 * every worker.
 */
export async function decodeShared(
  sources: readonly Source[],
  limits: Limits,
  opts: {
    workers: number;
    chunk?: number;
    writerDecodes?: boolean;
    /** Called after each chunk is applied: documents applied so far, and in all. */
    progress?: (documents: number, total: number) => void;
  },
  apply: (events: DecodeEvent[]) => void,
): Promise<void> {
  const size = Math.max(1, Math.floor(opts.chunk ?? CHUNK_DOCUMENTS));
  const index = DocumentIndex.open(sources, limits);
  const chunks = Math.ceil(index.size / size);
  const claims = new Int32Array(new SharedArrayBuffer(4));
  const claim = () => Atomics.add(claims, 0, 1);
  // Decoded chunks waiting for their turn: this thread's as events, the workers' as sent.
  const waiting = new Map<number, { events: DecodeEvent[] } | { wire: WireChunk; from: Worker }>();
  let failure: unknown;
  let wake: (() => void) | null = null;
  const woken = () => {
    wake?.();
    wake = null;
  };
  const workers: Worker[] = [];
  const finished = new Set<Worker>();
  try {
    const workerCount = chunks > 1 ? Math.max(0, Math.floor(opts.workers)) : 0;
    for (let i = 0; i < workerCount; i++) {
      const worker = startWorker({
        sources,
        limits,
        documents: index.size,
        chunk: size,
        claims: claims.buffer as SharedArrayBuffer,
      });
      workers.push(worker);
      worker.on('message', (m: WorkerMessage) => {
        if ('wire' in m) waiting.set(m.chunk, { wire: m.wire, from: worker });
        else if ('done' in m) finished.add(worker);
        else {
          const Cls = ERRORS[m.error.name];
          failure ??= Cls ? new Cls(m.error.message) : new Error(m.error.message);
        }
        woken();
      });
      worker.on('error', (err) => {
        failure ??= err;
        woken();
      });
      worker.on('exit', (code) => {
        if (!finished.has(worker)) failure ??= new Error(`the import's decoding thread stopped (exit code ${code})`);
        woken();
      });
    }
    let next = 0;
    // Without workers this thread decodes everything, whatever it was asked.
    let claimsLeft = workers.length === 0 || opts.writerDecodes !== false;
    while (next < chunks) {
      if (failure !== undefined) throw failure;
      const ready = waiting.get(next);
      if (ready) {
        waiting.delete(next);
        next++;
        if ('events' in ready) apply(ready.events);
        else {
          ready.from.postMessage('ack');
          apply(fromWire(ready.wire));
        }
        opts.progress?.(Math.min(next * size, index.size), index.size);
        continue;
      }
      // The next chunk is a worker's, still being decoded: decode another meanwhile, unless enough wait.
      if (claimsLeft && waiting.size < MAX_WAITING) {
        const k = claim();
        if (k < chunks) {
          waiting.set(k, { events: await decodeChunk(index, k, size) });
          // Let the workers' messages in between chunks.
          if (workers.length > 0) await nextTurn();
          continue;
        }
        claimsLeft = false;
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    index.close();
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** A worker's side: claim chunks and post each one's events, at most MAX_IN_FLIGHT unacknowledged. */
export async function runDecoder(
  input: WorkerInput,
  post: (m: WorkerMessage, transfer?: ArrayBuffer[]) => void,
  onAck: (fn: () => void) => void,
): Promise<void> {
  let inFlight = 0;
  let wake: (() => void) | null = null;
  onAck(() => {
    inFlight--;
    wake?.();
    wake = null;
  });
  let index: DocumentIndex | undefined;
  try {
    index = DocumentIndex.open(input.sources, input.limits);
    if (index.size !== input.documents)
      throw new UserInputError(
        `the import's inputs changed while it ran (${input.documents} documents, then ${index.size}); run it again`,
      );
    const claims = new Int32Array(input.claims);
    const chunks = Math.ceil(index.size / input.chunk);
    for (let k = Atomics.add(claims, 0, 1); k < chunks; k = Atomics.add(claims, 0, 1)) {
      const wire = toWire(await decodeChunk(index, k, input.chunk));
      post({ chunk: k, wire }, [wire.ints.buffer as ArrayBuffer]);
      inFlight++;
      while (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((r) => (wake = r));
    }
    post({ done: true });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    post({ error: { name: e.name, message: e.message } });
  } finally {
    index?.close();
  }
}
