import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REASON_HEADER } from '../../src/egress/index.js';
import {
  body,
  closeServer,
  fdLimit,
  openFds,
  startHttpUpstream,
  startProxy,
  TableResolver,
  type TestProxy,
  viaProxy,
  waitFor,
} from './helpers.js';

let http: Awaited<ReturnType<typeof startHttpUpstream>>;
let p: TestProxy;
const IDLE = 5000;

beforeAll(async () => {
  http = await startHttpUpstream();
  p = await startProxy(
    {
      limits: { headerTimeoutMs: 1500, maxHeaderBytes: 8192, idleTimeoutMs: 4000, maxConnections: IDLE + 500 },
      defaultPolicy: 'p',
      policies: { p: { allow: [{ host: 'api.test', ports: [http.port] }], allowCidrs: ['127.0.0.0/8'] } },
    },
    new TableResolver({ 'api.test': ['127.0.0.1'] }),
  );
});
afterAll(async () => {
  expect(p.dialer.violations).toEqual([]);
  await p.close();
  await closeServer(http.server);
});

/** A well-behaved client must still be served, quickly, whatever the others do. */
async function othersAreServed(): Promise<void> {
  const started = Date.now();
  const a = await viaProxy(p.port, `http://api.test:${http.port}/bytes/4096`);
  expect(a.status).toBe(200);
  expect(a.body.equals(body(4096))).toBe(true);
  expect(Date.now() - started).toBeLessThan(2000);
}

function raw(port = p.port): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', reject);
  });
}

/** Sends bytes and collects everything until the proxy closes the connection. */
function exchange(s: Socket, data: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    s.on('data', (c: Buffer) => {
      got += c.toString('latin1');
    });
    s.on('error', () => {});
    s.once('close', () => resolve(got));
    s.write(data);
  });
}

describe('egress under hostile clients', () => {
  it('slowloris: clients trickling headers are cut after the header timeout while others are served', async () => {
    const slow = await Promise.all(Array.from({ length: 50 }, () => raw()));
    const closedAt: number[] = [];
    const started = Date.now();
    const timers = slow.map((s, i) => {
      s.on('error', () => {});
      s.once('close', () => closedAt.push(Date.now() - started));
      s.write(`GET http://api.test:${http.port}/ HTTP/1.1\r\nHost: api.test\r\n`);
      return setInterval(() => s.writable && s.write(`X-Slow-${i}: a\r\n`), 200);
    });
    await othersAreServed();
    await waitFor(() => closedAt.length === 50, 6000, 'slowloris connections to be closed');
    timers.forEach(clearInterval);
    expect(Math.max(...closedAt)).toBeLessThan(4000);
  });

  it('oversized headers: 431 with a reason, for requests and for CONNECT', async () => {
    const big = 'x'.repeat(20_000);
    for (const line of [`GET http://api.test:${http.port}/ HTTP/1.1`, `CONNECT api.test:${http.port} HTTP/1.1`]) {
      const answer = await exchange(await raw(), `${line}\r\nHost: api.test\r\nX-Big: ${big}\r\n\r\n`);
      expect(answer).toMatch(/^HTTP\/1\.1 431 /);
      expect(answer).toContain(`${REASON_HEADER}: headers_too_large`);
    }
    await othersAreServed();
  });

  const malformed: Array<[string, string | Buffer, RegExp]> = [
    ['no target', 'CONNECT\r\n\r\n', /^HTTP\/1\.1 400 /],
    ['no port', 'CONNECT api.test HTTP/1.1\r\nHost: x\r\n\r\n', /bad_connect_target/],
    ['empty host', 'CONNECT :443 HTTP/1.1\r\nHost: x\r\n\r\n', /bad_connect_target/],
    ['port out of range', 'CONNECT api.test:99999 HTTP/1.1\r\nHost: x\r\n\r\n', /bad_connect_target/],
    ['port zero', 'CONNECT api.test:0 HTTP/1.1\r\nHost: x\r\n\r\n', /bad_connect_target/],
    ['unclosed IPv6 bracket', 'CONNECT [::1:443 HTTP/1.1\r\nHost: x\r\n\r\n', /bad_connect_target/],
    ['unbracketed IPv6', 'CONNECT ::1:443 HTTP/1.1\r\nHost: x\r\n\r\n', /bad_connect_target/],
    ['URL instead of authority', 'CONNECT http://api.test:443/ HTTP/1.1\r\nHost: x\r\n\r\n', /bad_connect_target/],
    ['userinfo in authority', 'CONNECT user@api.test:443 HTTP/1.1\r\nHost: x\r\n\r\n', /bad_connect_target/],
    ['space in target', 'CONNECT api .test:443 HTTP/1.1\r\nHost: x\r\n\r\n', /^HTTP\/1\.1 400 /],
    ['bad version', 'CONNECT api.test:443 HTTP/9.9\r\nHost: x\r\n\r\n', /^HTTP\/1\.1 400 /],
    ['NUL in line', 'CONNECT api.test\0:443 HTTP/1.1\r\nHost: x\r\n\r\n', /^HTTP\/1\.1 400 /],
    [
      'binary garbage',
      Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x01, 0x00, 0x00, 0xfb, 0x03, 0x03, 0x0d, 0x0a, 0x0d, 0x0a]),
      /^HTTP\/1\.1 400 /,
    ],
    ['origin-form request (not a proxy request)', 'GET / HTTP/1.1\r\nHost: api.test\r\n\r\n', /not_a_proxy_request/],
    ['https absolute-form', 'GET https://api.test/ HTTP/1.1\r\nHost: api.test\r\n\r\n', /not_a_proxy_request/],
  ];
  it.each(malformed)(
    'malformed request (%s) gets an error answer and the proxy keeps serving',
    async (_n, data, expected) => {
      const s = await raw();
      const answer = await Promise.race([
        exchange(s, data),
        new Promise<string>((r) => setTimeout(() => r('(no close)'), 3000)),
      ]);
      s.destroy();
      expect(answer).toMatch(expected);
      expect(p.dialer.dials.filter((d) => !d.endsWith(`:${http.port}`))).toEqual([]);
      await othersAreServed();
    },
  );

  it(`${IDLE} concurrent idle connections: others are served, memory stays bounded, the proxy reclaims every descriptor`, async () => {
    const limit = await fdLimit();
    // Both ends of each connection live in this process.
    if (limit < 2 * IDLE + 1000) {
      throw new Error(`open-files limit ${limit} is too low for this test: run "ulimit -n ${2 * IDLE + 1000}" first`);
    }
    // Its own proxy, with a header timeout long enough for all connections to be open at once.
    const q = await startProxy(
      {
        limits: { headerTimeoutMs: 8000, maxConnections: IDLE + 500 },
        defaultPolicy: 'p',
        policies: { p: { allow: [{ host: 'api.test', ports: [http.port] }], allowCidrs: ['127.0.0.0/8'] } },
      },
      new TableResolver({ 'api.test': ['127.0.0.1'] }),
    );
    const servedByQ = async (): Promise<void> => {
      const started = Date.now();
      const a = await viaProxy(q.port, `http://api.test:${http.port}/bytes/4096`);
      expect(a.body.equals(body(4096))).toBe(true);
      expect(Date.now() - started).toBeLessThan(2000);
    };
    await servedByQ();
    const fdsBefore = openFds();
    const rssBefore = process.memoryUsage().rss;
    const sockets: Socket[] = [];
    let closedByProxy = 0;
    for (let i = 0; i < IDLE; i += 500) {
      const batch = await Promise.all(Array.from({ length: Math.min(500, IDLE - i) }, () => raw(q.port)));
      for (const s of batch) {
        s.on('error', () => {});
        s.resume(); // read (and drop) the proxy's 408 so that its FIN is seen
        s.once('close', () => closedByProxy++);
      }
      sockets.push(...batch);
      // Let the proxy accept each batch before the next, as a real burst would be spread by the accept queue.
      await waitFor(() => q.proxy.stats.connections >= sockets.length, 5000, `proxy to accept ${sockets.length}`);
    }
    await waitFor(() => q.proxy.stats.connections >= IDLE, 5000, 'proxy to see all idle connections').catch((e) => {
      throw new Error(`${e.message}: ${q.proxy.stats.connections} closed ${closedByProxy} sockets ${sockets.length}`);
    });
    expect(closedByProxy).toBe(0);
    await servedByQ();
    const rssGrowth = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    // Both ends of 5,000 sockets in one process; a leak or per-connection buffer would blow well past this.
    expect(rssGrowth).toBeLessThan(150);
    // Nobody sent a request line: the header timeout closes them all, without the clients doing anything.
    await waitFor(() => closedByProxy === IDLE, 20_000, 'proxy to close idle connections').catch((e) => {
      throw new Error(
        `${e.message}: open ${q.proxy.stats.connections} closed ${closedByProxy} ${q.proxy.metrics
          .render()
          .split('\n')
          .filter((l) => l.includes('client_err'))
          .join(' ')}`,
      );
    });
    await waitFor(() => q.proxy.stats.connections === 0, 5000, 'connection count back to 0');
    for (const s of sockets) s.destroy();
    await waitFor(() => openFds() <= fdsBefore + 2, 5000, `fds back to baseline (${fdsBefore})`);
    await servedByQ();
    await q.close();
  });

  it('connections over maxConnections are shed at once and service resumes when they go', async () => {
    const q = await startProxy(
      {
        limits: { maxConnections: 20, headerTimeoutMs: 5000 },
        defaultPolicy: 'p',
        policies: { p: { allow: [{ host: 'api.test', ports: [http.port] }], allowCidrs: ['127.0.0.0/8'] } },
      },
      new TableResolver({ 'api.test': ['127.0.0.1'] }),
    );
    const hold: Socket[] = [];
    for (let i = 0; i < 20; i++) hold.push(connect({ host: '127.0.0.1', port: q.port }).on('error', () => {}));
    await waitFor(() => q.proxy.stats.connections === 20, 5000, '20 connections');
    const extra = connect({ host: '127.0.0.1', port: q.port }).on('error', () => {});
    await new Promise<void>((r) => extra.once('close', () => r()));
    for (const s of hold) s.destroy();
    await waitFor(() => q.proxy.stats.connections === 0, 5000, 'connections released');
    const a = await viaProxy(q.port, `http://api.test:${http.port}/bytes/10`);
    expect(a.status).toBe(200);
    await q.close();
  });
});
