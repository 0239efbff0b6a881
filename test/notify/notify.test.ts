import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Alert,
  emailNotifier,
  HeartbeatMonitor,
  Notifications,
  pagerDutyNotifier,
  slackNotifier,
  verifyWebhook,
  webhookNotifier,
} from '../../src/notify/index.js';
import { listOutbox, openStore, touchHeartbeat } from '../../src/store/index.js';
import { TestReceiver, waitFor } from '../helpers/receiver.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';

let tmp: string;
let pki: TestPki;
let n = 0;
const newStore = () => openStore({ url: `sqlite:${join(tmp, `db${++n}`, 's.db')}` });

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'palisade-notify-'));
  pki = await makeTestPki(tmp);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const alert = (i: number, over: Partial<Alert> = {}): Alert => ({
  rule: 'aws-root-login',
  severity: 'HIGH',
  title: `Root console login <${i}>`,
  description: 'The root user signed in to the console from 198.51.100.7 & friends.',
  source: 'cloudtrail',
  time: '2026-03-01T10:00:00.000Z',
  fields: { actor: 'root', sourceIP: '198.51.100.7' },
  ...over,
});

/** Slack's documented Block Kit limits for the blocks we use. */
function checkBlockKit(body: Record<string, unknown>) {
  expect(typeof body.text).toBe('string');
  // biome-ignore lint/suspicious/noExplicitAny: walking untyped JSON
  const blocks = body.blocks as Record<string, any>[];
  expect(Array.isArray(blocks)).toBe(true);
  expect(blocks.length).toBeLessThanOrEqual(50);
  for (const b of blocks) {
    expect(['header', 'section', 'context', 'actions', 'divider']).toContain(b.type);
    if (b.type === 'header') {
      expect(b.text.type).toBe('plain_text');
      expect(b.text.text.length).toBeLessThanOrEqual(150);
    }
    if (b.type === 'section') {
      expect(b.text.type).toBe('mrkdwn');
      expect(b.text.text.length).toBeLessThanOrEqual(3000);
      expect(b.fields.length).toBeLessThanOrEqual(10);
      for (const f of b.fields) {
        expect(f.type).toBe('mrkdwn');
        expect(f.text.length).toBeLessThanOrEqual(2000);
      }
    }
    if (b.type === 'context') {
      expect(b.elements.length).toBeLessThanOrEqual(10);
      for (const e of b.elements) expect(['mrkdwn', 'plain_text', 'image']).toContain(e.type);
    }
  }
}

describe('notifiers deliver to real loopback receivers in their documented formats', () => {
  const rx = new TestReceiver();
  beforeAll(() => rx.up());
  afterAll(() => rx.down());

  it('slack: Block Kit body within limits, mrkdwn escaped, fields listed', async () => {
    rx.received.length = 0;
    const store = await newStore();
    const notes = new Notifications({
      store,
      channels: [{ name: 'chat', notifier: slackNotifier({ webhookUrl: rx.url('/services/T0/B0/secret') }) }],
    });
    await notes.raise(alert(1, { title: 'x'.repeat(400), link: 'https://gate.example/alerts/1' }));
    await notes.dispatchDue();
    expect(rx.received).toHaveLength(1);
    const body = JSON.parse(rx.received[0]!.body);
    checkBlockKit(body);
    expect(body.blocks[0].text.text).toMatch(/^HIGH: x+…$/);
    expect(body.blocks[1].text.text).toBe('The root user signed in to the console from 198.51.100.7 &amp; friends.');
    expect(body.blocks[1].fields.map((f: { text: string }) => f.text)).toEqual([
      '*Severity*\nHIGH',
      '*Rule*\naws-root-login',
      '*actor*\nroot',
      '*sourceIP*\n198.51.100.7',
    ]);
    expect(body.blocks[3]).toEqual({
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open' }, url: 'https://gate.example/alerts/1' }],
    });
    await store.close();
  });

  it('webhook: HMAC-SHA256 over "<timestamp>.<body>" verifies; tampering or a stale timestamp does not', async () => {
    rx.received.length = 0;
    const store = await newStore();
    const secret = 'whsec-test-0123';
    const notes = new Notifications({
      store,
      channels: [{ name: 'hook', notifier: webhookNotifier({ url: rx.url('/hook'), secret }) }],
    });
    const rec = await notes.raise(alert(2));
    await notes.dispatchDue();
    const r = rx.received[0]!;
    const ts = r.headers['x-palisade-timestamp'] as string;
    const sig = r.headers['x-palisade-signature'] as string;
    // Independent computation of the documented scheme.
    expect(sig).toBe(`v1=${createHmac('sha256', secret).update(`${ts}.${r.body}`).digest('hex')}`);
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(30);
    expect(r.headers['x-palisade-delivery']).toBe(`${rec!.id}.hook`);
    expect(JSON.parse(r.body)).toEqual({
      version: 1,
      delivery: `${rec!.id}.hook`,
      alert: { ...alert(2), id: rec!.id, dedupKey: rec!.dedupKey },
    });
    const cases: [string, Parameters<typeof verifyWebhook>[0], boolean][] = [
      ['genuine', { secret, body: r.body, timestamp: ts, signature: sig }, true],
      ['body changed', { secret, body: r.body.replace('Root', 'root'), timestamp: ts, signature: sig }, false],
      ['wrong secret', { secret: 'other', body: r.body, timestamp: ts, signature: sig }, false],
      ['timestamp changed', { secret, body: r.body, timestamp: String(Number(ts) + 1), signature: sig }, false],
      ['too old', { secret, body: r.body, timestamp: ts, signature: sig, nowSec: Number(ts) + 301 }, false],
      ['missing signature', { secret, body: r.body, timestamp: ts, signature: undefined }, false],
      ['rotation list', { secret, body: r.body, timestamp: ts, signature: `v1=00, ${sig}` }, true],
    ];
    for (const [name, input, ok] of cases) expect([name, verifyWebhook(input)]).toEqual([name, ok]);
    await store.close();
  });

  it('pagerduty: Events API v2 trigger with routing_key, dedup_key and payload fields', async () => {
    rx.received.length = 0;
    rx.answer = () => ({ status: 202, body: '{"status":"success","message":"Event processed"}' });
    const store = await newStore();
    const notes = new Notifications({
      store,
      channels: [
        {
          name: 'phone',
          notifier: pagerDutyNotifier({ routingKey: 'R0123456789abcdef0123456789abcdef', url: rx.url('/v2/enqueue') }),
        },
      ],
    });
    const rec = await notes.raise(alert(3, { severity: 'CRITICAL', dedupKey: 'root-login:111122223333' }));
    expect(await notes.dispatchDue()).toEqual({ sent: 1, failed: 0 });
    const r = rx.received[0]!;
    expect(r.url).toBe('/v2/enqueue');
    expect(r.headers['content-type']).toBe('application/json');
    const body = JSON.parse(r.body);
    expect(body).toEqual({
      routing_key: 'R0123456789abcdef0123456789abcdef',
      event_action: 'trigger',
      dedup_key: 'root-login:111122223333',
      client: 'Palisade',
      payload: {
        summary: 'CRITICAL: Root console login <3>',
        source: 'cloudtrail',
        severity: 'critical',
        timestamp: '2026-03-01T10:00:00.000Z',
        component: 'palisade-watch',
        class: 'aws-root-login',
        custom_details: {
          rule: 'aws-root-login',
          description: alert(3).description,
          actor: 'root',
          sourceIP: '198.51.100.7',
        },
      },
    });
    expect(['critical', 'error', 'warning', 'info']).toContain(body.payload.severity);
    expect(body.payload.summary.length).toBeLessThanOrEqual(1024);
    expect(rec!.dedupKey).toBe('root-login:111122223333');
    // A 400 (bad event) is permanent: dead after one attempt, not retried forever.
    rx.answer = () => ({ status: 400, body: '{"status":"invalid event"}' });
    await notes.raise(alert(4));
    await notes.dispatchDue();
    const rows = await listOutbox(store);
    expect(rows.map((x) => [x.status, x.attempts])).toEqual([
      ['sent', 1],
      ['dead', 1],
    ]);
    expect(rows[1]!.lastError).toContain('HTTP 400');
    rx.answer = () => ({ status: 200, body: 'ok' });
    await store.close();
  });
});

describe('e-mail over SMTP to a real SMTP server (smtp-server) with STARTTLS', () => {
  let smtp: SMTPServer;
  let port = 0;
  const mails: { from: string; to: string[]; data: string; secure: boolean }[] = [];
  beforeAll(async () => {
    smtp = new SMTPServer({
      key: readFileSync(pki.serverKey),
      cert: readFileSync(pki.serverCert),
      authOptional: true,
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          mails.push({
            from: (session.envelope.mailFrom as { address: string }).address,
            to: session.envelope.rcptTo.map((r) => r.address),
            data: Buffer.concat(chunks).toString('utf8'),
            secure: session.secure,
          });
          cb();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
    port = (smtp.server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => smtp.close(() => resolve())));

  it('the mail arrives over STARTTLS, verified against the configured CA, with subject and body', async () => {
    const store = await newStore();
    const notes = new Notifications({
      store,
      channels: [
        {
          name: 'mail',
          notifier: emailNotifier({
            host: '127.0.0.1',
            port,
            caFile: pki.caCert,
            requireTls: true,
            from: 'palisade@example.org',
            to: ['soc@example.org', 'oncall@example.org'],
          }),
        },
      ],
    });
    const rec = await notes.raise(alert(5));
    expect(await notes.dispatchDue()).toEqual({ sent: 1, failed: 0 });
    expect(mails).toHaveLength(1);
    const m = mails[0]!;
    expect(m.secure).toBe(true);
    expect(m.from).toBe('palisade@example.org');
    expect(m.to).toEqual(['soc@example.org', 'oncall@example.org']);
    const [head, ...rest] = m.data.split('\r\n\r\n');
    expect(head).toMatch(/^Subject: \[Palisade HIGH\] Root console login <5>$/m);
    expect(head).toMatch(/^X-Palisade-Delivery: \d+\.mail$/m);
    const text = rest.join('\r\n\r\n').replace(/=\r\n/g, '').replace(/=3D/g, '=');
    expect(text).toContain('HIGH: Root console login <5>');
    expect(text).toContain('Rule: aws-root-login');
    expect(text).toContain('sourceIP: 198.51.100.7');
    expect(text).toContain(`Dedup key: ${rec!.dedupKey}`);
    await store.close();
  });

  it('TLS verification is on by default: without the CA the send fails and stays queued for retry', async () => {
    const before = mails.length;
    const store = await newStore();
    const notes = new Notifications({
      store,
      channels: [
        {
          name: 'mail',
          notifier: emailNotifier({ host: '127.0.0.1', port, from: 'p@example.org', to: ['soc@example.org'] }),
        },
      ],
    });
    await notes.raise(alert(6));
    expect(await notes.dispatchDue()).toEqual({ sent: 0, failed: 1 });
    expect(mails.length).toBe(before);
    const [row] = await listOutbox(store);
    expect(row!.status).toBe('pending');
    expect(row!.lastError).toMatch(/certificate/i);
    await store.close();
  });
});

describe('outbox behaviour', () => {
  it('a receiver down for a while (connection refused) still gets every alert exactly once', async () => {
    const rx = new TestReceiver();
    await rx.up();
    const port = rx.port;
    await rx.down(); // now refusing connections on that port
    const store = await newStore();
    const outcomes: boolean[] = [];
    const notes = new Notifications({
      store,
      channels: [{ name: 'hook', notifier: webhookNotifier({ url: `http://127.0.0.1:${port}/h`, secret: 's' }) }],
      retry: { baseMs: 40, maxMs: 200 },
      pollMs: 20,
      onOutcome: (o) => outcomes.push(o.ok),
    });
    notes.start();
    for (let i = 0; i < 20; i++) await notes.raise(alert(100 + i));
    await waitFor(() => outcomes.filter((o) => !o).length >= 40, 20_000, 'failed attempts while down');
    expect(rx.received).toHaveLength(0);
    rx.port = port;
    await rx.up();
    await waitFor(async () => (await listOutbox(store)).every((r) => r.status === 'sent'), 20_000, 'all sent');
    await notes.stop();
    const deliveries = rx.received.map((r) => r.headers['x-palisade-delivery']);
    expect(new Set(deliveries).size).toBe(20);
    expect(deliveries).toHaveLength(20);
    const titles = rx.received.map((r) => JSON.parse(r.body).alert.title).sort();
    expect(titles).toEqual(Array.from({ length: 20 }, (_, i) => `Root console login <${100 + i}>`).sort());
    expect((await listOutbox(store)).every((r) => r.attempts >= 2)).toBe(true);
    await rx.down();
    await store.close();
  });

  it('routes by severity, dedupes by key within the window, and throttles without dropping', async () => {
    const rx = new TestReceiver();
    await rx.up();
    const store = await newStore();
    let now = 1_000_000;
    const notes = new Notifications({
      store,
      now: () => now,
      dedupWindowMs: 60_000,
      channels: [
        { name: 'chat', minSeverity: 'LOW', maxPerMinute: 2, notifier: slackNotifier({ webhookUrl: rx.url('/chat') }) },
        {
          name: 'phone',
          minSeverity: 'CRITICAL',
          notifier: pagerDutyNotifier({ routingKey: 'k', url: rx.url('/pd') }),
        },
      ],
    });
    expect(notes.route('LOW')).toEqual(['chat']);
    expect(notes.route('CRITICAL')).toEqual(['chat', 'phone']);
    expect(await notes.raise(alert(1, { severity: 'CRITICAL', dedupKey: 'd1' }))).not.toBeNull();
    expect(await notes.raise(alert(1, { severity: 'CRITICAL', dedupKey: 'd1' }))).toBeNull(); // duplicate
    for (let i = 2; i <= 4; i++) await notes.raise(alert(i, { severity: 'LOW' }));
    await notes.dispatchDue();
    const paths = () => rx.received.map((r) => r.url);
    expect(paths().filter((p) => p === '/pd')).toHaveLength(1);
    expect(paths().filter((p) => p === '/chat')).toHaveLength(2); // throttled at 2 per minute
    now += 61_000;
    await notes.dispatchDue();
    now += 61_000;
    await notes.dispatchDue();
    expect(paths().filter((p) => p === '/chat')).toHaveLength(4);
    now += 61_000;
    expect(await notes.raise(alert(1, { severity: 'CRITICAL', dedupKey: 'd1' }))).not.toBeNull(); // window passed
    await rx.down();
    await store.close();
  });

  it('heartbeats: one alert per silence, re-armed when the source speaks again', async () => {
    const rx = new TestReceiver();
    await rx.up();
    const store = await newStore();
    let now = 10_000_000;
    const notes = new Notifications({
      store,
      now: () => now,
      channels: [{ name: 'hook', notifier: webhookNotifier({ url: rx.url('/'), secret: 's' }) }],
    });
    const hb = new HeartbeatMonitor(store, notes, [
      { source: 'cloudtrail', maxSilenceMs: 15 * 60_000, severity: 'CRITICAL' },
      { source: 'syslog', maxSilenceMs: 5 * 60_000 },
    ]);
    await hb.init(now);
    await touchHeartbeat(store, 'syslog', now + 4 * 60_000);
    now += 6 * 60_000;
    expect(await hb.check(now)).toEqual([]);
    now += 10 * 60_000; // cloudtrail silent 16 min, syslog 12 min
    expect(await hb.check(now)).toEqual(['cloudtrail', 'syslog']);
    expect(await hb.check(now + 60_000)).toEqual([]);
    await touchHeartbeat(store, 'syslog', now + 2 * 60_000);
    now += 8 * 60_000;
    expect(await hb.check(now)).toEqual(['syslog']);
    await notes.dispatchDue();
    const alerts = rx.received.map((r) => JSON.parse(r.body).alert);
    expect(alerts.map((a) => [a.title, a.severity])).toEqual([
      ['Log source cloudtrail is silent', 'CRITICAL'],
      ['Log source syslog is silent', 'HIGH'],
      ['Log source syslog is silent', 'HIGH'],
    ]);
    expect(alerts[0].fields.silentMinutes).toBe(16);
    await rx.down();
    await store.close();
  });
});
