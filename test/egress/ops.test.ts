import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REASON_HEADER } from '../../src/egress/index.js';
import {
  body,
  closeServer,
  connectVia,
  echo,
  listenOn,
  startProxy,
  startTcpUpstream,
  TableResolver,
  viaProxy,
  waitFor,
} from './helpers.js';

let tcp: Awaited<ReturnType<typeof startTcpUpstream>>;
beforeAll(async () => {
  tcp = await startTcpUpstream();
});
afterAll(async () => {
  await closeServer(tcp.server);
});

const policy = (ports: number[]) => ({
  defaultPolicy: 'p',
  policies: { p: { allow: [{ host: 'api.test', ports }], allowCidrs: ['127.0.0.0/8'] } },
});

describe('egress operations', () => {
  it('an idle tunnel is closed after idleTimeoutMs and logged with its bytes', async () => {
    const p = await startProxy(
      { limits: { idleTimeoutMs: 300 }, ...policy([tcp.port]) },
      new TableResolver({ 'api.test': ['127.0.0.1'] }),
    );
    const t = await connectVia(p.port, `api.test:${tcp.port}`);
    await echo(t.socket, body(10));
    const started = Date.now();
    await new Promise<void>((r) => t.socket.once('close', () => r()));
    expect(Date.now() - started).toBeLessThan(3000);
    await waitFor(() => p.log.access.length === 1, 2000, 'log line');
    expect(p.log.access[0]).toMatchObject({ type: 'connect', bytesUp: 10, bytesDown: 10 });
    await p.close();
  });

  it('an upstream that refuses the connection gives 502 upstream_connect_failed (HTTP and CONNECT)', async () => {
    const closed = createServer();
    const port = await listenOn(closed);
    await new Promise((r) => closed.close(r));
    const p = await startProxy(policy([port]), new TableResolver({ 'api.test': ['127.0.0.1'] }));
    const h = await viaProxy(p.port, `http://api.test:${port}/`);
    expect(h.status).toBe(502);
    expect(h.headers[REASON_HEADER.toLowerCase()]).toBe('upstream_connect_failed');
    const c = await connectVia(p.port, `api.test:${port}`);
    expect(c.status).toBe(502);
    expect(JSON.parse(c.body).reason).toBe('upstream_connect_failed');
    c.socket.destroy();
    await p.close();
  });

  it('drain: /healthz turns 503, the open tunnel keeps working, and is cut at the drain deadline', async () => {
    const p = await startProxy(
      { admin: '127.0.0.1:0', ...policy([tcp.port]) },
      new TableResolver({ 'api.test': ['127.0.0.1'] }),
    );
    const t = await connectVia(p.port, `api.test:${tcp.port}`);
    const closing = p.proxy.close(1500);
    const health = await fetch(`http://127.0.0.1:${p.admin}/healthz`);
    expect(health.status).toBe(503);
    const data = body(50_000);
    expect((await echo(t.socket, data)).equals(data)).toBe(true);
    const started = Date.now();
    await new Promise<void>((r) => t.socket.once('close', () => r()));
    expect(Date.now() - started).toBeGreaterThan(500);
    await closing;
    expect(p.proxy.stats).toEqual({ connections: 0, tunnels: 0, inFlight: 0 });
  });

  it('drain ends early once the last tunnel closes by itself', async () => {
    const p = await startProxy(policy([tcp.port]), new TableResolver({ 'api.test': ['127.0.0.1'] }));
    const t = await connectVia(p.port, `api.test:${tcp.port}`);
    const started = Date.now();
    const closing = p.proxy.close(30_000);
    setTimeout(() => t.socket.destroy(), 200);
    await closing;
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
