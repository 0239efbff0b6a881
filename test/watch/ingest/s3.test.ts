import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvents, openStore, pendingEvents } from '../../../src/store/index.js';
import { IngestQueue, pollCloudTrail, s3Location } from '../../../src/watch/ingest/index.js';
import { LakeWriter, s3Lake, sweepRetention } from '../../../src/watch/lake/index.js';

/**
 * S3 paths against a loopback S3 implementation (s3rver: the S3 REST API over a local directory). The AWS SDK
 * v3 client speaks real S3 requests to it (ListObjectsV2, GetObject, PutObject, DeleteObject).
 */
const FIX = new URL('../../fixtures/watch-ingest/cloudtrail/', import.meta.url);
let tmp: string;
let server: S3rver;
let endpoint: string;
const config = () => ({
  endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
});

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'palisade-s3-'));
  server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: join(tmp, 's3') });
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
  const c = new S3Client(config());
  await c.send(new CreateBucketCommand({ Bucket: 'trail' }));
  await c.send(new CreateBucketCommand({ Bucket: 'lake' }));
  c.destroy();
});
afterAll(async () => {
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('S3 on loopback', () => {
  it('CloudTrail: every object under the prefix is read once, changed objects again', async () => {
    const c = new S3Client(config());
    const files = readdirSync(FIX)
      .filter((f) => f.endsWith('.json'))
      .sort();
    for (const f of files) {
      await c.send(
        new PutObjectCommand({
          Bucket: 'trail',
          Key: `AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/${f}.gz`,
          Body: gzipSync(readFileSync(new URL(f, FIX))),
        }),
      );
    }
    await c.send(
      new PutObjectCommand({
        Bucket: 'trail',
        Key: 'other/ignored.json.gz',
        Body: gzipSync('{"Records":[{"eventID":"x"}]}'),
      }),
    );
    const store = await openStore({ url: `sqlite:${join(tmp, 'ct.db')}` });
    const queue = new IngestQueue({ store });
    // One ListObjectsV2 page: s3rver fails on continuation tokens, so pagination is not exercised here.
    const loc = s3Location('trail', 'AWSLogs/', config());
    expect(await pollCloudTrail(store, queue, loc)).toEqual({ files: 35, events: 310, errors: [] });
    expect(await pollCloudTrail(store, queue, loc)).toEqual({ files: 0, events: 0, errors: [] });
    const unique = new Set(
      files.flatMap((f) =>
        JSON.parse(readFileSync(new URL(f, FIX), 'utf8')).Records.map((r: { eventID: string }) => r.eventID),
      ),
    );
    expect((await pendingEvents(store, 10_000)).length).toBe(unique.size);
    // Rewriting an object changes its ETag: it is read again (its records dedupe by eventID, plus the new one).
    const key = `AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/${files[0]}.gz`;
    const doc = JSON.parse(readFileSync(new URL(files[0]!, FIX), 'utf8'));
    doc.Records.push({ eventID: 'appended-1', eventTime: '2026-03-01T00:00:00Z' });
    await c.send(new PutObjectCommand({ Bucket: 'trail', Key: key, Body: gzipSync(JSON.stringify(doc)) }));
    const again = await pollCloudTrail(store, queue, loc);
    expect(again.files).toBe(1);
    expect((await pendingEvents(store, 10_000)).length).toBe(unique.size + 1);
    await queue.close();
    await store.close();
    c.destroy();
  });

  it('lake: files land under the prefix in the hive layout, readable back; the sweep deletes expired ones', async () => {
    const store = await openStore({ url: `sqlite:${join(tmp, 'lake.db')}` });
    const backend = s3Lake('lake', 'palisade/lake', config());
    const old = Date.UTC(2024, 0, 1, 5);
    const recent = Date.UTC(2026, 2, 1, 7);
    await appendEvents(store, [
      { eventId: 'a', source: 'syslog', time: old, receivedAt: old, raw: '{"m":"old"}' },
      { eventId: 'b', source: 'syslog', time: recent, receivedAt: recent, raw: '{"m":"new"}' },
    ]);
    await new LakeWriter({ store, backend }).flush();
    const keys: string[] = [];
    for await (const o of backend.list()) keys.push(o.key);
    expect(keys).toEqual([
      'source=syslog/dt=2024-01-01/hour=05/part-000000000001-1.ndjson.gz',
      'source=syslog/dt=2026-03-01/hour=07/part-000000000002-1.ndjson.gz',
    ]);
    const c = new S3Client(config());
    const obj = await c.send(new GetObjectCommand({ Bucket: 'lake', Key: `palisade/lake/${keys[1]}` }));
    const line = JSON.parse(gunzipSync(Buffer.from(await obj.Body!.transformToByteArray())).toString('utf8'));
    expect(line).toEqual({
      id: 'b',
      time: '2026-03-01T07:00:00.000Z',
      received_at: '2026-03-01T07:00:00.000Z',
      event: { m: 'new' },
    });
    const swept = await sweepRetention(backend, { retentionDays: 365, hotDays: 90 }, Date.UTC(2026, 2, 2));
    expect(swept.deleted).toEqual([keys[0]]);
    const left: string[] = [];
    for await (const o of backend.list()) left.push(o.key);
    expect(left).toEqual([keys[1]]);
    c.destroy();
    await store.close();
  });
});
