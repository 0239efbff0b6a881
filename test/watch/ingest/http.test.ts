import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, pendingEvents, type Store } from '../../../src/store/index.js';
import { type HttpIngest, type IngestEvent, IngestQueue, startHttpIngest } from '../../../src/watch/ingest/index.js';

const FIX = new URL('../../fixtures/watch-ingest/', import.meta.url);
const TOKEN = 'ingest-token-0123456789';

let tmp: string;
let store: Store;
let queue: IngestQueue;
let http: HttpIngest;
const sunk: IngestEvent[] = [];
let base: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'palisade-http-'));
  store = await openStore({ url: `sqlite:${join(tmp, 's.db')}` });
  queue = new IngestQueue({ store, sinks: [(evs) => void sunk.push(...evs)] });
  http = await startHttpIngest({ port: 0, tokens: [TOKEN], queue, maxBodyBytes: 64 * 1024 });
  base = `http://127.0.0.1:${http.port}`;
});
afterAll(async () => {
  await http?.close();
  await store?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: 'POST', body, headers: { authorization: `Bearer ${TOKEN}`, ...headers } });

async function stored(source: string) {
  return (await pendingEvents(store, 100_000)).filter((e) => e.source === source);
}

describe('HTTP ingest: authentication and bounds', () => {
  it.each([
    ['no credentials', {}],
    ['a wrong bearer token', { authorization: 'Bearer nope' }],
    ['a token differing in length', { authorization: `Bearer ${TOKEN}x` }],
    ['basic auth with the wrong password', { authorization: `Basic ${Buffer.from('u:bad').toString('base64')}` }],
  ])('answers 401 to %s and stores nothing', async (_n, headers) => {
    const before = (await pendingEvents(store, 100_000)).length;
    const res = await fetch(`${base}/ingest/v1/events`, { method: 'POST', body: '{"a":1}', headers });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
    expect((await pendingEvents(store, 100_000)).length).toBe(before);
  });

  it.each([
    ['Bearer', { authorization: `Bearer ${TOKEN}` }],
    ['ApiKey', { authorization: `ApiKey ${TOKEN}` }],
    ['Basic password', { authorization: `Basic ${Buffer.from(`elastic:${TOKEN}`).toString('base64')}` }],
    ['X-Api-Key', { 'x-api-key': TOKEN }],
  ])('accepts the token as %s', async (_n, headers) => {
    const res = await fetch(`${base}/ingest/v1/events?source=authcheck`, {
      method: 'POST',
      body: `{"via":"${_n}"}`,
      headers,
    });
    expect(res.status).toBe(200);
  });

  it('answers 413 to a body over the limit, declared or gzip-inflated', async () => {
    const big = `${JSON.stringify({ pad: 'x'.repeat(70 * 1024) })}\n`;
    expect((await post('/ingest/v1/events', big)).status).toBe(413);
    const bomb = gzipSync(Buffer.alloc(5 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect((await post('/ingest/v1/events', bomb, { 'content-encoding': 'gzip' })).status).toBe(413);
  });

  it('answers 400 with the line number for bad NDJSON, and stores none of that request', async () => {
    const res = await post('/ingest/v1/events?source=badjson', '{"ok":1}\n{"broken":\n');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('line 2: not valid JSON');
    expect(await stored('badjson')).toHaveLength(0);
  });

  it('answers 429 with Retry-After while the queue is full, and 200 once it drains', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const q = new IngestQueue({ store, capacity: 4, sinks: [() => gate] });
    const h = await startHttpIngest({ port: 0, tokens: [TOKEN], queue: q });
    const url = `http://127.0.0.1:${h.port}/ingest/v1/events?source=full`;
    const headers = { authorization: `Bearer ${TOKEN}` };
    const first = fetch(url, { method: 'POST', body: '{"n":1}\n{"n":2}\n{"n":3}\n{"n":4}', headers });
    await new Promise((r) => setTimeout(r, 100));
    const refused = await fetch(url, { method: 'POST', body: '{"n":5}', headers });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    release();
    expect((await first).status).toBe(200);
    expect((await fetch(url, { method: 'POST', body: '{"n":5}', headers })).status).toBe(200);
    await h.close();
    expect((await stored('full')).map((e) => JSON.parse(e.raw).n)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('HTTP ingest: sources', () => {
  it('generic NDJSON: ids from the id field dedupe a retried batch; times from the event', async () => {
    const body =
      '{"id":"e1","time":"2026-01-02T03:04:05Z","m":1}\n{"id":"e2","@timestamp":"2026-01-02T03:04:06.500Z"}\n';
    const r1 = await post('/ingest/v1/events?source=app', body);
    expect(await r1.json()).toEqual({ received: 2, accepted: 2, duplicates: 0 });
    const r2 = await post('/ingest/v1/events?source=app', body);
    expect(await r2.json()).toEqual({ received: 2, accepted: 0, duplicates: 2 });
    const rows = await stored('app');
    expect(rows.map((e) => [e.eventId, e.time])).toEqual([
      ['app:e1', Date.parse('2026-01-02T03:04:05Z')],
      ['app:e2', Date.parse('2026-01-02T03:04:06.500Z')],
    ]);
    expect(sunk.filter((e) => e.source === 'app')).toHaveLength(2); // the sink never sees duplicates
  });

  it('a JSON array body works too; a bad source name is refused', async () => {
    expect((await post('/ingest/v1/events?source=arr', '[{"a":1},{"a":2}]')).status).toBe(200);
    expect(await stored('arr')).toHaveLength(2);
    expect((await post('/ingest/v1/events?source=../x', '{"a":1}')).status).toBe(400);
  });

  it('Kubernetes audit webhook: every Falco trace Event, posted as audit.k8s.io/v1 EventLists, is stored once per auditID+stage', async () => {
    const dir = new URL('k8s-audit/', FIX);
    let expected = 0;
    const ids = new Set<string>();
    for (const f of readdirSync(dir).sort()) {
      const items = readFileSync(new URL(f, dir), 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l));
      const events = items.filter((i) => i.kind === 'Event');
      const res = await post(
        '/ingest/v1/k8s-audit',
        JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items }),
      );
      if (events.length !== items.length) {
        expect([f, res.status]).toEqual([f, 400]); // the fuzz input {"kind": 0}
        continue;
      }
      expect([f, res.status]).toEqual([f, 200]);
      for (const e of events) ids.add(`${e.auditID}/${e.stage}`);
      expected += events.length;
    }
    expect(expected).toBeGreaterThanOrEqual(50);
    const rows = await stored('k8s_audit');
    expect(rows).toHaveLength(ids.size);
    const first = JSON.parse(rows[0]!.raw);
    expect(rows[0]!.time).toBe(Date.parse(first.stageTimestamp));
    expect(
      (await post('/ingest/v1/k8s-audit', JSON.stringify({ kind: 'EventList', apiVersion: 'v1', items: [] }))).status,
    ).toBe(400);
  });

  it('Falco http_output alerts (falcosidekick test payloads) are stored with their event time', async () => {
    const alerts = JSON.parse(
      readFileSync(new URL('falco/falcosidekick-test-alerts.json', FIX), 'utf8'),
    ).alerts_posted_to_falcosidekick;
    for (const a of alerts) expect((await post('/ingest/v1/falco', JSON.stringify(a.json))).status).toBe(200);
    const rows = await stored('falco');
    const distinct = new Set(alerts.map((a: { json: unknown }) => JSON.stringify(a.json)));
    expect(rows).toHaveLength(distinct.size);
    expect(rows[0]!.time).toBe(Date.parse(alerts[0].json.time));
    expect((await post('/ingest/v1/falco', '{"hello":1}')).status).toBe(400);
  });

  it('EventBridge API-destination posts keep the envelope; the id dedupes', async () => {
    const events = JSON.parse(readFileSync(new URL('eventbridge/ecs-eventbridge-events.json', FIX), 'utf8'));
    for (const e of events)
      expect(
        (await post('/ingest/v1/eventbridge', JSON.stringify(e), { 'x-api-key': TOKEN, authorization: '' })).status,
      ).toBe(200);
    await post('/ingest/v1/eventbridge', JSON.stringify(events[0]));
    const rows = await stored('eventbridge');
    expect(rows.map((r) => r.eventId)).toEqual(events.map((e: { id: string }) => `eventbridge:${e.id}`));
    expect(JSON.parse(rows[0]!.raw)).toEqual(events[0]);
  });

  it('egress proxy JSON lines: one event per line, a re-sent batch is not duplicated', async () => {
    const lines = [
      {
        time: '2026-03-01T10:00:00Z',
        client: '10.0.0.5',
        host: 'api.stripe.com',
        port: 443,
        allow: true,
        reason: 'allowlisted',
      },
      {
        time: '2026-03-01T10:00:01Z',
        client: '10.0.0.5',
        host: 'evil.example',
        port: 443,
        allow: false,
        reason: 'not in allowlist',
      },
    ]
      .map((l) => JSON.stringify(l))
      .join('\n');
    await post('/ingest/v1/egress', lines);
    await post('/ingest/v1/egress', lines);
    const rows = await stored('egress');
    expect(rows.map((r) => JSON.parse(r.raw).host)).toEqual(['api.stripe.com', 'evil.example']);
  });
});

describe('Elasticsearch-compatible endpoint', () => {
  it('answers the probes shippers make, with the product header', async () => {
    const h = { authorization: `Bearer ${TOKEN}` };
    const root = await fetch(`${base}/`, { headers: h });
    expect(root.status).toBe(200);
    expect(root.headers.get('x-elastic-product')).toBe('Elasticsearch');
    expect(((await root.json()) as { version: { number: string } }).version.number).toMatch(/^8\./);
    expect((await fetch(`${base}/_license`, { headers: h }).then((r) => r.json())) as object).toMatchObject({
      license: { status: 'active' },
    });
    expect((await fetch(`${base}/_index_template/filebeat-8`, { headers: h })).status).toBe(404);
    const put = await fetch(`${base}/_index_template/filebeat-8`, { method: 'PUT', headers: h, body: '{}' });
    expect(await put.json()).toEqual({ acknowledged: true });
    expect((await fetch(`${base}/`, { method: 'HEAD', headers: h })).status).toBe(200);
    const unauth = await fetch(`${base}/`);
    expect(unauth.status).toBe(401);
    expect(((await unauth.json()) as { error: { type: string } }).error.type).toBe('security_exception');
  });

  it('_bulk: index/create stored, delete/update refused per item, ES response shape', async () => {
    const body = [
      '{"index":{"_index":"logs-a","_id":"x1"}}',
      '{"@timestamp":"2026-03-01T10:00:00.000Z","message":"one"}',
      '{"create":{}}',
      '{"@timestamp":"2026-03-01T10:00:01.000Z","message":"two"}',
      '{"delete":{"_index":"logs-a","_id":"x1"}}',
      '{"update":{"_index":"logs-a","_id":"x1"}}',
      '{"doc":{"message":"changed"}}',
      '',
    ].join('\n');
    const res = await post('/logs-default/_bulk', body, { 'content-type': 'application/x-ndjson' });
    expect(res.status).toBe(200);
    const json = (await res.json()) as {
      errors: boolean;
      items: Record<string, { status: number; _index: string; result?: string }>[];
    };
    expect(json.errors).toBe(true);
    expect(json.items.map((i) => Object.entries(i).map(([k, v]) => [k, v.status, v._index])[0])).toEqual([
      ['index', 201, 'logs-a'],
      ['create', 201, 'logs-default'],
      ['delete', 400, 'logs-a'],
      ['update', 400, 'logs-a'],
    ]);
    const rows = await stored('elasticsearch');
    expect(rows.map((r) => JSON.parse(r.raw).message)).toEqual(['one', 'two']);
    expect(rows[0]!.eventId).toBe('elasticsearch:logs-a/x1');
    expect(rows[1]!.time).toBe(Date.parse('2026-03-01T10:00:01.000Z'));
    const bad = await post('/_bulk', '{"index":{}}\n{"message":', {});
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { reason: string } }).error.reason).toContain('_bulk line');
  });

  it('the official Elasticsearch JS client bulk helper ships 5,000 documents (gzip) and reports no failures', async () => {
    const client = new Client({ node: base, auth: { apiKey: TOKEN }, compression: true });
    const docs = Array.from({ length: 5000 }, (_, i) => ({
      '@timestamp': new Date(Date.UTC(2026, 2, 1, 0, 0, i)).toISOString(),
      seq: i,
      message: `shipped ${i}`,
    }));
    const dropped: unknown[] = [];
    const result = await client.helpers.bulk({
      datasource: docs,
      onDocument: () => ({ create: { _index: 'shipper-test' } }),
      onDrop: (d) => void dropped.push(d),
      flushBytes: 32 * 1024,
    });
    expect(dropped).toEqual([]);
    expect(result.successful).toBe(5000);
    expect(result.failed).toBe(0);
    const info = await client.info();
    expect(info.version.number).toMatch(/^8\./);
    await client.close();
    const rows = (await stored('elasticsearch')).map((r) => JSON.parse(r.raw)).filter((d) => typeof d.seq === 'number');
    // The helper sends batches concurrently, so arrival order across batches is not fixed: compare as sets.
    expect(rows.map((d) => d.seq).sort((a, b) => a - b)).toEqual(docs.map((d) => d.seq));
  });
});
