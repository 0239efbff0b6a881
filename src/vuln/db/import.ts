import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { SecdbConverter } from './alpine-secdb.js';
import { type DecodeEvent, decodeShared } from './decode.js';
import { DEFAULT_LIMITS, type Limits, type Source, sourcesOf } from './inputs.js';
import { prepareRecord } from './rows.js';
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
  /** Called as documents are written, then once when the indexes are being built (the CLI shows it). */
  onProgress?: (p: ImportProgress) => void;
  /**
   * Worker threads that decode beside the writing thread (decode.ts); 0 decodes on the writing
   * thread alone. By default `defaultWorkers()`.
   */
  workers?: number;
  /** Documents per chunk that the decoding threads claim (decode.ts); tests make it small. */
  chunk?: number;
  /** False leaves all decoding to the workers; tests use it to send every chunk through them. */
  writerDecodes?: boolean;
}

export interface ImportProgress {
  stage: 'documents' | 'indexes';
  documents: number;
  total: number;
}

/** Below this many bytes of input a worker costs more to start than it saves. */
const WORKER_BYTES = 8 * 1024 * 1024;
/**
 * Beyond this the writer is the bottleneck: writing a record costs about half what decoding it
 * does, and the writing thread decodes whatever time it has left.
 */
const MAX_WORKERS = 3;

/** Worker threads for an import of `bytes`: one per core beside the writing thread's, up to MAX_WORKERS. */
export function defaultWorkers(bytes: number): number {
  return bytes >= WORKER_BYTES ? Math.max(0, Math.min(MAX_WORKERS, availableParallelism() - 1)) : 0;
}

/** The bytes an import reads, as far as worth knowing: a directory counts as large. */
async function inputBytes(inputs: readonly string[]): Promise<number> {
  let bytes = 0;
  for (const input of inputs) {
    const st = await stat(input).catch(() => null);
    if (st?.isDirectory()) return Number.POSITIVE_INFINITY;
    bytes += st?.size ?? 0;
  }
  return bytes;
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
  const sources = await sourcesOf(inputs);
  const workers = opts.workers ?? defaultWorkers(await inputBytes(inputs));
  const writer = await DbWriter.open(target, { fresh: opts.fresh });
  const ingest = new Ingest(writer, opts.onWarning);
  try {
    let total = 0;
    await ingest.decode(sources, opts.limits ?? DEFAULT_LIMITS, {
      workers,
      chunk: opts.chunk,
      writerDecodes: opts.writerDecodes,
      progress: (documents, all) => {
        total = all;
        opts.onProgress?.({ stage: 'documents', documents, total });
      },
    });
    ingest.finish();
    opts.onProgress?.({ stage: 'indexes', documents: total, total });
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
  /** Alpine secdb documents, collected across the whole import (advisories span files). */
  private readonly secdb = new SecdbConverter();
  private readonly startedAt = new Date().toISOString();

  constructor(
    private readonly writer: DbWriter,
    private readonly onWarning?: (message: string) => void,
  ) {}

  /** Decodes `sources` and applies them, with worker threads decoding beside this one. */
  async decode(sources: readonly Source[], limits: Limits, share: Parameters<typeof decodeShared>[2]): Promise<void> {
    await decodeShared(sources, limits, share, (events) => {
      for (const e of events) this.apply(e);
    });
  }

  /** Writes what was collected across documents: the converted secdb records. */
  finish(): void {
    const records = this.secdb.records(this.startedAt);
    this.report.converted.alpineSecdb += records.length;
    for (const r of records) this.apply({ kind: 'put', record: prepareRecord(r, 'alpine-secdb'), merge: true });
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
      case 'secdb':
        for (const w of this.secdb.add(e.data, e.where)) this.warn(w);
        break;
    }
  }

  private warn(message: string): void {
    this.report.warningCount++;
    if (this.report.warnings.length < KEPT_WARNINGS) this.report.warnings.push(message);
    this.onWarning?.(message);
  }
}
