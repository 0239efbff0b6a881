import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { Entry, endThenDestroy, rawResponse, statusFor } from './answers.js';
import type { EgressConfig, Limits, Policy } from './config.js';
import { UpstreamPool } from './http1/pool.js';
import { ClientConnection, type RelayHost } from './http1/relay.js';
import {
  CachingResolver,
  DialError,
  type Dialer,
  PinnedResolver,
  type Resolver,
  resolveAndGuard,
  systemResolver,
  tcpDialer,
} from './net.js';
import { type LogSink, Metrics, nullLog } from './observe.js';
import { type ClientFacts, type Decision, decideTarget, identify, type RequestKind } from './policy.js';
import { MAX_CLIENT_HELLO, readSni } from './sni.js';
import { parseAuthority, type Target } from './target.js';
import { TokenVerifier } from './tokens.js';

export { REASON_HEADER } from './answers.js';

const BYTES_UP = 'palisade_egress_bytes_total{direction="up"}';
const BYTES_DOWN = 'palisade_egress_bytes_total{direction="down"}';
const ESTABLISHED = Buffer.from('HTTP/1.1 200 Connection Established\r\n\r\n', 'latin1');

export interface ProxyOptions {
  config: EgressConfig;
  /** Defaults to the system resolver; the config's `resolve` pins always sit in front of it. */
  resolver?: Resolver;
  /** Defaults to plain TCP. */
  dialer?: Dialer;
  log?: LogSink;
}

/**
 * Read buffers for the upstream side of tunnels, reused once the client socket has taken their bytes. Reusing
 * warm buffers instead of allocating one per read cuts the proxy's CPU per tunnelled byte (no fresh pages to
 * fault in, less GC). Two sizes: every tunnel holds a 64 KiB buffer for its next read, and one whose last read
 * filled its buffer (a bulk transfer) reads into 256 KiB ones, a quarter of the syscalls per byte; idle tunnels
 * never hold the large size. Only free buffers are kept, and only a bounded number of each.
 */
class BufferPool {
  private readonly small: Buffer[] = [];
  private readonly large: Buffer[] = [];
  static readonly SMALL = 64 * 1024;
  static readonly LARGE = 256 * 1024;
  get(bulk: boolean): Buffer {
    return bulk
      ? (this.large.pop() ?? Buffer.allocUnsafe(BufferPool.LARGE))
      : (this.small.pop() ?? Buffer.allocUnsafe(BufferPool.SMALL));
  }
  release(buf: Buffer): void {
    const free = buf.length === BufferPool.LARGE ? this.large : this.small;
    if (free.length < (free === this.large ? 32 : 128)) free.push(buf);
  }
}

interface Tunnel {
  client: Duplex;
  upstream: Socket | null;
}

/**
 * The forward proxy: absolute-form HTTP/1.1 requests and CONNECT tunnels, each decided by the client's policy
 * and the SSRF guard before any upstream connection is made. `reload` swaps the config for new requests only;
 * open tunnels and in-flight requests keep the decision they were given.
 */
export class EgressProxy implements RelayHost {
  private config: EgressConfig;
  private resolver: Resolver;
  private readonly baseResolver: Resolver;
  private readonly dialer: Dialer;
  private readonly log: LogSink;
  readonly metrics = new Metrics();
  private readonly tokens = new TokenVerifier();
  private readonly server: Server;
  private admin: HttpServer | null = null;
  readonly pool: UpstreamPool;
  private readonly tunnels = new Set<Tunnel>();
  private readonly buffers = new BufferPool();
  /** Client connections reading or relaying plain HTTP (tunnels leave this set). */
  private readonly clients = new Set<ClientConnection>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly seriesKeys = new Map<string, string>();
  private connections = 0;
  inFlight = 0;
  draining = false;

  constructor(options: ProxyOptions) {
    this.config = options.config;
    this.baseResolver = options.resolver ?? new CachingResolver(systemResolver);
    this.resolver = new PinnedResolver(this.config.pins, this.baseResolver);
    this.dialer = options.dialer ?? tcpDialer;
    this.log = options.log ?? nullLog;
    this.pool = new UpstreamPool();
    const limits = this.config.limits;
    const accept = (socket: Socket): void => {
      socket.setNoDelay(true);
      this.clients.add(new ClientConnection(socket, this));
    };
    // Half-open clients (request sent, then FIN) still get their answer: the relay closes when it is done.
    const tls = this.config.tls;
    this.server = tls
      ? createTlsServer(
          {
            allowHalfOpen: true,
            cert: tls.cert,
            key: tls.key,
            ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true } : {}),
            // Unverified certificates are not refused at the handshake: they just do not count as an identity.
            rejectUnauthorized: false,
            handshakeTimeout: limits.headerTimeoutMs,
          },
          accept,
        )
      : createServer({ allowHalfOpen: true, noDelay: true }, accept);
    this.server.maxConnections = limits.maxConnections;
    this.server.on('connection', (socket: Socket) => {
      this.connections++;
      socket.once('close', () => this.connections--);
    });
    if (tls) this.server.on('tlsClientError', (_err, socket: Duplex) => socket.destroy());

    this.metrics.gauge('palisade_egress_open_connections', 'Client connections open', () => this.connections);
    this.metrics.gauge('palisade_egress_open_tunnels', 'CONNECT tunnels open', () => this.tunnels.size);
    this.metrics.gauge('palisade_egress_inflight_requests', 'Plain HTTP requests in flight', () => this.inFlight);
  }

  get limits(): Limits {
    return this.config.limits;
  }

  forget(conn: ClientConnection): void {
    this.clients.delete(conn);
  }

  clientError(reason: string): void {
    this.metrics.inc('palisade_egress_client_errors_total', { code: reason });
  }

  dial(address: string, port: number): Promise<Socket> {
    return this.dialer.dial(address, port, this.config.limits.connectTimeoutMs);
  }

  /** Cuts connections whose request head is overdue (slowloris, silent clients): one timer for all of them. */
  private sweep = (): void => {
    const now = Date.now();
    for (const c of this.clients) if (c.headDeadline !== 0 && c.headDeadline < now) c.headerTimeout();
  };

  /** Starts the proxy (and the admin listener when configured). */
  async listen(): Promise<{ proxy: AddressInfo; admin: AddressInfo | null }> {
    const { listen, admin } = this.config;
    const every = Math.max(50, Math.min(1000, Math.floor(this.config.limits.headerTimeoutMs / 4)));
    this.sweeper = setInterval(this.sweep, every);
    this.sweeper.unref();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      // A deep accept queue: bursts of new connections should wait in the kernel, not be dropped.
      this.server.listen({ port: listen.port, host: listen.host, backlog: 4096 }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    let adminAddress: AddressInfo | null = null;
    if (admin) {
      const server = createHttpServer((req, res) => this.handleAdmin(req, res));
      this.admin = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(admin.port, admin.host, () => resolve());
      });
      adminAddress = server.address() as AddressInfo;
    }
    this.log.write({ time: new Date().toISOString(), event: 'start', ok: true, message: 'listening' });
    return { proxy: this.server.address() as AddressInfo, admin: adminAddress };
  }

  /**
   * Applies a new, already validated config to new requests. Listener settings (address, TLS, header limits)
   * need a restart; the returned note says so when they changed.
   */
  reload(config: EgressConfig): string {
    const old = this.config;
    this.config = config;
    this.resolver = new PinnedResolver(config.pins, this.baseResolver);
    this.server.maxConnections = config.limits.maxConnections;
    const needRestart =
      old.listen.host !== config.listen.host ||
      old.listen.port !== config.listen.port ||
      (old.tls === null) !== (config.tls === null) ||
      old.limits.maxHeaderBytes !== config.limits.maxHeaderBytes;
    const note = needRestart ? 'policies reloaded; listener settings changed and need a restart' : 'policies reloaded';
    this.metrics.inc('palisade_egress_config_reloads_total', { result: 'ok' });
    this.log.write({ time: new Date().toISOString(), event: 'config_reload', ok: true, message: note });
    return note;
  }

  /** Records a refused reload: the old config stays. */
  reloadFailed(message: string): void {
    this.metrics.inc('palisade_egress_config_reloads_total', { result: 'error' });
    this.log.write({
      time: new Date().toISOString(),
      event: 'config_reload',
      ok: false,
      message: `new config refused, previous config kept: ${message}`,
    });
  }

  get stats(): { connections: number; tunnels: number; inFlight: number } {
    return { connections: this.connections, tunnels: this.tunnels.size, inFlight: this.inFlight };
  }

  /**
   * Graceful drain: stop accepting, let open tunnels and requests finish (idle keep-alive connections close
   * at once), and cut whatever is left after `drainTimeoutMs`.
   */
  async close(drainTimeoutMs = this.config.limits.drainTimeoutMs): Promise<void> {
    this.draining = true;
    this.log.write({ time: new Date().toISOString(), event: 'drain', ok: true, message: 'draining' });
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const closeIdle = (): void => {
      for (const c of this.clients) if (c.idle) c.socket.destroy();
    };
    closeIdle();
    const deadline = Date.now() + drainTimeoutMs;
    while ((this.tunnels.size > 0 || this.inFlight > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      closeIdle();
    }
    for (const t of this.tunnels) {
      t.client.destroy();
      t.upstream?.destroy();
    }
    for (const c of this.clients) c.socket.destroy();
    clearInterval(this.sweeper);
    await closed;
    // Destroyed sockets report 'close' a tick later; resolve only once the books are balanced.
    for (let i = 0; i < 100 && (this.tunnels.size > 0 || this.connections > 0); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    this.pool.destroy();
    if (this.admin) {
      const admin = this.admin;
      admin.closeAllConnections();
      await new Promise<void>((resolve) => admin.close(() => resolve()));
    }
  }

  private handleAdmin(req: IncomingMessage, res: ServerResponse): void {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      res.end(this.metrics.render());
    } else if (req.url === '/healthz') {
      res.writeHead(this.draining ? 503 : 200, { 'Content-Type': 'text/plain' });
      res.end(this.draining ? 'draining\n' : 'ok\n');
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
    }
  }

  facts(socket: Socket | Duplex, authorization: string | undefined): ClientFacts {
    const s = socket as TLSSocket;
    let certNames: string[] | null = null;
    if (this.config.tls && s.authorized) {
      const cert = s.getPeerCertificate();
      certNames = [];
      if (cert.subject?.CN) certNames.push(...[cert.subject.CN].flat());
      for (const part of (cert.subjectaltname ?? '').split(',')) {
        const m = /^\s*(DNS|URI):(.+)$/.exec(part);
        if (m) certNames.push(m[2]!.trim());
      }
    }
    return { remoteAddress: s.remoteAddress ?? '', certNames, proxyAuthorization: authorization };
  }

  finish(entry: Entry): void {
    const line = entry.line;
    line.durationMs = Math.round((performance.now() - entry.started) * 1000) / 1000;
    // Series keys by (type, decision, reason): a handful of distinct values, built once each.
    const id = `${line.type} ${line.decision} ${line.reason}`;
    let key = this.seriesKeys.get(id);
    if (key === undefined) {
      key = this.metrics.key('palisade_egress_requests_total', {
        type: line.type,
        decision: line.decision,
        reason: line.reason,
      });
      this.seriesKeys.set(id, key);
    }
    this.metrics.add(key);
    if (line.bytesUp) this.metrics.add(BYTES_UP, line.bytesUp);
    if (line.bytesDown) this.metrics.add(BYTES_DOWN, line.bytesDown);
    this.log.write(line);
  }

  /**
   * Identity, allowlist, then the SSRF guard: returns the one address to connect to, or the status and decision
   * for a refusal. Report mode lets allowlist denials through (logged as "report"); identity and guard
   * refusals are always enforced.
   */
  authorise(
    target: Target,
    method: string,
    facts: ClientFacts,
    entry: Entry,
  ): Promise<{ address: string; policy: Policy } | { status: number; decision: Decision }> {
    return this.decide('http', target, method, facts, entry);
  }

  private async decide(
    kind: RequestKind,
    target: Target,
    method: string,
    facts: ClientFacts,
    entry: Entry,
  ): Promise<{ address: string; policy: Policy } | { status: number; decision: Decision }> {
    const config = this.config;
    const who = await identify(config, facts, this.tokens);
    if (!who.ok) return { status: who.status, decision: who.decision };
    entry.line.client = who.client;
    entry.line.policy = who.policy.name;
    const policy = who.policy;
    const decision = decideTarget(policy, kind, target, method);
    if (!decision.allow && policy.mode === 'enforce') return { status: 403, decision };
    let address = target.host;
    if (target.ipFamily === 0) {
      const guarded = await resolveAndGuard(policy, this.resolver, target.host, config.limits.connectTimeoutMs);
      if ('decision' in guarded) return { status: statusFor(guarded.decision.reason), decision: guarded.decision };
      address = guarded.address;
    } else if (!policy.allowedAddresses.has(address)) {
      // Report mode must not open a path to an IP literal that no CIDR allows.
      return { status: 403, decision };
    }
    entry.decide(decision, policy.mode);
    entry.line.address = address;
    return { address, policy };
  }

  connect(socket: Socket, authority: string, proxyAuthorization: string | undefined, rest: Buffer): void {
    void this.handleConnect(socket, authority, proxyAuthorization, rest);
  }

  private async handleConnect(
    client: Socket,
    authority: string,
    proxyAuthorization: string | undefined,
    head: Buffer,
  ): Promise<void> {
    const entry = new Entry('connect', client.remoteAddress ?? '', 'CONNECT');
    const tunnel: Tunnel = { client, upstream: null };
    this.tunnels.add(tunnel);
    let closedClient = false;
    client.on('error', () => client.destroy());
    client.once('close', () => {
      closedClient = true;
      if (!tunnel.upstream) {
        this.tunnels.delete(tunnel);
        if (entry.line.status === 0) entry.line.status = 499;
        this.finish(entry);
      }
    });
    // The idle timeout set when the connection was accepted (relay.ts) keeps running for the tunnel.
    const refuse = (status: number, decision: Decision): void => {
      entry.decide(decision);
      entry.line.status = status;
      endThenDestroy(client, rawResponse(status, decision));
    };

    const target = parseAuthority(authority);
    if (!target) {
      refuse(400, { allow: false, reason: 'bad_connect_target', detail: 'expected CONNECT host:port' });
      return;
    }
    entry.line.host = target.host;
    entry.line.port = target.port;
    let result: Awaited<ReturnType<EgressProxy['authorise']>>;
    try {
      result = await this.decide('connect', target, 'CONNECT', this.facts(client, proxyAuthorization), entry);
    } catch (err) {
      refuse(502, { allow: false, reason: 'internal_error', detail: (err as Error).message });
      return;
    }
    if ('status' in result) {
      refuse(result.status, result.decision);
      return;
    }
    // Upstream bytes are read into pooled buffers and handed to `toClient`; anything that arrives before the
    // tunnel is ready (the upstream spoke first, or the SNI check is still reading) is copied aside.
    const pool = this.buffers;
    let toClient: ((buf: Buffer, n: number) => boolean) | null = null;
    const early: Buffer[] = [];
    // The socket always holds one buffer for its next read; it goes back to the pool when the socket closes,
    // or every new tunnel would allocate (and the collector later free) a fresh 64 KiB.
    let held: Buffer | null = null;
    let bulk = false;
    const onread = {
      buffer: (): Buffer => {
        held = pool.get(bulk);
        return held;
      },
      callback: (n: number, buf: Uint8Array): boolean => {
        bulk = n === buf.length;
        if (toClient) return toClient(buf as Buffer, n);
        early.push(Buffer.from(buf.subarray(0, n)));
        pool.release(buf as Buffer);
        return true;
      },
    };
    let upstream: Socket;
    try {
      upstream = await this.dialer.dial(result.address, target.port, this.config.limits.connectTimeoutMs, onread);
    } catch (err) {
      const reason = err instanceof DialError ? err.reason : 'upstream_connect_failed';
      if (!closedClient) refuse(statusFor(reason), { allow: false, reason, detail: (err as Error).message });
      return;
    }
    if (closedClient) {
      upstream.destroy();
      return;
    }
    tunnel.upstream = upstream;
    entry.line.status = 200;
    let upstreamClosed = false;
    const done = (): void => {
      if (!closedClient || !upstreamClosed) return;
      this.tunnels.delete(tunnel);
      entry.line.bytesUp = upstream.bytesWritten;
      entry.line.bytesDown = upstream.bytesRead;
      this.finish(entry);
    };
    client.once('close', () => {
      // The client is gone: let what it sent reach upstream, then close.
      if (!upstream.destroyed) upstream.end(() => upstream.destroy());
      done();
    });
    upstream.once('close', () => {
      upstreamClosed = true;
      if (held !== null) pool.release(held);
      held = null;
      if (!client.destroyed) client.end(() => client.destroy());
      done();
    });
    upstream.on('error', () => upstream.destroy());
    upstream.setTimeout(this.config.limits.idleTimeoutMs, () => upstream.destroy());
    client.write(ESTABLISHED);

    let first = head;
    if (result.policy.checkSni) {
      const peeked = await this.peekSni(client, head);
      if (peeked === null) return; // client went away
      first = peeked.buffer;
      const sni = peeked.name;
      if (sni !== target.host) {
        entry.decide({
          allow: false,
          reason: sni === null ? 'sni_missing' : 'sni_mismatch',
          detail: `TLS server name ${sni ?? '(none)'} differs from CONNECT host ${target.host}`,
        });
        client.destroy();
        upstream.destroy();
        return;
      }
    }
    if (first.length > 0) upstream.write(first);
    // Client to upstream: plain forwarding with backpressure (what pipe() does, without its bookkeeping).
    const resumeClient = (): void => {
      client.resume();
    };
    client.on('data', (chunk: Buffer) => {
      if (!upstream.write(chunk)) {
        client.pause();
        upstream.once('drain', resumeClient);
      }
    });
    client.once('end', () => upstream.end());
    client.resume();
    for (const chunk of early) client.write(chunk);
    const resume = (): void => {
      upstream.resume();
    };
    toClient = (buf, n) => {
      // The buffer goes back to the pool only when the client socket is done with it.
      if (client.write(buf.subarray(0, n), () => pool.release(buf))) return true;
      client.once('drain', resume);
      return false;
    };
    upstream.once('end', () => client.end());
  }

  /** Reads the first TLS record from the client (bounded in size and time) and returns it with its SNI. */
  private peekSni(client: Socket, head: Buffer): Promise<{ buffer: Buffer; name: string | null } | null> {
    return new Promise((resolve) => {
      let buffer = head;
      const settle = (value: { buffer: Buffer; name: string | null } | null): void => {
        clearTimeout(timer);
        client.off('data', onData);
        client.off('close', onClose);
        client.pause();
        resolve(value);
      };
      const check = (): boolean => {
        const r = readSni(buffer);
        if (r.kind === 'need' && buffer.length < MAX_CLIENT_HELLO) return false;
        settle({ buffer, name: r.kind === 'name' ? r.name : null });
        return true;
      };
      const onData = (chunk: Buffer): void => {
        buffer = Buffer.concat([buffer, chunk]);
        check();
      };
      const onClose = (): void => settle(null);
      const timer = setTimeout(() => settle({ buffer, name: null }), this.config.limits.headerTimeoutMs);
      if (check()) return;
      client.on('data', onData);
      client.once('close', onClose);
      client.resume(); // the relay paused the socket when it handed the tunnel over
    });
  }
}
