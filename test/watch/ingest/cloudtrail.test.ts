import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, pendingEvents } from '../../../src/store/index.js';
import {
  directoryLocation,
  IngestQueue,
  parseCloudTrailFile,
  pollCloudTrail,
} from '../../../src/watch/ingest/index.js';

const FIX = new URL('../../fixtures/watch-ingest/cloudtrail/', import.meta.url);
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'palisade-ct-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const fixtures = readdirSync(FIX)
  .filter((f) => f.endsWith('.json'))
  .sort();
const records = (f: string) =>
  JSON.parse(readFileSync(new URL(f, FIX), 'utf8')).Records as { eventID: string; eventTime: string }[];

describe('CloudTrail log files from a directory', () => {
  it('reads every Stratus Red Team file (gzip, S3 layout), remembers them across a restart, picks up new ones', async () => {
    const logs = join(tmp, 'logs');
    // S3 delivery layout: AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz
    fixtures.forEach((f, i) => {
      const d = join(
        logs,
        'AWSLogs',
        '111122223333',
        'CloudTrail',
        'us-east-1',
        '2026',
        '03',
        String(1 + (i % 28)).padStart(2, '0'),
      );
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, f.replace(/\.json$/, '.json.gz')), gzipSync(readFileSync(new URL(f, FIX))));
    });
    const total = fixtures.reduce((n, f) => n + records(f).length, 0);
    const uniqueIds = new Set(fixtures.flatMap((f) => records(f).map((r) => r.eventID)));
    expect(fixtures).toHaveLength(35);
    expect(total).toBe(310);

    const url = `sqlite:${join(tmp, 'ct.db')}`;
    let store = await openStore({ url });
    let queue = new IngestQueue({ store });
    const first = await pollCloudTrail(store, queue, directoryLocation(logs));
    expect(first).toEqual({ files: 35, events: 310, errors: [] });
    const rows = await pendingEvents(store, 10_000);
    expect(rows).toHaveLength(uniqueIds.size);
    expect(new Set(rows.map((r) => r.eventId))).toEqual(new Set([...uniqueIds].map((id) => `cloudtrail:${id}`)));
    const sample = rows[0]!;
    expect(sample.time).toBe(Date.parse(JSON.parse(sample.raw).eventTime));
    expect(await pollCloudTrail(store, queue, directoryLocation(logs))).toEqual({ files: 0, events: 0, errors: [] });
    await queue.close();
    await store.close();

    // Restart: nothing re-read; one new file and one broken file are picked up.
    store = await openStore({ url });
    queue = new IngestQueue({ store });
    const d = join(logs, 'AWSLogs', '111122223333', 'CloudTrail', 'eu-west-1', '2026', '04', '01');
    mkdirSync(d, { recursive: true });
    const extra = {
      Records: [{ eventID: 'new-event-1', eventTime: '2026-04-01T00:00:00Z', eventName: 'ConsoleLogin' }],
    };
    writeFileSync(join(d, 'new.json.gz'), gzipSync(JSON.stringify(extra)));
    writeFileSync(join(d, 'broken.json.gz'), Buffer.from('not gzip'));
    copyFileSync(join(d, 'new.json.gz'), join(d, 'ignored.txt'));
    const second = await pollCloudTrail(store, queue, directoryLocation(logs));
    expect(second.files).toBe(2);
    expect(second.events).toBe(1);
    expect(second.errors.map((e) => e.item)).toEqual([
      join('AWSLogs', '111122223333', 'CloudTrail', 'eu-west-1', '2026', '04', '01', 'broken.json.gz'),
    ]);
    expect(await pendingEvents(store, 10_000)).toHaveLength(uniqueIds.size + 1);
    await queue.close();
    await store.close();
  });

  it.each([
    ['not JSON', gzipSync('{"Records": ['), /not valid JSON/],
    ['no Records array', gzipSync('{"records": []}'), /expected \{"Records"/],
    ['a decompression bomb', gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20)), /decompresses beyond/],
  ])('refuses %s with a clear error', (_n, bytes, msg) => {
    expect(() => parseCloudTrailFile(bytes, 0, 'f.json.gz', 1024 * 1024)).toThrow(msg);
  });
});
