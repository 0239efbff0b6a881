import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendEvents,
  assignLakeFiles,
  claimNotification,
  countPendingEvents,
  countSentSince,
  dueNotifications,
  ensureHeartbeat,
  eventsOfLakeFile,
  kvDelete,
  kvGet,
  kvList,
  kvPut,
  lakeFilesInState,
  listHeartbeats,
  listOutbox,
  markItemRead,
  markLakeFileDone,
  markNotificationFailed,
  markNotificationSent,
  markSilenceAlerted,
  openStore,
  pendingEvents,
  pruneLakedEvents,
  readItems,
  recordAlert,
  type Store,
  touchHeartbeat,
} from '../../src/store/index.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

let pg: TestPostgres;
let tmp: string;
let dbCounter = 0;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'palisade-store-'));
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const backends: [string, () => Promise<string>][] = [
  ['sqlite', async () => `sqlite:${join(tmp, `s${++dbCounter}`, 'palisade.db')}`],
  ['postgres', async () => pg.createDatabase(`t${++dbCounter}`)],
];

const ev = (id: string, source = 'syslog', time = 1_700_000_000_000) => ({
  eventId: id,
  source,
  time,
  receivedAt: time + 5,
  raw: JSON.stringify({ id, msg: `hello ${id}` }),
});

describe.each(backends)('store on %s', (_name, makeUrl) => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore({ url: await makeUrl() });
  });
  afterAll(async () => store?.close());

  it('migrations are idempotent: reopening the same database keeps its data', async () => {
    const url = await makeUrl();
    const a = await openStore({ url });
    await appendEvents(a, [ev('reopen-1')]);
    await a.close();
    const b = await openStore({ url });
    expect((await pendingEvents(b, 10)).map((e) => e.eventId)).toEqual(['reopen-1']);
    await b.close();
  });

  it('appendEvents skips an event id seen before and keeps insertion order', async () => {
    expect([...(await appendEvents(store, [ev('a'), ev('b'), ev('a')]))]).toEqual(['a', 'b']);
    expect([...(await appendEvents(store, [ev('b'), ev('c')]))]).toEqual(['c']);
    const pending = await pendingEvents(store, 10);
    expect(pending.map((e) => e.eventId)).toEqual(['a', 'b', 'c']);
    expect(pending[0]).toMatchObject({ source: 'syslog', time: 1_700_000_000_000, receivedAt: 1_700_000_000_005 });
    expect(typeof pending[0]!.seq).toBe('number');
    expect(JSON.parse(pending[2]!.raw)).toEqual({ id: 'c', msg: 'hello c' });
  });

  it('lake assignment moves events out of pending and is replayable per file', async () => {
    const pending = await pendingEvents(store, 10);
    await assignLakeFiles(store, [{ name: 'f1', seqs: pending.slice(0, 2).map((e) => e.seq) }], 1);
    expect(await countPendingEvents(store)).toBe(1);
    expect(await lakeFilesInState(store, 'writing')).toEqual(['f1']);
    expect((await eventsOfLakeFile(store, 'f1')).map((e) => e.eventId)).toEqual(['a', 'b']);
    await markLakeFileDone(store, 'f1');
    expect(await lakeFilesInState(store, 'writing')).toEqual([]);
    expect(await lakeFilesInState(store, 'done')).toEqual(['f1']);
    // Only events in finished files and older than the cut are pruned.
    expect(await pruneLakedEvents(store, Date.now())).toBe(2);
    expect(await countPendingEvents(store)).toBe(1);
  });

  it('a large batch (over one insert chunk) goes in whole', async () => {
    const many = Array.from({ length: 1234 }, (_, i) => ev(`bulk-${i}`));
    expect((await appendEvents(store, many)).size).toBe(1234);
    expect(await countPendingEvents(store)).toBe(1235);
  });

  it('recordAlert dedupes by key within the window and fans out one outbox row per channel', async () => {
    const alert = { rule: 'r1', severity: 'HIGH', title: 'T', dedupKey: 'k1', body: '{"x":1}' };
    const id = await recordAlert(store, alert, ['slack', 'mail'], 1000, 60_000);
    expect(id).toBeTypeOf('number');
    expect(await recordAlert(store, alert, ['slack', 'mail'], 30_000, 60_000)).toBeNull();
    const later = await recordAlert(store, alert, ['slack'], 1000 + 60_001, 60_000);
    expect(later).toBeTypeOf('number');
    const rows = await listOutbox(store);
    expect(rows.map((r) => [r.alertId, r.channel, r.status])).toEqual([
      [id, 'slack', 'pending'],
      [id, 'mail', 'pending'],
      [later, 'slack', 'pending'],
    ]);
  });

  it('due notifications are leased once, retried later, and end sent or dead', async () => {
    const due = await dueNotifications(store, 1000, 10);
    expect(due.map((d) => d.channel)).toEqual(['slack', 'mail']);
    expect(JSON.parse(due[0]!.alertBody)).toEqual({ x: 1 });
    expect(await claimNotification(store, due[0]!, 5000)).toBe(true);
    expect(await claimNotification(store, due[0]!, 5000)).toBe(false); // a second dispatcher loses
    await markNotificationFailed(store, due[0]!.id, 1, 'connect ECONNREFUSED', 2000);
    expect((await dueNotifications(store, 1999, 10)).map((d) => d.id)).toEqual([due[1]!.id]);
    expect((await dueNotifications(store, 2000, 10)).map((d) => d.id)).toContain(due[0]!.id);
    await markNotificationSent(store, due[0]!.id, 2, 2100);
    await markNotificationFailed(store, due[1]!.id, 8, 'HTTP 400', null);
    const rows = await listOutbox(store);
    expect(rows.slice(0, 2).map((r) => [r.status, r.attempts, r.lastError])).toEqual([
      ['sent', 2, null],
      ['dead', 8, 'HTTP 400'],
    ]);
    expect(await countSentSince(store, 'slack', 2000)).toBe(1);
    expect(await countSentSince(store, 'slack', 2101)).toBe(0);
  });

  it('ingest cursors remember items per source and update a changed version', async () => {
    await markItemRead(store, 'ct:dir', 'a.json.gz', '100', 1);
    await markItemRead(store, 'ct:dir', 'b.json.gz', '200', 1);
    await markItemRead(store, 'ct:other', 'a.json.gz', '5', 1);
    await markItemRead(store, 'ct:dir', 'a.json.gz', '101', 2);
    expect([...(await readItems(store, 'ct:dir'))]).toEqual([
      ['a.json.gz', '101'],
      ['b.json.gz', '200'],
    ]);
  });

  it('heartbeats keep the latest time, alert once per silence, and re-arm when the source speaks', async () => {
    await ensureHeartbeat(store, 'cloudtrail', 100);
    await touchHeartbeat(store, 'syslog', 500);
    await touchHeartbeat(store, 'syslog', 300); // late, out-of-order touch must not move time back
    expect(await markSilenceAlerted(store, 'cloudtrail', 1000)).toBe(true);
    expect(await markSilenceAlerted(store, 'cloudtrail', 1001)).toBe(false);
    expect(await listHeartbeats(store)).toEqual([
      { source: 'cloudtrail', lastSeenAt: 100, alertedAt: 1000 },
      { source: 'syslog', lastSeenAt: 500, alertedAt: null },
    ]);
    await touchHeartbeat(store, 'cloudtrail', 2000);
    await ensureHeartbeat(store, 'cloudtrail', 1); // existing source: no change
    expect((await listHeartbeats(store))[0]).toEqual({ source: 'cloudtrail', lastSeenAt: 2000, alertedAt: null });
  });

  it('kv state upserts, lists by namespace and deletes', async () => {
    await kvPut(store, 'corr', 'w1', '{"n":1}', 1);
    await kvPut(store, 'corr', 'w1', '{"n":2}', 2);
    await kvPut(store, 'corr', 'w0', 'x', 2);
    await kvPut(store, 'other', 'w1', 'y', 2);
    expect(await kvGet(store, 'corr', 'w1')).toBe('{"n":2}');
    expect(await kvList(store, 'corr')).toEqual([
      { key: 'w0', value: 'x' },
      { key: 'w1', value: '{"n":2}' },
    ]);
    await kvDelete(store, 'corr', 'w0');
    expect(await kvGet(store, 'corr', 'w0')).toBeUndefined();
  });
});

describe('store errors', () => {
  it('an unreachable PostgreSQL is UnavailableError without the password', async () => {
    const err = await openStore({ url: 'postgres://u:s3cretpw@127.0.0.1:1/db' }).catch((e) => e);
    expect(err.name).toBe('UnavailableError');
    expect(err.message).not.toContain('s3cretpw');
  });
});
