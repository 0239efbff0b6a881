import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryLake } from '../../src/watch/lake/index.js';
import { startWatchService } from '../../src/watch/service.js';
import { parseWatchConfig } from '../../src/watch/service-config.js';
import { TestReceiver, waitFor } from '../helpers/receiver.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'palisade-svc-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('watch config', () => {
  it('resolves relative paths against the config file and expands env: values', () => {
    const c = parseWatchConfig(
      'store: data/w.db\nhttp: { port: 8080, tokens: [env:TOK] }\nlake: { dir: lake }\nnotify: { channels: [{ name: s, type: slack, webhookUrl: env:HOOK }] }\n',
      '/etc/palisade',
      { TOK: 'a-token-of-sixteen+', HOOK: 'https://hooks.example/T/B/x' },
    );
    expect(c.store).toBe('sqlite:/etc/palisade/data/w.db');
    expect(c.lake?.dir).toBe('/etc/palisade/lake');
    expect(c.http?.tokens).toEqual(['a-token-of-sixteen+']);
    expect(c.notify?.channels?.[0]?.webhookUrl).toBe('https://hooks.example/T/B/x');
  });

  it.each([
    ['unknown key', 'http: { port: 1, tokens: [aaaaaaaaaaaaaaaa] }\nbogus: 1\n', /additional properties \(bogus\)/],
    ['short token', 'http: { port: 1, tokens: [short] }\n', /\/http\/tokens\/0/],
    ['no sources', 'lake: { dir: x }\n', /no sources/],
    ['missing env', 'http: { port: 1, tokens: [env:NOPE_NOT_SET] }\n', /NOPE_NOT_SET is not set/],
    ['bad YAML', 'http: [\n', /not valid YAML/],
    [
      'both lake targets',
      'http: { port: 1, allowAnonymous: true }\nlake: { dir: x, s3: { bucket: abc } }\n',
      /dir or s3/,
    ],
  ])('refuses %s with a clear error', (_n, text, msg) => {
    expect(() => parseWatchConfig(text, '/tmp', {})).toThrow(msg);
  });
});

describe('watch service end to end (in process)', () => {
  it('events in over HTTP and syslog reach the sink, the lake and DuckDB; a sink alert reaches the webhook', async () => {
    const rx = new TestReceiver();
    await rx.up();
    const lake = join(tmp, 'lake');
    const config = parseWatchConfig(
      `store: ${join(tmp, 'w.db')}
http: { port: 0, tokens: [svc-token-0123456789] }
syslog: { tcpPort: 0 }
lake: { dir: ${lake}, maxFileSeconds: 0, intervalMs: 20 }
notify: { channels: [{ name: hook, type: webhook, url: '${rx.url('/alerts')}', secret: s3cr3t, minSeverity: HIGH }] }
heartbeats: [{ source: syslog, maxSilenceMinutes: 5 }]
`,
      tmp,
      {},
    );
    const seen: string[] = [];
    const service = await startWatchService({
      config,
      sinks: ({ notifications }) => [
        async (events) => {
          for (const e of events) {
            seen.push(e.id);
            if (e.data.eventName === 'StopLogging') {
              await notifications.raise({
                rule: 'cloudtrail-stop-logging',
                severity: 'CRITICAL',
                title: 'CloudTrail logging stopped',
                source: e.source,
              });
            }
          }
        },
      ],
    });
    const res = await fetch(`http://127.0.0.1:${service.http!.port}/ingest/v1/events?source=cloud`, {
      method: 'POST',
      headers: { authorization: 'Bearer svc-token-0123456789' },
      body: '{"id":"a","eventName":"ConsoleLogin"}\n{"id":"b","eventName":"StopLogging"}\n',
    });
    expect(res.status).toBe(200);
    const s = connect(service.syslog!.tcpPort!, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    s.end('<13>1 2026-03-01T00:00:00Z h app - - - hello lake\n');
    await waitFor(() => seen.length === 3 && rx.received.length === 1, 20_000, 'sink and alert');
    expect(JSON.parse(rx.received[0]!.body).alert.title).toBe('CloudTrail logging stopped');
    const count = () =>
      queryLake(lake, 'SELECT count(*) AS n FROM events').then(
        (r) => r.rows[0]!.n,
        () => '0',
      );
    await waitFor(async () => (await count()) === '3', 20_000, 'lake');
    await service.stop();
    const q = await queryLake(
      lake,
      `SELECT source, coalesce(event->>'$.eventName', event->>'$.message') AS what FROM events ORDER BY source, what`,
    );
    expect(q.rows).toEqual([
      { source: 'cloud', what: 'ConsoleLogin' },
      { source: 'cloud', what: 'StopLogging' },
      { source: 'syslog', what: 'hello lake' },
    ]);
    await rx.down();
  });
});
