import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { LimitExceededError, UserInputError } from '../../core/errors.js';
import { markItemRead, readItems, type Store } from '../../store/index.js';
import { type IngestQueue, QueueFullError } from './queue.js';
import { contentId, eventTime, type IngestEvent, isRecord, nativeId } from './types.js';

/** CloudTrail log files are ≤ a few MB gzip; this bounds a hostile one (and its decompression ratio). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;
const MAX_JSON_BYTES = 512 * 1024 * 1024;
const NAME = /\.json(\.gz)?$/;

/** Parses one CloudTrail log file as S3 delivers it: gzip (or plain) JSON `{"Records":[…]}`. */
export function parseCloudTrailFile(
  bytes: Buffer,
  receivedAt: number,
  name: string,
  maxJsonBytes = MAX_JSON_BYTES,
): IngestEvent[] {
  let text: string;
  try {
    const gz = bytes[0] === 0x1f && bytes[1] === 0x8b;
    text = (gz ? gunzipSync(bytes, { maxOutputLength: maxJsonBytes }) : bytes).toString('utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      throw new LimitExceededError(`${name}: decompresses beyond ${maxJsonBytes} bytes`);
    throw new UserInputError(`${name}: not a gzip file: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new UserInputError(`${name}: not valid JSON`);
  }
  if (!isRecord(doc) || !Array.isArray(doc.Records)) throw new UserInputError(`${name}: expected {"Records":[…]}`);
  return doc.Records.filter(isRecord).map((r) => ({
    id:
      typeof r.eventID === 'string' && r.eventID
        ? nativeId('cloudtrail', r.eventID)
        : contentId('cloudtrail', JSON.stringify(r)),
    source: 'cloudtrail',
    time: eventTime(r, ['eventTime'], receivedAt),
    receivedAt,
    data: r,
  }));
}

/** Where log files come from: a directory tree or an S3 prefix. */
export interface CloudTrailLocation {
  /** Cursor namespace in the store. */
  readonly key: string;
  list(): Promise<{ item: string; version: string }[]>;
  read(item: string): Promise<Buffer>;
}

export function directoryLocation(dir: string): CloudTrailLocation {
  const walk = async (d: string, out: { item: string; version: string }[]) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p, out);
      else if (e.isFile() && NAME.test(e.name)) {
        const s = await stat(p);
        out.push({ item: relative(dir, p), version: `${s.size}` });
      }
    }
    return out;
  };
  return {
    key: `cloudtrail:dir:${dir}`,
    list: async () => (await walk(dir, [])).sort((a, b) => a.item.localeCompare(b.item)),
    async read(item) {
      const p = join(dir, item);
      if ((await stat(p)).size > MAX_FILE_BYTES)
        throw new LimitExceededError(`${item}: larger than ${MAX_FILE_BYTES} bytes`);
      return readFile(p);
    },
  };
}

/** S3 bucket/prefix (AWS SDK v3: ListObjectsV2 pages, GetObject). Credentials from the SDK's default chain. */
export function s3Location(bucket: string, prefix: string, config: S3ClientConfig = {}): CloudTrailLocation {
  const client = new S3Client(config);
  return {
    key: `cloudtrail:s3:${bucket}/${prefix}`,
    async list() {
      const out: { item: string; version: string }[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) {
          if (o.Key && NAME.test(o.Key)) out.push({ item: o.Key, version: o.ETag ?? String(o.Size ?? '') });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return out;
    },
    async read(item) {
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: item }));
      if ((res.ContentLength ?? 0) > MAX_FILE_BYTES)
        throw new LimitExceededError(`${item}: larger than ${MAX_FILE_BYTES} bytes`);
      const bytes = await res.Body?.transformToByteArray();
      if (!bytes) throw new UserInputError(`${item}: empty object`);
      return Buffer.from(bytes);
    },
  };
}

export interface CloudTrailPollResult {
  files: number;
  events: number;
  /** Files that could not be parsed (recorded as read so they do not block the rest; reported). */
  errors: { item: string; message: string }[];
}

/**
 * Reads every file not read before (or changed since), offers its records to the queue, and records the file as
 * read only after its events are committed, so a crash re-reads at most the files in flight (their events dedupe
 * by eventID).
 */
export async function pollCloudTrail(
  store: Store,
  queue: IngestQueue,
  location: CloudTrailLocation,
  now: () => number = Date.now,
): Promise<CloudTrailPollResult> {
  const seen = await readItems(store, location.key);
  const result: CloudTrailPollResult = { files: 0, events: 0, errors: [] };
  for (const { item, version } of await location.list()) {
    if (seen.get(item) === version) continue;
    try {
      const events = parseCloudTrailFile(await location.read(item), now(), item);
      for (let i = 0; i < events.length; i += 1000) {
        await offerWhenRoom(queue, events.slice(i, i + 1000));
      }
      result.events += events.length;
    } catch (err) {
      if (!(err instanceof UserInputError)) throw err;
      result.errors.push({ item, message: err.message });
    }
    await markItemRead(store, location.key, item, version, now());
    result.files++;
  }
  return result;
}

async function offerWhenRoom(queue: IngestQueue, events: IngestEvent[]): Promise<void> {
  for (;;) {
    try {
      await queue.offer(events);
      return;
    } catch (err) {
      if (!(err instanceof QueueFullError)) throw err;
      await new Promise((r) => queue.once('drain', r));
    }
  }
}
