import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendEvents,
  countPendingEvents,
  lakeFilesInState,
  openStore,
  type StoredEventInput,
} from '../../../src/store/index.js';
import {
  checkRetention,
  LakeWriter,
  localLake,
  partitionOf,
  queryLake,
  sweepRetention,
} from '../../../src/watch/lake/index.js';

let tmp: string;
let n = 0;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'palisade-lake-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const H = 3_600_000;
const T0 = Date.UTC(2026, 2, 1, 10, 30);
const ev = (i: number, source = 'cloudtrail', time = T0 + i * 1000): StoredEventInput => ({
  eventId: `${source}:e${i}`,
  source,
  time,
  receivedAt: T0 + 5 * H,
  raw: JSON.stringify({
    eventName: i % 2 ? 'ConsoleLogin' : 'GetObject',
    n: i,
    sourceIPAddress: `198.51.100.${i % 7}`,
  }),
});

/** Every line in every lake file, by file. */
function readLake(dir: string): Map<string, Record<string, unknown>[]> {
  const out = new Map<string, Record<string, unknown>[]>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else
        out.set(
          p.slice(dir.length + 1),
          gunzipSync(readFileSync(p))
            .toString('utf8')
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l)),
        );
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

async function setup(opts: Partial<ConstructorParameters<typeof LakeWriter>[0]> = {}) {
  const dir = join(tmp, `lake${++n}`);
  const store = await openStore({ url: `sqlite:${join(tmp, `db${n}`, 's.db')}` });
  let now = T0 + 5 * H;
  const writer = new LakeWriter({ store, backend: localLake(dir), now: () => now, ...opts });
  return { dir, store, writer, advance: (ms: number) => (now += ms) };
}

describe('lake writer', () => {
  it('writes hive partitions by source and event hour; lines carry id, times and the raw event', async () => {
    const { dir, store, writer } = await setup();
    await appendEvents(store, [ev(1), ev(2, 'cloudtrail', T0 + 2 * H), ev(3, 'syslog')]);
    await writer.flush();
    const lake = readLake(dir);
    expect([...lake.keys()].sort()).toEqual([
      'source=cloudtrail/dt=2026-03-01/hour=10/part-000000000001-1.ndjson.gz',
      'source=cloudtrail/dt=2026-03-01/hour=12/part-000000000002-1.ndjson.gz',
      'source=syslog/dt=2026-03-01/hour=10/part-000000000003-1.ndjson.gz',
    ]);
    expect(lake.get('source=cloudtrail/dt=2026-03-01/hour=10/part-000000000001-1.ndjson.gz')).toEqual([
      {
        id: 'cloudtrail:e1',
        time: '2026-03-01T10:30:01.000Z',
        received_at: '2026-03-01T15:30:00.000Z',
        event: JSON.parse(ev(1).raw),
      },
    ]);
    expect(await countPendingEvents(store)).toBe(0);
    expect(await lakeFilesInState(store, 'writing')).toEqual([]);
    await store.close();
  });

  it('rotates by size: no file holds more than maxFileBytes of events', async () => {
    const { dir, store, writer } = await setup({ maxFileBytes: 2000 });
    await appendEvents(
      store,
      Array.from({ length: 100 }, (_, i) => ev(i, 'cloudtrail', T0)),
    );
    await writer.flush();
    const lake = readLake(dir);
    expect(lake.size).toBeGreaterThan(3);
    expect([...lake.values()].flat().map((l) => l.id)).toEqual(
      Array.from({ length: 100 }, (_, i) => `cloudtrail:e${i}`),
    );
    for (const lines of lake.values())
      expect(lines.map((l) => JSON.stringify(l.event).length + 100).reduce((a, b) => a + b)).toBeLessThanOrEqual(2100);
    await store.close();
  });

  it('rotates by time: small pending data waits until the oldest event is maxFileAgeMs old', async () => {
    const { dir, store, writer, advance } = await setup({ maxFileAgeMs: 60_000 });
    await store.db
      .insertInto('events')
      .values({ event_id: 'x', source: 's', time: T0, received_at: T0 + 5 * H, raw: '{}', lake_file: null })
      .execute();
    expect(await writer.step()).toBe(0);
    advance(59_000);
    expect(await writer.step()).toBe(0);
    advance(1_000);
    expect(await writer.step()).toBe(1);
    expect(readLake(dir).size).toBe(1);
    await store.close();
  });

  it('a crash between assignment and write is finished by recover() with the same content, never twice', async () => {
    const { dir, store } = await setup();
    await appendEvents(store, [ev(1), ev(2)]);
    const failing = new LakeWriter({
      store,
      backend: {
        ...localLake(dir),
        put: async () => {
          throw new Error('disk gone');
        },
      },
    });
    await expect(failing.step(true)).rejects.toThrow('disk gone');
    expect(readLake(dir).size).toBe(0);
    expect(await lakeFilesInState(store, 'writing')).toHaveLength(1);
    await appendEvents(store, [ev(3)]); // arrives after the crash
    const writer = new LakeWriter({ store, backend: localLake(dir) });
    expect(await writer.recover()).toBe(1);
    await writer.flush();
    const ids = [...readLake(dir).values()].flat().map((l) => l.id);
    expect(ids).toEqual(['cloudtrail:e1', 'cloudtrail:e2', 'cloudtrail:e3']);
    await store.close();
  });
});

describe('retention', () => {
  it('PCI DSS 10.5.1 is the floor unless explicitly overridden', () => {
    expect(checkRetention({})).toEqual({ retentionDays: 365, hotDays: 90 });
    expect(() => checkRetention({ retentionDays: 200 })).toThrow(/PCI DSS 10.5.1/);
    expect(() => checkRetention({ hotDays: 30 })).toThrow(/PCI DSS 10.5.1/);
    expect(checkRetention({ retentionDays: 30, hotDays: 7 }, true)).toEqual({ retentionDays: 30, hotDays: 7 });
    expect(() => checkRetention({ retentionDays: 400, hotDays: 500 })).toThrow(/hotDays/);
  });

  it('the sweep deletes partitions older than retentionDays, counts cold ones, removes crash temp files', async () => {
    const dir = join(tmp, 'ret');
    const now = Date.UTC(2026, 5, 15, 12);
    const day = 86_400_000;
    const files = [400, 366, 364, 100, 10].map((age) => `${partitionOf('syslog', now - age * day)}/part-1-1.ndjson.gz`);
    for (const f of [...files, 'source=syslog/dt=2026-06-15/hour=00/part-9-1.ndjson.gz.tmp-abcdef', 'README']) {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      writeFileSync(join(dir, f), 'x');
    }
    const r = await sweepRetention(localLake(dir), { retentionDays: 365, hotDays: 90 }, now);
    expect(r.deleted).toEqual(files.slice(0, 2));
    expect(r.kept).toBe(3);
    expect(r.cold).toBe(2);
    expect(r.orphans).toEqual(['source=syslog/dt=2026-06-15/hour=00/part-9-1.ndjson.gz.tmp-abcdef']);
    expect(existsSync(join(dir, files[2]!))).toBe(true);
    expect(existsSync(join(dir, files[0]!))).toBe(false);
    expect(existsSync(join(dir, 'README'))).toBe(true);
  });
});

describe('palisade query (DuckDB over the lake)', () => {
  let dir: string;
  beforeAll(async () => {
    const s = await setup({ maxFileBytes: 5000 });
    dir = s.dir;
    await appendEvents(s.store, [
      ...Array.from({ length: 200 }, (_, i) => ev(i)),
      ...Array.from({ length: 50 }, (_, i) => ev(1000 + i, 'syslog', T0 + 3 * H)),
    ]);
    await s.writer.flush();
    await s.store.close();
  });

  it('exposes the view events with hive columns and JSON access', async () => {
    const r = await queryLake(
      dir,
      `SELECT source, count(*) AS n, min(dt)::VARCHAR AS dt, count(DISTINCT hour) AS hours FROM events GROUP BY source ORDER BY source`,
    );
    expect(r.columns).toEqual(['source', 'n', 'dt', 'hours']);
    expect(r.rows).toEqual([
      { source: 'cloudtrail', n: '200', dt: '2026-03-01', hours: '1' },
      { source: 'syslog', n: '50', dt: '2026-03-01', hours: '1' },
    ]);
    const logins = await queryLake(
      dir,
      `SELECT event->>'$.sourceIPAddress' AS ip, count(*) AS n FROM events WHERE source = 'cloudtrail' AND (event->>'$.eventName') = 'ConsoleLogin' GROUP BY ip ORDER BY ip`,
    );
    const expected = new Map<string, number>();
    for (let i = 1; i < 200; i += 2)
      expected.set(`198.51.100.${i % 7}`, (expected.get(`198.51.100.${i % 7}`) ?? 0) + 1);
    expect(logins.rows).toEqual([...expected].sort().map(([ip, c]) => ({ ip, n: String(c) })));
  });

  it('cannot read files outside the lake', async () => {
    await expect(queryLake(dir, `SELECT * FROM read_csv('/etc/passwd')`)).rejects.toThrow(/query failed/);
    await expect(queryLake(dir, `COPY (SELECT 1) TO '${join(tmp, 'out.csv')}'`)).rejects.toThrow(/query failed/);
    expect(existsSync(join(tmp, 'out.csv'))).toBe(false);
    await expect(queryLake(dir, `SET enable_external_access = true`)).rejects.toThrow(/query failed/);
  });

  it('an empty lake answers with no rows; bad SQL is a clear error', async () => {
    const empty = join(tmp, 'empty-lake');
    mkdirSync(empty);
    expect((await queryLake(empty, 'SELECT count(*) AS n FROM events')).rows).toEqual([{ n: '0' }]);
    await expect(queryLake(empty, 'SELEC 1')).rejects.toThrow(/^query failed: Parser Error/);
  });
});
