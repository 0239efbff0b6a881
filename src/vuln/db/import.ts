import { performance } from 'node:perf_hooks';
import { looksLikeSecdb, SecdbConverter } from './alpine-secdb.js';
import { DEFAULT_LIMITS, type Doc, documents, type Limits } from './inputs.js';
import { convertNodejsWg, looksLikeNodejsWg } from './nodejs-wg.js';
import { checkOsv, looksLikeOsv } from './osv.js';
import { DbWriter, type PutResult } from './writer.js';

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
    await ingest.all(documents(inputs, opts.limits ?? DEFAULT_LIMITS));
    ingest.finish();
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

/** Routes each document to the right converter and into the writer, counting as it goes. */
export class Ingest {
  readonly report = emptyReport();
  private readonly secdb = new SecdbConverter();
  private readonly startedAt = new Date().toISOString();

  constructor(
    private readonly writer: DbWriter,
    private readonly onWarning?: (message: string) => void,
  ) {}

  async all(docs: AsyncIterable<Doc>): Promise<void> {
    for await (const doc of docs) this.doc(doc);
  }

  doc(doc: Doc): void {
    this.report.documents++;
    if ('error' in doc) {
      this.skip(`${doc.where}: ${doc.error}`);
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
      for (const w of this.secdb.add(data as Record<string, unknown>, where)) this.warn(w);
      return;
    }
    if (looksLikeNodejsWg(data)) {
      const c = convertNodejsWg(data as Record<string, unknown>);
      if (!c.ok) {
        this.skip(`${where}: nodejs security-wg record skipped: ${c.reason}`);
        return;
      }
      this.report.converted.nodejsWg++;
      this.count(this.writer.put(c.record, 'nodejs-wg'));
      return;
    }
    const checked = checkOsv(data);
    if (!checked.ok) {
      const id = (data as { id?: unknown } | null)?.id;
      const named = typeof id === 'string' ? ` (${id.slice(0, 80)})` : '';
      this.skip(`${where}${named}: not a valid OSV record: ${checked.reason}`);
      return;
    }
    this.count(this.writer.put(checked.record, 'osv'));
  }

  /** Emits what was collected across documents (secdb records span files). */
  finish(): void {
    const recs = this.secdb.records(this.startedAt);
    this.report.converted.alpineSecdb += recs.length;
    for (const r of recs) this.count(this.writer.put(r, 'alpine-secdb', true));
  }

  private count(r: PutResult): void {
    this.report[r]++;
  }

  private skip(message: string): void {
    this.report.skipped++;
    this.warn(message);
  }

  private warn(message: string): void {
    this.report.warningCount++;
    if (this.report.warnings.length < KEPT_WARNINGS) this.report.warnings.push(message);
    this.onWarning?.(message);
  }
}
