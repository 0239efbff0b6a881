import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REASON_HEADER, readSni } from '../../src/egress/index.js';
import {
  body,
  closeServer,
  connectVia,
  echo,
  listenOn,
  startHttpUpstream,
  startProxy,
  startTcpUpstream,
  TableResolver,
  type TestProxy,
  viaProxy,
  waitFor,
} from './helpers.js';

let http: Awaited<ReturnType<typeof startHttpUpstream>>;
let tcp: Awaited<ReturnType<typeof startTcpUpstream>>;
let proxies: TestProxy[] = [];

beforeAll(async () => {
  http = await startHttpUpstream();
  tcp = await startTcpUpstream();
});
afterAll(async () => {
  await closeServer(http.server);
  await closeServer(tcp.server);
});
afterEach(async () => {
  for (const p of proxies) {
    // The loopback dialer records any attempt to leave loopback: there must be none.
    expect(p.dialer.violations).toEqual([]);
    await p.close();
  }
  proxies = [];
});

async function proxyWith(
  policy: Record<string, unknown>,
  table: ConstructorParameters<typeof TableResolver>[0] = {},
  extra = {},
) {
  const p = await startProxy(
    { admin: '127.0.0.1:0', defaultPolicy: 'p', policies: { p: { allowCidrs: ['127.0.0.0/8'], ...policy } }, ...extra },
    new TableResolver(table),
  );
  proxies.push(p);
  return p;
}

const loop = (): string[] => ['127.0.0.1'];

describe('egress proxy: allowed traffic arrives intact', () => {
  it('plain HTTP: a 1 MiB answer arrives byte for byte, and the request reaches upstream with Host rewritten', async () => {
    const p = await proxyWith({ allow: [{ host: 'api.test', ports: [http.port] }] }, { 'api.test': loop() });
    const answer = await viaProxy(p.port, `http://api.test:${http.port}/bytes/1048576`);
    expect(answer.status).toBe(200);
    expect(answer.headers['x-upstream']).toBe('yes');
    expect(answer.body.equals(body(1048576))).toBe(true);

    const posted = body(300_000, 'post');
    const echoed = await viaProxy(p.port, `http://api.test:${http.port}/echo?q=1`, {
      method: 'POST',
      body: posted,
      headers: { 'Proxy-Authorization': 'Basic eDp5', 'X-Keep': 'me', Connection: 'x-drop', 'X-Drop': 'gone' },
    });
    const seen = JSON.parse(echoed.body.toString());
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/echo?q=1');
    expect(seen.headers.host).toBe(`api.test:${http.port}`);
    expect(seen.headers['x-keep']).toBe('me');
    expect(seen.headers['x-drop']).toBeUndefined();
    expect(seen.headers['proxy-authorization']).toBeUndefined();
    expect(Buffer.from(seen.body, 'base64').equals(posted)).toBe(true);
  });

  it.each(['POST', 'DELETE', 'GET'])('plain HTTP: a chunked %s body arrives byte for byte', async (method) => {
    const p = await proxyWith({ allow: [{ host: 'api.test', ports: [http.port] }] }, { 'api.test': loop() });
    const sent = body(100_000, method);
    const answer = await viaProxy(p.port, `http://api.test:${http.port}/echo`, {
      method,
      body: sent,
      headers: { 'Transfer-Encoding': 'chunked' },
    });
    const seen = JSON.parse(answer.body.toString());
    expect(seen.method).toBe(method);
    expect(seen.headers['transfer-encoding']).toBe('chunked');
    expect(Buffer.from(seen.body, 'base64').equals(sent)).toBe(true);
  });

  it('plain HTTP keep-alive: several requests on one client connection all succeed', async () => {
    const p = await proxyWith({ allow: [{ host: 'api.test', ports: [http.port] }] }, { 'api.test': loop() });
    const sockets = new Set<unknown>();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 5; i++) {
      const size = 1000 + i;
      const got = await new Promise<Buffer>((resolve, reject) => {
        const req = request({
          host: '127.0.0.1',
          port: p.port,
          path: `http://api.test:${http.port}/bytes/${size}`,
          agent,
        });
        req.on('socket', (s) => sockets.add(s));
        req.on('response', (res) => {
          const c: Buffer[] = [];
          res.on('data', (d: Buffer) => c.push(d));
          res.on('end', () => resolve(Buffer.concat(c)));
        });
        req.on('error', reject);
        req.end();
      });
      expect(got.equals(body(size))).toBe(true);
    }
    agent.destroy();
    expect(sockets.size).toBe(1);
  });

  it('CONNECT: 2 MiB written into the tunnel come back byte for byte', async () => {
    const p = await proxyWith({ allow: [{ host: 'api.test', ports: [tcp.port] }] }, { 'api.test': loop() });
    const t = await connectVia(p.port, `api.test:${tcp.port}`);
    expect(t.status).toBe(200);
    const data = body(2 * 1024 * 1024, 'tunnel');
    expect((await echo(t.socket, data)).equals(data)).toBe(true);
    t.socket.destroy();
  });
});

describe('egress proxy: tunnel read buffers', () => {
  it('pooled read buffers are never shared: short-lived and concurrent tunnels each get their own bytes back', async () => {
    const p = await proxyWith({ allow: [{ host: 'api.test', ports: [tcp.port] }] }, { 'api.test': loop() });
    for (let i = 0; i < 40; i++) {
      const t = await connectVia(p.port, `api.test:${tcp.port}`);
      const data = body(1000 + i, `short-${i}`);
      expect((await echo(t.socket, data)).equals(data)).toBe(true);
      t.socket.destroy();
    }
    const tunnels = await Promise.all(Array.from({ length: 20 }, () => connectVia(p.port, `api.test:${tcp.port}`)));
    const sent = tunnels.map((_, i) => body(300_000, `concurrent-${i}`));
    const got = await Promise.all(tunnels.map((t, i) => echo(t.socket, sent[i]!)));
    for (let i = 0; i < tunnels.length; i++) {
      expect(got[i]!.equals(sent[i]!), `tunnel ${i}`).toBe(true);
      tunnels[i]!.socket.destroy();
    }
  });
});

describe('egress proxy: denials carry a machine-readable reason', () => {
  const cases: Array<{ name: string; kind: 'http' | 'connect'; target: string; reason: string; status: number }> = [
    {
      name: 'unlisted name over HTTP',
      kind: 'http',
      target: 'http://evil.test/',
      reason: 'host_not_allowed',
      status: 403,
    },
    {
      name: 'unlisted name over CONNECT',
      kind: 'connect',
      target: 'evil.test:443',
      reason: 'host_not_allowed',
      status: 403,
    },
    {
      name: 'wildcard does not match its bare parent',
      kind: 'connect',
      target: 'wild.test:443',
      reason: 'host_not_allowed',
      status: 403,
    },
    {
      name: 'allowed name on a port not listed',
      kind: 'connect',
      target: 'api.test:8443',
      reason: 'port_not_allowed',
      status: 403,
    },
    {
      name: 'CONNECT defaults to port 443 only',
      kind: 'connect',
      target: 'plain.test:80',
      reason: 'port_not_allowed',
      status: 403,
    },
    {
      name: 'method not listed',
      kind: 'http',
      target: 'http://readonly.test/x',
      reason: 'method_not_allowed',
      status: 403,
    },
    {
      name: 'IP literal without an allowing CIDR',
      kind: 'connect',
      target: '93.184.216.34:443',
      reason: 'ip_literal_not_allowed',
      status: 403,
    },
    {
      name: 'IPv6 literal without an allowing CIDR',
      kind: 'connect',
      target: '[2606:2800::1]:443',
      reason: 'ip_literal_not_allowed',
      status: 403,
    },
    {
      name: 'name that does not resolve',
      kind: 'connect',
      target: 'nxdomain.wild.test:443',
      reason: 'resolve_failed',
      status: 502,
    },
  ];
  it.each(cases)('$name -> $status $reason', async ({ kind, target, reason, status }) => {
    const p = await startProxy(
      {
        defaultPolicy: 'p',
        policies: {
          p: {
            allow: ['api.test', '*.wild.test', 'plain.test', { host: 'readonly.test', methods: ['GET'] }],
          },
        },
      },
      new TableResolver({ 'api.test': ['203.0.113.9'] }),
    );
    proxies.push(p);
    if (kind === 'http') {
      const answer = await viaProxy(p.port, target, { method: target.includes('readonly') ? 'POST' : 'GET' });
      expect(answer.status).toBe(status);
      expect(answer.headers[REASON_HEADER.toLowerCase()]).toBe(reason);
      expect(JSON.parse(answer.body.toString()).reason).toBe(reason);
    } else {
      const t = await connectVia(p.port, target);
      expect(t.status).toBe(status);
      expect(t.head.toLowerCase()).toContain(`${REASON_HEADER.toLowerCase()}: ${reason}`);
      expect(JSON.parse(t.body).reason).toBe(reason);
      t.socket.destroy();
    }
    expect(p.dialer.dials).toEqual([]);
  });

  it('a wildcard matches subdomains at any depth', async () => {
    const p = await proxyWith(
      { allow: [{ host: '*.wild.test', ports: [tcp.port] }] },
      { 'a.wild.test': loop(), 'b.c.wild.test': loop() },
    );
    for (const host of ['a.wild.test', 'b.c.wild.test']) {
      const t = await connectVia(p.port, `${host}:${tcp.port}`);
      expect(t.status).toBe(200);
      t.socket.destroy();
    }
  });
});

describe('egress proxy: SSRF and rebinding guard', () => {
  const targets: Array<[string, string[], string]> = [
    ['cloud metadata', ['169.254.169.254'], '169.254.169.254 is metadata'],
    ['private 10/8', ['10.1.2.3'], 'is private'],
    ['private 192.168/16', ['192.168.1.1'], 'is private'],
    ['CGNAT', ['100.64.0.1'], 'is cgnat'],
    ['link-local', ['169.254.1.1'], 'is link-local'],
    ['multicast', ['224.0.0.1'], 'is multicast'],
    ['unspecified', ['0.0.0.0'], 'is unspecified'],
    ['IPv6 loopback', ['::1'], 'is loopback'],
    ['IPv6 ULA', ['fd00::1'], 'is ula'],
    ['IPv6 link-local', ['fe80::1'], 'is link-local'],
    ['IPv4-mapped loopback', ['::ffff:127.0.0.1'], 'is ipv4-mapped'],
    ['IPv4-mapped metadata', ['::ffff:169.254.169.254'], 'is ipv4-mapped'],
    ['loopback (not allowed by this policy)', ['127.0.0.1'], 'is loopback'],
  ];
  it.each(targets)('a name resolving to %s is denied before any connection', async (_label, answers, detail) => {
    const p = await startProxy(
      { defaultPolicy: 'p', policies: { p: { allow: [{ host: 'inside.test', ports: [443, 80] }] } } },
      new TableResolver({ 'inside.test': answers }),
    );
    proxies.push(p);
    const t = await connectVia(p.port, 'inside.test:443');
    expect(t.status).toBe(403);
    expect(JSON.parse(t.body)).toMatchObject({ reason: 'address_denied' });
    expect(JSON.parse(t.body).detail).toContain(detail);
    t.socket.destroy();
    const h = await viaProxy(p.port, 'http://inside.test/');
    expect(h.status).toBe(403);
    expect(h.headers[REASON_HEADER.toLowerCase()]).toBe('address_denied');
    expect(p.dialer.dials).toEqual([]);
  });

  it('rebinding: the name is resolved once and the checked address is the one dialled', async () => {
    // First answer passes the guard (allowed CIDR); any later answer is the metadata address.
    const tcp = await startTcpUpstream('127.0.0.2');
    const p = await proxyWith(
      { allow: [{ host: 'rebind.test', ports: [tcp.port] }], allowCidrs: ['127.0.0.2/32'] },
      { 'rebind.test': (n) => (n === 1 ? ['127.0.0.2'] : ['169.254.169.254']) },
    );
    const t = await connectVia(p.port, `rebind.test:${tcp.port}`);
    expect(t.status).toBe(200);
    const data = body(4096);
    expect((await echo(t.socket, data)).equals(data)).toBe(true);
    t.socket.destroy();
    expect(p.resolver.calls.get('rebind.test')).toBe(1);
    expect(p.dialer.dials).toEqual([`127.0.0.2:${tcp.port}`]);
    // The next request resolves again, gets the private answer, and is refused without dialling.
    const again = await connectVia(p.port, `rebind.test:${tcp.port}`);
    expect(again.status).toBe(403);
    again.socket.destroy();
    expect(p.dialer.dials).toHaveLength(1);
    await closeServer(tcp.server);
  });

  it('mixed answers: private entries are skipped and only the passing address is dialled', async () => {
    const http = await startHttpUpstream('127.0.0.3');
    const p = await proxyWith(
      { allow: [{ host: 'mixed.test', ports: [http.port] }], allowCidrs: ['127.0.0.3/32'] },
      { 'mixed.test': ['169.254.169.254', '10.0.0.1', '127.0.0.3'] },
    );
    const a = await viaProxy(p.port, `http://mixed.test:${http.port}/bytes/10`);
    expect(a.status).toBe(200);
    expect(p.dialer.dials).toEqual([`127.0.0.3:${http.port}`]);
    await closeServer(http.server);
  });

  it('an IP literal inside an allowed CIDR is let through; outside it is refused', async () => {
    const p = await proxyWith({ allowCidrs: [{ cidr: '127.0.0.1/32', ports: [tcp.port] }] });
    const ok = await connectVia(p.port, `127.0.0.1:${tcp.port}`);
    expect(ok.status).toBe(200);
    ok.socket.destroy();
    const refused = await connectVia(p.port, `127.0.0.2:${tcp.port}`);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).reason).toBe('ip_literal_not_allowed');
    refused.socket.destroy();
    expect(p.dialer.dials).toEqual([`127.0.0.1:${tcp.port}`]);
  });

  it('numeric host forms that getaddrinfo would read as loopback are not names', async () => {
    const p = await proxyWith({ allow: ['*.test'] });
    for (const host of ['127.1', '2130706433', '0x7f.0.0.1']) {
      const t = await connectVia(p.port, `${host}:443`);
      expect(t.status, host).toBeGreaterThanOrEqual(400);
      t.socket.destroy();
    }
    expect(p.dialer.dials).toEqual([]);
  });

  it('--resolve pins are still guarded: a pin to the metadata address is refused', async () => {
    const p = await startProxy({
      resolve: { 'pinned.test': '169.254.169.254' },
      defaultPolicy: 'p',
      policies: { p: { allow: ['pinned.test'] } },
    });
    proxies.push(p);
    const t = await connectVia(p.port, 'pinned.test:443');
    expect(t.status).toBe(403);
    expect(JSON.parse(t.body).detail).toContain('metadata');
    t.socket.destroy();
    expect(p.dialer.dials).toEqual([]);
  });
});

describe('egress proxy: report mode, logs and admin', () => {
  it('report mode lets a would-be denial through and logs it as "report"; the guard still applies', async () => {
    const p = await proxyWith(
      { mode: 'report', allow: ['other.test'] },
      { 'unlisted.test': loop(), 'meta.test': ['169.254.169.254'] },
    );
    const a = await viaProxy(p.port, `http://unlisted.test:${http.port}/bytes/64`);
    expect(a.status).toBe(200);
    expect(a.body.equals(body(64))).toBe(true);
    const m = await viaProxy(p.port, 'http://meta.test/');
    expect(m.status).toBe(403);
    await new Promise((r) => setTimeout(r, 50));
    const [first, second] = p.log.access;
    expect(first).toMatchObject({ decision: 'report', reason: 'host_not_allowed', host: 'unlisted.test', status: 200 });
    expect(second).toMatchObject({ decision: 'deny', reason: 'address_denied', host: 'meta.test', status: 403 });
  });

  it('one JSON line per request and per tunnel, with identity, address, bytes and duration', async () => {
    const p = await proxyWith({ allow: [{ host: 'api.test', ports: [http.port, tcp.port] }] }, { 'api.test': loop() });
    await viaProxy(p.port, `http://api.test:${http.port}/bytes/5000`);
    const t = await connectVia(p.port, `api.test:${tcp.port}`);
    await echo(t.socket, body(777));
    t.socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const [h, c] = p.log.access;
    expect(h).toMatchObject({
      type: 'http',
      src: '127.0.0.1',
      client: '-',
      policy: 'p',
      method: 'GET',
      host: 'api.test',
      port: http.port,
      address: '127.0.0.1',
      decision: 'allow',
      reason: 'host_allowed',
      status: 200,
      bytesUp: 0,
      bytesDown: 5000,
    });
    expect(c).toMatchObject({ type: 'connect', method: 'CONNECT', status: 200, bytesUp: 777, bytesDown: 777 });
    for (const line of [h!, c!]) {
      expect(Number.isNaN(Date.parse(line.time))).toBe(false);
      expect(line.durationMs).toBeGreaterThan(0);
    }
  });

  it('admin listener serves /healthz and Prometheus /metrics with decision counters', async () => {
    const p = await proxyWith({ allow: [] }, {});
    await viaProxy(p.port, 'http://denied.test/');
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${p.admin}${path}`);
      return { status: res.status, text: await res.text() };
    };
    expect(await get('/healthz')).toEqual({ status: 200, text: 'ok\n' });
    const metrics = await get('/metrics');
    expect(metrics.text).toContain(
      'palisade_egress_requests_total{type="http",decision="deny",reason="host_not_allowed"} 1',
    );
    expect(metrics.text).toMatch(/# TYPE palisade_egress_open_tunnels gauge\npalisade_egress_open_tunnels 0/);
  });
});

describe('egress proxy: SNI check against domain fronting', () => {
  it('forwards a ClientHello whose SNI is the CONNECT host and cuts one that names another host', async () => {
    const received: Buffer[] = [];
    const upstream = createServer((s) => {
      s.on('data', (d: Buffer) => received.push(d));
      s.on('error', () => {});
    });
    const port = await listenOn(upstream);
    const p = await proxyWith({ checkSni: true, allow: [{ host: 'api.test', ports: [port] }] }, { 'api.test': loop() });
    // Waits on conditions rather than fixed sleeps, so a loaded machine cannot turn the timing into a failure.
    const attempt = async (servername: string, expectCut: boolean) => {
      const t = await connectVia(p.port, `api.test:${port}`);
      expect(t.status).toBe(200);
      const tls = tlsConnect({ socket: t.socket, servername });
      tls.on('error', () => {});
      const closed = () => t.socket.destroyed || t.socket.readableEnded;
      if (expectCut) await waitFor(closed, 5000, 'the proxy to cut the tunnel');
      else await waitFor(() => received.length > 0, 5000, 'the ClientHello to reach upstream');
      const result = closed();
      tls.destroy();
      return result;
    };
    expect(await attempt('front.test', true)).toBe(true);
    expect(received).toHaveLength(0);
    expect(await attempt('api.test', false)).toBe(false);
    expect(readSni(Buffer.concat(received))).toEqual({ kind: 'name', name: 'api.test' });
    await waitFor(() => p.log.access.length === 2, 5000, 'both tunnels to be logged');
    expect(p.log.access.map((l) => l.reason)).toEqual(['sni_mismatch', 'host_allowed']);
    expect(p.log.access[0]!.decision).toBe('deny');
    upstream.close();
  });
});
