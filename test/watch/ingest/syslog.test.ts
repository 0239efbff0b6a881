import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countPendingEvents, openStore, pendingEvents, type Store } from '../../../src/store/index.js';
import { IngestQueue, type SyslogListeners, startSyslog } from '../../../src/watch/ingest/index.js';
import { freePort } from '../../helpers/free-port.js';
import { waitFor } from '../../helpers/receiver.js';
import { makeTestPki, type TestPki } from '../../helpers/tls.js';

const run = promisify(execFile);
let tmp: string;
let pki: TestPki;
let n = 0;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'palisade-syslog-'));
  pki = await makeTestPki(tmp);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Rig {
  store: Store;
  queue: IngestQueue;
  listeners: SyslogListeners;
  messages(): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

async function rig(opts: { tls?: boolean; capacity?: number; sink?: () => Promise<void> } = {}): Promise<Rig> {
  const store = await openStore({ url: `sqlite:${join(tmp, `r${++n}`, 's.db')}` });
  const queue = new IngestQueue({ store, capacity: opts.capacity, batchSize: 50, sinks: opts.sink ? [opts.sink] : [] });
  const listeners = await startSyslog({
    udpPort: 0,
    tcpPort: 0,
    ...(opts.tls ? { tls: { port: 0, certFile: pki.serverCert, keyFile: pki.serverKey } } : {}),
    queue,
  });
  return {
    store,
    queue,
    listeners,
    messages: async () => (await pendingEvents(store, 1_000_000)).map((e) => JSON.parse(e.raw)),
    close: async () => {
      await listeners.close();
      await queue.close();
      await store.close();
    },
  };
}

describe('syslog listeners with Node clients', () => {
  it('UDP: one message per datagram, parsed, with the peer', async () => {
    const r = await rig();
    const sock = createSocket('udp4');
    for (const m of ['<13>1 2026-03-01T00:00:00Z h1 app 1 - - udp one', '<14>Mar  1 00:00:01 h2 cron[7]: udp two\n']) {
      await new Promise<void>((res, rej) =>
        sock.send(m, r.listeners.udpPort!, '127.0.0.1', (e) => (e ? rej(e) : res())),
      );
    }
    sock.close();
    await waitFor(async () => (await r.messages()).length === 2);
    const msgs = await r.messages();
    expect(msgs.map((m) => [m.format, m.hostname, m.message])).toEqual([
      ['rfc5424', 'h1', 'udp one'],
      ['rfc3164', 'h2', 'udp two'],
    ]);
    expect(msgs[0]!.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    await r.close();
  });

  it('TCP: octet-counted and newline framing on one connection', async () => {
    const r = await rig();
    const a = '<13>1 2026-03-01T00:00:00Z h app - - - multi\nline';
    const s = connect(r.listeners.tcpPort!, '127.0.0.1');
    await new Promise((res) => s.once('connect', res));
    s.write(`${Buffer.byteLength(a)} ${a}<13>Mar  1 00:00:00 h app: plain\n`);
    s.end('<13>Mar  1 00:00:00 h app: unterminated at close');
    await waitFor(async () => (await r.messages()).length === 3);
    expect((await r.messages()).map((m) => m.message)).toEqual(['multi\nline', 'plain', 'unterminated at close']);
    await r.close();
  });

  it('TLS: a client verifying our certificate against the CA delivers', async () => {
    const r = await rig({ tls: true });
    const s = tlsConnect({ port: r.listeners.tlsPort!, host: '127.0.0.1', ca: readFileSync(pki.caCert) });
    await new Promise((res, rej) => {
      s.once('secureConnect', res);
      s.once('error', rej);
    });
    expect(s.authorized).toBe(true);
    s.end('<13>1 2026-03-01T00:00:00Z h app - - - over tls\n');
    await waitFor(async () => (await r.messages()).length === 1);
    expect((await r.messages())[0]!.message).toBe('over tls');
    await r.close();
  });

  it('TCP backpressure: while the queue is full the socket is paused; nothing is lost when it drains', {
    timeout: 120_000,
  }, async () => {
    let release!: () => void;
    const gate = new Promise<void>((res) => {
      release = res;
    });
    const r = await rig({ capacity: 100, sink: () => gate });
    const s = connect(r.listeners.tcpPort!, '127.0.0.1');
    await new Promise((res) => s.once('connect', res));
    const total = 10_000;
    let body = '';
    for (let i = 0; i < total; i++) body += `<13>Mar  1 00:00:00 h app: message ${i} ${'p'.repeat(100)}\n`;
    s.write(body);
    await new Promise((res) => setTimeout(res, 500));
    // The sink holds the queue full: the listener has stopped reading long before the whole payload.
    expect(r.listeners.stats.received).toBeLessThan(total / 2);
    release();
    s.end();
    await waitFor(async () => (await countPendingEvents(r.store)) === total, 90_000, 'all messages');
    const msgs = await r.messages();
    expect(msgs.map((m) => m.message)).toEqual(
      Array.from({ length: total }, (_, i) => `message ${i} ${'p'.repeat(100)}`),
    );
    await r.close();
  });

  it('a frame over the size bound closes the connection and is counted', async () => {
    const r = await rig();
    const s = connect(r.listeners.tcpPort!, '127.0.0.1');
    await new Promise((res) => s.once('connect', res));
    s.write(`99999999 <13>x`);
    await new Promise((res) => s.once('close', res));
    expect(r.listeners.stats.badFrames).toBe(1);
    await r.close();
  });
});

describe('rsyslog (Debian rsyslogd 8.x) forwarding to our listeners', () => {
  let proc: ChildProcess | undefined;
  let plain: Rig;
  let octet: Rig;
  let tls: Rig;
  let inPort = 0;
  beforeAll(async () => {
    plain = await rig();
    octet = await rig();
    tls = await rig({ tls: true });
    inPort = await freePort();
    const dir = mkdtempSync(join(tmp, 'rsyslog-'));
    const conf = join(dir, 'rsyslog.conf');
    writeFileSync(
      conf,
      `global(workDirectory="${dir}" defaultNetstreamDriverCAFile="${pki.caCert}")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="${inPort}")
action(type="omfwd" target="127.0.0.1" port="${plain.listeners.tcpPort}" protocol="tcp" template="RSYSLOG_TraditionalForwardFormat")
action(type="omfwd" target="127.0.0.1" port="${octet.listeners.tcpPort}" protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
action(type="omfwd" target="127.0.0.1" port="${tls.listeners.tlsPort}" protocol="tcp" StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name" StreamDriverPermittedPeers="localhost" template="RSYSLOG_SyslogProtocol23Format")
`,
    );
    await run('/usr/sbin/rsyslogd', ['-N1', '-f', conf]); // config check: fails loudly on a typo
    proc = spawn('/usr/sbin/rsyslogd', ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await waitFor(
      () =>
        new Promise<boolean>((res) => {
          const s = connect(inPort, '127.0.0.1', () => {
            s.destroy();
            res(true);
          });
          s.on('error', () => res(false));
        }),
      20_000,
      'rsyslogd listening',
    );
  });
  afterAll(async () => {
    if (proc && proc.exitCode === null) {
      proc.kill('SIGTERM');
      await new Promise((res) => proc!.once('exit', res));
    }
    await Promise.all([plain?.close(), octet?.close(), tls?.close()]);
  });

  it('messages injected with logger arrive over TCP (newline and octet-counted) and TLS, parsed', async () => {
    const count = 50;
    for (let i = 0; i < count; i++) {
      await run('logger', [
        '--server',
        '127.0.0.1',
        '--port',
        String(inPort),
        '--tcp',
        '--octet-count',
        '--rfc5424',
        '-t',
        'payments',
        '-p',
        'auth.warning',
        '--sd-id',
        'audit@32473',
        '--sd-param',
        `seq="${i}"`,
        `login failed for user${i}`,
      ]);
    }
    for (const [name, r] of [
      ['plain', plain],
      ['octet', octet],
      ['tls', tls],
    ] as const) {
      await waitFor(async () => (await r.messages()).length >= count, 30_000, `${name}: ${count} messages`);
      const msgs = await r.messages();
      expect([name, msgs.length]).toEqual([name, count]);
      for (const m of msgs) {
        expect(m.facility).toBe(4); // auth
        expect(m.severity).toBe(4); // warning
      }
      if (name === 'plain') {
        // rsyslog's traditional format writes a TAG that came from an RFC 5424 APP-NAME without the ':' — BSD
        // syslog cannot tell such a tag from message text, so the parser keeps it in the message (documented).
        expect(msgs[0]!.format).toBe('rfc3164');
        expect(msgs.map((m) => m.message)).toEqual(
          Array.from({ length: count }, (_, i) => `payments login failed for user${i}`),
        );
      } else {
        expect(msgs.map((m) => [m.appName, m.message])).toEqual(
          Array.from({ length: count }, (_, i) => ['payments', `login failed for user${i}`]),
        );
        expect(msgs[0]!.format).toBe('rfc5424');
        expect(
          msgs.map((m) => (m.structuredData as Record<string, Record<string, string>>)['audit@32473']!.seq),
        ).toEqual(Array.from({ length: count }, (_, i) => String(i)));
      }
    }
  });
});
