import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createServer as createHttpServer, request, type Server } from 'node:http';
import {
  type AddressInfo,
  connect,
  createServer as createNetServer,
  type Server as NetServer,
  type OnReadOpts,
  type Socket,
} from 'node:net';
import { tmpdir } from 'node:os';
import {
  compileConfig,
  type Dialer,
  EgressProxy,
  type LogSink,
  type Resolver,
  tcpDialer,
} from '../../src/egress/index.js';
import type { AccessLogEntry, EventLogEntry } from '../../src/egress/observe.js';

/** A deterministic body of `size` bytes, so that what arrives can be compared byte for byte. */
export function body(size: number, seed = 'palisade'): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(seed).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

export function listenOn<T extends Server | NetServer>(server: T, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve) => server.listen(0, host, () => resolve((server.address() as AddressInfo).port)));
}

/** Upstream HTTP server: GET /bytes/N answers N deterministic bytes; anything else echoes method, url, headers, body. */
export async function startHttpUpstream(
  host = '127.0.0.1',
): Promise<{ port: number; server: Server; hits: () => number }> {
  let hits = 0;
  const server = createHttpServer((req, res) => {
    hits++;
    const m = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
    if (m) {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'X-Upstream': 'yes' });
      res.end(body(Number(m[1])));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('base64'),
        }),
      );
    });
  });
  server.keepAliveTimeout = 60_000;
  return { port: await listenOn(server, host), server, hits: () => hits };
}

/** Upstream TCP server for tunnels: echoes every byte back, or (when the first line is "GET n") sends n bytes. */
export async function startTcpUpstream(
  host = '127.0.0.1',
): Promise<{ port: number; server: NetServer; accepted: () => number }> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server = createNetServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    s.pipe(s);
  });
  const close = server.close.bind(server);
  server.close = (cb?: (err?: Error) => void) => {
    for (const s of sockets) s.destroy();
    return close(cb);
  };
  return { port: await listenOn(server, host), server, accepted: () => accepted };
}

/** A resolver from a table; counts lookups per name. A function entry can answer differently each time. */
export class TableResolver implements Resolver {
  readonly calls = new Map<string, number>();
  constructor(private readonly table: Record<string, string[] | ((n: number) => string[])>) {}
  async resolve(host: string): Promise<string[]> {
    const n = (this.calls.get(host) ?? 0) + 1;
    this.calls.set(host, n);
    const entry = this.table[host];
    if (!entry) throw new Error(`ENOTFOUND ${host}`);
    return typeof entry === 'function' ? entry(n) : entry;
  }
}

/**
 * The dialer every test uses: it records each dial and refuses (and records as a violation) any address off
 * loopback, so that no packet can leave the machine and the test fails on any attempt.
 */
export class LoopbackDialer implements Dialer {
  readonly dials: string[] = [];
  readonly violations: string[] = [];
  dial(address: string, port: number, timeoutMs: number, onread?: OnReadOpts): Promise<Socket> {
    this.dials.push(`${address}:${port}`);
    if (!(address.startsWith('127.') || address === '::1')) {
      this.violations.push(address);
      return Promise.reject(new Error(`test dialer: refused non-loopback ${address}`));
    }
    return tcpDialer.dial(address, port, timeoutMs, onread);
  }
}

export class MemoryLog implements LogSink {
  readonly lines: Array<AccessLogEntry | EventLogEntry> = [];
  write(entry: AccessLogEntry | EventLogEntry): void {
    this.lines.push(JSON.parse(JSON.stringify(entry)));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  get access(): AccessLogEntry[] {
    return this.lines.filter((l): l is AccessLogEntry => 'type' in l);
  }
}

export interface TestProxy {
  proxy: EgressProxy;
  port: number;
  admin: number | null;
  dialer: LoopbackDialer;
  resolver: TableResolver;
  log: MemoryLog;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port with a raw config object (same schema as the YAML). */
export async function startProxy(raw: Record<string, unknown>, resolver = new TableResolver({})): Promise<TestProxy> {
  const config = compileConfig({ listen: '127.0.0.1:0', ...raw }, tmpdir());
  const dialer = new LoopbackDialer();
  const log = new MemoryLog();
  const proxy = new EgressProxy({ config, resolver, dialer, log });
  const { proxy: addr, admin } = await proxy.listen();
  return { proxy, port: addr.port, admin: admin?.port ?? null, dialer, resolver, log, close: () => proxy.close(2000) };
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Sends an absolute-form request to the proxy. */
export function viaProxy(
  proxyPort: number,
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer; localAddress?: string } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request({
      host: '127.0.0.1',
      port: proxyPort,
      method: opts.method ?? 'GET',
      path: url,
      headers: { Host: u.host, ...opts.headers },
      localAddress: opts.localAddress,
      agent: false,
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Opens a CONNECT tunnel; resolves with the status line's code, the raw head and the socket (for 200). */
export function connectVia(
  proxyPort: number,
  authority: string,
  opts: { headers?: Record<string, string>; localAddress?: string } = {},
): Promise<{ status: number; head: string; body: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: proxyPort, localAddress: opts.localAddress });
    const extra = Object.entries(opts.headers ?? {})
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${extra}\r\n`);
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = buf.subarray(0, end).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      if (status === 200) {
        socket.off('data', onData);
        socket.pause(); // callers attach their own listener (echo() resumes); nothing may flow unseen meanwhile
        const rest = buf.subarray(end + 4);
        if (rest.length) socket.unshift(rest);
        resolve({ status, head, body: '', socket });
        return;
      }
      const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length >= end + 4 + len) {
        socket.off('data', onData);
        resolve({ status, head, body: buf.subarray(end + 4, end + 4 + len).toString('utf8'), socket });
      }
    };
    socket.on('data', onData);
    socket.on('error', reject);
  });
}

/** Writes `data` into a tunnel and reads exactly as many bytes back (the TCP upstream echoes). */
export function echo(socket: Socket, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (c: Buffer): void => {
      chunks.push(c);
      got += c.length;
      if (got >= data.length) {
        socket.off('data', onData);
        socket.off('close', onClose);
        resolve(Buffer.concat(chunks));
      }
    };
    const onClose = (): void => reject(new Error(`tunnel closed after ${got} of ${data.length} bytes`));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.resume();
    socket.write(data);
  });
}

export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** The soft limit on open files of this process, from /proc/self/limits. */
export async function fdLimit(): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile('/proc/self/limits', 'utf8');
  const m = /Max open files\s+(\d+|unlimited)/.exec(text);
  return m?.[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m?.[1] ?? 0);
}

export function closeServer(server: Server | NetServer): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function waitFor(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
