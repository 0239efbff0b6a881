import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Notifications, webhookNotifier } from '../../src/notify/index.js';
import { openStore } from '../../src/store/index.js';
import { detectionSink, loadRuleSet } from '../../src/watch/index.js';
import type { IngestEvent } from '../../src/watch/ingest/types.js';

const root = new URL('../../', import.meta.url).pathname;
let server: Server;
let url: string;
const bodies: { title: string; rule: string }[] = [];
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'palisade-detect-'));
  server = createServer((req, res) => {
    let b = '';
    req.on('data', (d) => {
      b += d;
    });
    req.on('end', () => {
      const j = JSON.parse(b) as { alert?: { title: string; rule: string }; title?: string; rule?: string };
      bodies.push((j.alert ?? j) as { title: string; rule: string });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(tmp, { recursive: true, force: true });
});

describe('watch: live detection on ingested events', () => {
  it('a CloudTrail StopLogging record raises the shipped SigmaHQ rule as an alert that reaches a webhook', async () => {
    const set = await loadRuleSet([join(root, 'rules/sigma')]);
    const store = await openStore({ url: `sqlite:${join(tmp, 's.db')}` });
    const notes = new Notifications({
      store,
      channels: [{ name: 'hook', notifier: webhookNotifier({ url, secret: 'a-test-secret-of-some-length' }) }],
    });
    const sink = detectionSink(set, notes);
    const file = join(root, 'test/fixtures/watch/cloudtrail/stratus-red-team/aws.defense-evasion.cloudtrail-stop.json');
    const records = (JSON.parse(readFileSync(file, 'utf8')) as { Records: Record<string, unknown>[] }).Records;
    const events: IngestEvent[] = records.map((data, i) => ({
      id: `e${i}`,
      source: 'cloudtrail',
      time: Date.parse(String(data.eventTime)),
      receivedAt: Date.now(),
      data,
    }));
    await sink(events);
    await notes.dispatchDue();
    const titles = bodies.map((b) => b.title);
    expect(titles.some((t) => /CloudTrail/i.test(t))).toBe(true);
    await store.close();
  });
});
