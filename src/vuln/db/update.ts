import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { IntegrityError, LimitExceededError, UnavailableError, UserInputError } from '../../core/errors.js';
import { defaultWorkers, type ImportReport, Ingest } from './import.js';
import { DEFAULT_LIMITS, type Limits } from './inputs.js';
import { openChecked } from './schema.js';
import { DbWriter, tempPathFor } from './writer.js';

/**
 * `palisade db update`: fetches `<mirror>/<ecosystem>/all.zip` for each ecosystem with the
 * validators (ETag, Last-Modified) stored from the last fetch, verifies what came (HTTP length,
 * zip structure and CRCs, the `all.zip.sha256` sidecar when the mirror publishes one), and swaps
 * a new DB generation in atomically. Any failure leaves the current DB as it was.
 */

export interface UpdateOptions {
  /** Base URL of an OSV mirror (http or https) laid out like OSV's bucket: `<mirror>/<ecosystem>/all.zip`. */
  mirror: string;
  /** Ecosystems to fetch; empty = the ones fetched before. */
  ecosystems: readonly string[];
  limits?: Limits;
  /** Largest download accepted per ecosystem. */
  maxDownloadBytes?: number;
  timeoutMs?: number;
  onWarning?: (message: string) => void;
}

export interface EcosystemUpdate {
  ecosystem: string;
  status: 'updated' | 'not-modified';
  bytes: number;
  sha256Verified: boolean;
}

export interface UpdateReport {
  ecosystems: EcosystemUpdate[];
  /** The import of the fetched zips; absent when every ecosystem answered 304. */
  import?: ImportReport;
}

const DEFAULT_MAX_DOWNLOAD = 8 * 1024 * 1024 * 1024;

/** The mirror URL without credentials, for messages (secrets are never logged). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '<invalid URL>';
  }
}

function ecosystemUrl(mirror: string, ecosystem: string, file: string): string {
  let base: URL;
  try {
    base = new URL(mirror.endsWith('/') ? mirror : `${mirror}/`);
  } catch {
    throw new UserInputError(`--mirror is not a URL: ${JSON.stringify(mirror)}`);
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:')
    throw new UserInputError(`--mirror must be an http(s) URL, got ${base.protocol}`);
  return new URL(`${encodeURIComponent(ecosystem)}/${file}`, base).toString();
}

export async function updateDb(target: string, opts: UpdateOptions): Promise<UpdateReport> {
  const previous = readValidators(target);
  // Without --ecosystem, refresh what was fetched before.
  const ecosystems = opts.ecosystems.length ? opts.ecosystems : [...(previous?.keys() ?? [])];
  if (ecosystems.length === 0) throw new UserInputError('no ecosystem to update: pass --ecosystem LIST');
  const fetched: Array<{
    ecosystem: string;
    zip: string;
    bytes: number;
    etag: string | null;
    lastModified: string | null;
  }> = [];
  const report: UpdateReport = { ecosystems: [] };
  try {
    for (const ecosystem of ecosystems) {
      const got = await fetchZip(target, ecosystem, opts, previous?.get(ecosystem));
      if (got.status === 'not-modified') {
        report.ecosystems.push({ ecosystem, status: 'not-modified', bytes: 0, sha256Verified: false });
        continue;
      }
      fetched.push({ ecosystem, zip: got.zip, bytes: got.bytes, etag: got.etag, lastModified: got.lastModified });
      report.ecosystems.push({ ecosystem, status: 'updated', bytes: got.bytes, sha256Verified: got.sha256Verified });
    }
    if (fetched.length === 0) {
      await markChecked(target);
      return report;
    }
    // A DB we cannot extend (none yet, damaged, older schema) is rebuilt from what was fetched.
    const writer = await DbWriter.open(target, { fresh: previous === null });
    const ingest = new Ingest(writer, opts.onWarning);
    try {
      for (const f of fetched) {
        await ingest.decode([{ kind: 'zip', path: f.zip }], opts.limits ?? DEFAULT_LIMITS, {
          workers: defaultWorkers(f.bytes),
        });
        writer.setMeta(`etag:${f.ecosystem}`, f.etag ?? '');
        writer.setMeta(`last_modified:${f.ecosystem}`, f.lastModified ?? '');
      }
      ingest.finish();
      writer.setMeta('checked_at', new Date().toISOString());
      await writer.commit();
    } catch (err) {
      await writer.abort();
      throw err;
    }
    report.import = { ...ingest.report };
    return report;
  } finally {
    await Promise.all(fetched.map((f) => rm(f.zip, { force: true })));
  }
}

/** ETag / Last-Modified per ecosystem from the current DB; null when there is no usable DB. */
function readValidators(target: string): Map<string, { etag: string; lastModified: string }> | null {
  if (!existsSync(target)) return null;
  let opened: ReturnType<typeof openChecked>;
  try {
    opened = openChecked(target, true);
  } catch {
    return null;
  }
  opened.db.close();
  const out = new Map<string, { etag: string; lastModified: string }>();
  for (const [key, value] of opened.meta) {
    const m = /^(etag|last_modified):(.+)$/.exec(key);
    if (!m) continue;
    const cur = out.get(m[2]!) ?? { etag: '', lastModified: '' };
    if (m[1] === 'etag') cur.etag = value;
    else cur.lastModified = value;
    out.set(m[2]!, cur);
  }
  return out;
}

/**
 * Every ecosystem answered 304: the data is current, so the check time is recorded and the DB's
 * age restarts. In place (one row, one SQLite transaction) when no reader holds the file; else as
 * a new generation swapped in by rename, like any import.
 */
async function markChecked(target: string): Promise<void> {
  const { db } = openChecked(target, false);
  try {
    db.pragma('busy_timeout = 1000');
    db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ).run('checked_at', new Date().toISOString());
    return;
  } catch (err) {
    if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
  } finally {
    db.close();
  }
  const writer = await DbWriter.open(target);
  try {
    writer.setMeta('checked_at', new Date().toISOString());
    await writer.commit();
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

type Fetched =
  | { status: 'not-modified' }
  | {
      status: 'updated';
      zip: string;
      bytes: number;
      etag: string | null;
      lastModified: string | null;
      sha256Verified: boolean;
    };

async function fetchZip(
  target: string,
  ecosystem: string,
  opts: UpdateOptions,
  validators: { etag: string; lastModified: string } | undefined,
): Promise<Fetched> {
  const url = ecosystemUrl(opts.mirror, ecosystem, 'all.zip');
  const shown = redactUrl(url);
  const headers: Record<string, string> = {};
  if (validators?.etag) headers['if-none-match'] = validators.etag;
  if (validators?.lastModified) headers['if-modified-since'] = validators.lastModified;
  const res = await get(url, shown, headers, opts.timeoutMs);
  if (res.status === 304) {
    await res.body?.cancel();
    return { status: 'not-modified' };
  }
  if (res.status === 404) {
    await res.body?.cancel();
    throw new UserInputError(`the mirror has no ecosystem "${ecosystem}" (404 for ${shown})`);
  }
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel();
    throw new UnavailableError(`mirror answered HTTP ${res.status} for ${shown}`);
  }
  const max = opts.maxDownloadBytes ?? DEFAULT_MAX_DOWNLOAD;
  const declared = res.headers.get('content-length');
  if (declared !== null && Number(declared) > max)
    throw new LimitExceededError(`${shown} is ${declared} bytes (limit ${max})`);

  const zip = `${tempPathFor(target)}.zip`;
  const hash = createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      if (bytes > max) return cb(new LimitExceededError(`${shown} is larger than ${max} bytes`));
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream), meter, createWriteStream(zip, { flags: 'wx' }));
  } catch (err) {
    await rm(zip, { force: true });
    if (err instanceof UserInputError) throw err;
    throw new UnavailableError(`download of ${shown} failed (${(err as Error).message})`);
  }
  try {
    if (declared !== null && Number(declared) !== bytes)
      throw new IntegrityError(`${shown}: got ${bytes} of ${declared} bytes (truncated download)`);
    const sha256Verified = await checkSidecar(url, shown, hash.digest('hex'), opts.timeoutMs);
    return {
      status: 'updated',
      zip,
      bytes,
      etag: res.headers.get('etag'),
      lastModified: res.headers.get('last-modified'),
      sha256Verified,
    };
  } catch (err) {
    await rm(zip, { force: true });
    throw err;
  }
}

/** `all.zip.sha256` beside the zip, when the mirror has one: its first hex word must equal what arrived. */
async function checkSidecar(url: string, shown: string, actual: string, timeoutMs?: number): Promise<boolean> {
  const res = await get(`${url}.sha256`, `${shown}.sha256`, {}, timeoutMs);
  if (res.status === 404) {
    await res.body?.cancel();
    return false;
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new UnavailableError(`mirror answered HTTP ${res.status} for ${shown}.sha256`);
  }
  const text = (await res.text()).slice(0, 4096);
  const want = /^\s*([0-9a-fA-F]{64})\b/.exec(text)?.[1]?.toLowerCase();
  if (!want) throw new IntegrityError(`${shown}.sha256 holds no sha256`);
  if (want !== actual) throw new IntegrityError(`${shown}: sha256 ${actual} does not match the mirror's ${want}`);
  return true;
}

async function get(
  url: string,
  shown: string,
  headers: Record<string, string>,
  timeoutMs = 300_000,
): Promise<Response> {
  // fetch refuses URLs with credentials: they travel as Basic auth instead (and never into messages).
  const u = new URL(url);
  const sent = { ...headers };
  if (u.username || u.password) {
    const pair = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
    sent.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
    u.username = '';
    u.password = '';
  }
  try {
    return await fetch(u, { headers: sent, redirect: 'follow', signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new UnavailableError(`cannot reach ${shown} (${cause?.code ?? cause?.message ?? (err as Error).message})`);
  }
}
