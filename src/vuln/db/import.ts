import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { type DecodeEvent, Decoder, decodeInWorker } from './decode.js';
import { DEFAULT_LIMITS, type Doc, documents, type Limits } from './inputs.js';
import { DbWriter } from './writer.js';

/** What an import did, for the end-of-run report. Skipped records are never silent: each has a warning. */
export interface ImportReport {
  documents: number;
  inserted: number;
  replaced: number;
  /** Already stored with the same or a newer `modified` (re-imports are no-ops). */
  unchanged: number;
  withdrawn: number;
  skipped: number;
  /** Records converted from other formats (Alpine secdb, nodejs security-wg). */
  converted: { alpineSecdb: number; nodejsWg: number };
  /** Total records in the DB afterwards. */
  records: number;
  seconds: number;
  warningCount: number;
  /** The first warnings (the count above is complete). */
  warnings: string[];
}

export interface ImportOptions {
  /** Build a new DB instead of adding to the current one. */
  fresh?: boolean;
  limits?: Limits;
  /** Called for every warning as it happens (the CLI prints them). */
  onWarning?: (message: string) => void;
  /**
   * Decode on a worker thread (true) or on this one (false). By default a worker is used for a
   * directory or more than THREAD_BYTES of files; it costs a start-up that small inputs do not repay.
   */
  thread?: boolean;
}

const THREAD_BYTES = 8 * 1024 * 1024;

async function worthAThread(inputs: readonly string[]): Promise<boolean> {
  let bytes = 0;
  for (const input of inputs) {
    const st = await stat(input).catch(() => null);
    if (!st) return false; // reported by documents(), on this thread
    if (st.isDirectory()) return true;
    bytes += st.size;
  }
  return bytes >= THREAD_BYTES;
}

const KEPT_WARNINGS = 1000;

export function emptyReport(): ImportReport {
  return {
    documents: 0,
    inserted: 0,
    replaced: 0,
    unchanged: 0,
    withdrawn: 0,
    skipped: 0,
    converted: { alpineSecdb: 0, nodejsWg: 0 },
    records: 0,
    seconds: 0,
    warningCount: 0,
    warnings: [],
  };
}

/**
 * Imports OSV JSON files, directories and `all.zip` files (plus Alpine secdb and nodejs
 * security-wg documents, converted) into the DB at `target`, as one new generation: either all
 * of it lands (atomic rename) or none of it does.
 */
export async function importInputs(
  target: string,
  inputs: readonly string[],
  opts: ImportOptions = {},
): Promise<ImportReport> {
  const started = performance.now();
  const writer = await DbWriter.open(target, { fresh: opts.fresh });
  const ingest = new Ingest(writer, opts.onWarning);
  try {
    const limits = opts.limits ?? DEFAULT_LIMITS;
    if (opts.thread ?? (await worthAThread(inputs))) {
      // Reading, inflating, parsing and checking run on a second thread while this one writes.
      await decodeInWorker(inputs, limits, (events) => {
        for (const e of events) ingest.apply(e);
      });
    } else {
      await ingest.all(documents(inputs, limits));
      ingest.finish();
    }
    await writer.commit();
  } catch (err) {
    await writer.abort();
    throw err;
  }
  ingest.report.records = await countRecords(target);
  ingest.report.seconds = (performance.now() - started) / 1000;
  return ingest.report;
}

async function countRecords(target: string): Promise<number> {
  const { openVulnDb } = await import('./read.js');
  const db = openVulnDb(target);
  try {
    return db.status().records;
  } finally {
    db.close();
  }
}

/** Applies decoded documents to the writer, counting as it goes. */
export class Ingest {
  readonly report = emptyReport();
  private readonly decoder = new Decoder((e) => this.apply(e));

  constructor(
    private readonly writer: DbWriter,
    private readonly onWarning?: (message: string) => void,
  ) {}

  /** Decodes on this thread. */
  async all(docs: AsyncIterable<Doc>): Promise<void> {
    for await (const doc of docs) this.decoder.doc(doc);
  }

  finish(): void {
    this.decoder.finish();
  }

  apply(e: DecodeEvent): void {
    switch (e.kind) {
      case 'document':
        this.report.documents++;
        break;
      case 'put':
        this.report[this.writer.putPrepared(e.record, e.merge)]++;
        break;
      case 'skip':
        this.report.skipped++;
        this.warn(e.message);
        break;
      case 'warn':
        this.warn(e.message);
        break;
      case 'converted':
        this.report.converted[e.format] += e.count;
        break;
    }
  }

  private warn(message: string): void {
    this.report.warningCount++;
    if (this.report.warnings.length < KEPT_WARNINGS) this.report.warnings.push(message);
    this.onWarning?.(message);
  }
}
