import {
  Agent,
  type ClientRequestArgs,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { EgressConfig, Policy } from './config.js';
import {
  DialError,
  type Dialer,
  PinnedResolver,
  type Resolver,
  resolveAndGuard,
  systemResolver,
  tcpDialer,
} from './net.js';
import { type AccessLogEntry, type LogSink, Metrics, nullLog } from './observe.js';
import { type ClientFacts, type Decision, decideTarget, identify, type RequestKind } from './policy.js';
import { MAX_CLIENT_HELLO, readSni } from './sni.js';
import { parseAbsoluteUrl, parseAuthority, type Target } from './target.js';
import { TokenVerifier } from './tokens.js';

export interface ProxyOptions {
  config: EgressConfig;
  /** Defaults to the system resolver; the config's `resolve` pins always sit in front of it. */
  resolver?: Resolver;
  /** Defaults to plain TCP. */
  dialer?: Dialer;
  log?: LogSink;
}

/** Headers that describe one hop, never forwarded (RFC 9110 §7.6.1), plus our own credentials. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function forwardable(raw: readonly string[], extraSkip: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || extraSkip.has(name)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/** Names listed in Connection: are hop-by-hop too. */
function connectionTokens(value: string | undefined): Set<string> {
  return new Set(
    (value ?? '')
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export const REASON_HEADER = 'X-Palisade-Reason';

function denialHeadersAndBody(status: number, decision: Decision): { headers: Record<string, string>; body: string } {
  const body = JSON.stringify({
    error: STATUS_TEXT[status] ?? 'error',
    reason: decision.reason,
    detail: decision.detail,
  });
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    [REASON_HEADER]: decision.reason,
  };
  if (status === 407) headers['Proxy-Authenticate'] = 'Basic realm="palisade", Bearer realm="palisade"';
  return { headers, body };
}

function rawResponse(status: number, decision: Decision): string {
  const { headers, body } = denialHeadersAndBody(status, decision);
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  return `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n${lines.join('\r\n')}\r\nConnection: close\r\n\r\n${body}`;
}

/** Sends a last answer and closes; the client may keep its half open, so do not wait for it (fd reclaim). */
function endThenDestroy(socket: Duplex, data: string): void {
  socket.end(data, () => socket.destroy());
}

/** The HTTP status for a denial reason. */
function statusFor(reason: string): number {
  if (reason === 'upstream_connect_timeout' || reason === 'resolve_timeout') return 504;
  if (reason === 'upstream_connect_failed' || reason === 'resolve_failed') return 502;
  return 403;
}

/** An http.Agent that keeps upstream connections alive but opens them only through the injected dialer. */
class DialingAgent extends Agent {
  constructor(
    private readonly dialer: () => Dialer,
    private readonly connectTimeoutMs: () => number,
    idleMs: number,
  ) {
    super({ keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo', timeout: idleMs });
  }
  override createConnection(
    options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    // options.host is the guarded IP address, never a name: the agent pools by that address.
    this.dialer()
      .dial(options.host!, Number(options.port), this.connectTimeoutMs())
      .then(
        (s) => callback?.(null, s),
        (err: Error) => callback?.(err, undefined as unknown as Duplex),
      );
    return undefined;
  }
}

/**
 * 64 KiB read buffers for the upstream side of tunnels, reused once the client socket has taken their bytes.
 * Reusing warm buffers instead of allocating one per read cuts the proxy's CPU per tunnelled byte (no fresh
 * pages to fault in, less GC). Only free buffers are kept, and only a bounded number.
 */
class BufferPool {
  private readonly free: Buffer[] = [];
  constructor(
    private readonly size = 64 * 1024,
    private readonly maxFree = 128,
  ) {}
  get = (): Buffer => this.free.pop() ?? Buffer.allocUnsafe(this.size);
  release(buf: Buffer): void {
    if (this.free.length < this.maxFree) this.free.push(buf);
  }
}

interface Tunnel {
  client: Duplex;
  upstream: Socket | null;
}

/** Per-request state that ends up as the access log line. */
class Entry {
  readonly started = performance.now();
  readonly line: AccessLogEntry;
  constructor(type: RequestKind, src: string, method: string) {
    this.line = {
      time: new Date().toISOString(),
      type,
      src,
      client: null,
      policy: null,
      method,
      host: null,
      port: null,
      address: null,
      decision: 'deny',
      reason: 'bad_request',
      status: 0,
      bytesUp: 0,
      bytesDown: 0,
      durationMs: 0,
    };
  }
  decide(decision: Decision, mode: 'enforce' | 'report' = 'enforce'): void {
    this.line.decision = decision.allow ? 'allow' : mode === 'report' ? 'report' : 'deny';
    this.line.reason = decision.reason;
    if (decision.detail !== undefined) this.line.detail = decision.detail;
  }
}

/**
 * The forward proxy: absolute-form HTTP/1.1 requests and CONNECT tunnels, each decided by the client's policy
 * and the SSRF guard before any upstream connection is made. `reload` swaps the config for new requests only;
 * open tunnels and in-flight requests keep the decision they were given.
 */
export class EgressProxy {
  private config: EgressConfig;
  private resolver: Resolver;
  private readonly baseResolver: Resolver;
  private readonly dialer: Dialer;
  private readonly log: LogSink;
  readonly metrics = new Metrics();
  private readonly tokens = new TokenVerifier();
  private readonly server: Server;
  private admin: Server | null = null;
  private readonly agent: DialingAgent;
  private readonly tunnels = new Set<Tunnel>();
  private readonly pool = new BufferPool();
  private connections = 0;
  private inFlight = 0;
  private draining = false;

  constructor(options: ProxyOptions) {
    this.config = options.config;
    this.baseResolver = options.resolver ?? systemResolver;
    this.resolver = new PinnedResolver(this.config.pins, this.baseResolver);
    this.dialer = options.dialer ?? tcpDialer;
    this.log = options.log ?? nullLog;
    const limits = this.config.limits;
    this.agent = new DialingAgent(
      () => this.dialer,
      () => this.config.limits.connectTimeoutMs,
      limits.idleTimeoutMs,
    );
    const httpOptions = {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headerTimeoutMs,
      requestTimeout: 0,
      keepAliveTimeout: limits.idleTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headerTimeoutMs / 4))),
      noDelay: true,
    };
    const tls = this.config.tls;
    this.server = tls
      ? createTlsServer({
          ...httpOptions,
          cert: tls.cert,
          key: tls.key,
          ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true } : {}),
          // Unverified certificates are not refused at the handshake: they just do not count as an identity.
          rejectUnauthorized: false,
        })
      : createServer(httpOptions);
    this.server.maxConnections = limits.maxConnections;
    this.server.timeout = limits.idleTimeoutMs;
    this.server.on('connection', (socket: Socket) => {
      this.connections++;
      socket.once('close', () => this.connections--);
    });
    this.server.on('request', (req, res) => void this.handleRequest(req, res));
    this.server.on('connect', (req, socket, head) => void this.handleConnect(req, socket, head));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket) => this.handleClientError(err, socket));

    this.metrics.gauge('palisade_egress_open_connections', 'Client connections open', () => this.connections);
    this.metrics.gauge('palisade_egress_open_tunnels', 'CONNECT tunnels open', () => this.tunnels.size);
    this.metrics.gauge('palisade_egress_inflight_requests', 'Plain HTTP requests in flight', () => this.inFlight);
  }

  /** Starts the proxy (and the admin listener when configured). */
  async listen(): Promise<{ proxy: AddressInfo; admin: AddressInfo | null }> {
    const { listen, admin } = this.config;
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
      const server = createServer((req, res) => this.handleAdmin(req, res));
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
    this.server.closeIdleConnections();
    const deadline = Date.now() + drainTimeoutMs;
    while ((this.tunnels.size > 0 || this.inFlight > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      this.server.closeIdleConnections();
    }
    for (const t of this.tunnels) {
      t.client.destroy();
      t.upstream?.destroy();
    }
    this.server.closeAllConnections();
    await closed;
    // Destroyed sockets report 'close' a tick later; resolve only once the books are balanced.
    for (let i = 0; i < 100 && (this.tunnels.size > 0 || this.connections > 0); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    this.agent.destroy();
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

  private facts(socket: Socket | Duplex, authorization: string | undefined): ClientFacts {
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

  private finish(entry: Entry): void {
    const line = entry.line;
    line.durationMs = Math.round((performance.now() - entry.started) * 1000) / 1000;
    this.metrics.inc('palisade_egress_requests_total', {
      type: line.type,
      decision: line.decision,
      reason: line.reason,
    });
    if (line.bytesUp) this.metrics.inc('palisade_egress_bytes_total', { direction: 'up' }, line.bytesUp);
    if (line.bytesDown) this.metrics.inc('palisade_egress_bytes_total', { direction: 'down' }, line.bytesDown);
    this.log.write(line);
  }

  /**
   * Identity, allowlist, then the SSRF guard: returns the one address to connect to, or the status and decision
   * for a refusal. Report mode lets allowlist denials through (logged as "report"); identity and guard
   * refusals are always enforced.
   */
  private async authorise(
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

  private async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const entry = new Entry('http', req.socket.remoteAddress ?? '', req.method ?? '');
    this.inFlight++;
    res.once('close', () => {
      this.inFlight--;
      entry.line.status = res.statusCode;
      this.finish(entry);
    });
    if (this.draining) res.shouldKeepAlive = false;
    const deny = (status: number, decision: Decision): void => {
      entry.decide(decision);
      const { headers, body } = denialHeadersAndBody(status, decision);
      req.resume();
      res.writeHead(status, headers);
      res.end(body);
    };

    const parsed = parseAbsoluteUrl(req.url ?? '');
    if (!parsed) {
      // Not speaking proxy protocol at all: answer and hang up rather than keep the connection.
      res.shouldKeepAlive = false;
      deny(400, { allow: false, reason: 'not_a_proxy_request', detail: 'expected absolute-form http:// URL' });
      return;
    }
    const { target } = parsed;
    entry.line.host = target.host;
    entry.line.port = target.port;
    let result: Awaited<ReturnType<EgressProxy['authorise']>>;
    try {
      const facts = this.facts(req.socket, req.headers['proxy-authorization']);
      result = await this.authorise('http', target, req.method ?? '', facts, entry);
    } catch (err) {
      deny(502, { allow: false, reason: 'internal_error', detail: (err as Error).message });
      return;
    }
    if ('status' in result) {
      deny(result.status, result.decision);
      return;
    }
    if (res.destroyed) return;

    const skip = connectionTokens(req.headers.connection);
    skip.add('host');
    const headers = ['Host', parsed.hostHeader, ...forwardable(req.rawHeaders, skip)];
    // A chunked request body stays chunked upstream whatever the method (Node only chunks some methods by default).
    if (req.headers['transfer-encoding'] !== undefined) headers.push('Transfer-Encoding', 'chunked');
    const upstream = request({
      agent: this.agent,
      host: result.address,
      port: target.port,
      method: req.method,
      path: parsed.path,
      headers,
      setHost: false,
    });
    upstream.on('error', (err) => {
      const reason = err instanceof DialError ? err.reason : 'upstream_error';
      if (!res.headersSent) {
        entry.line.decision = 'allow';
        const decision = { allow: false, reason, detail: err.message };
        const { headers: h, body } = denialHeadersAndBody(
          statusFor(reason) === 403 ? 502 : statusFor(reason),
          decision,
        );
        entry.line.reason = reason;
        res.writeHead(statusFor(reason) === 403 ? 502 : statusFor(reason), h);
        res.end(body);
      } else {
        res.destroy();
      }
    });
    upstream.on('response', (up) => {
      const upSkip = connectionTokens(up.headers.connection);
      res.writeHead(up.statusCode ?? 502, forwardable(up.rawHeaders, upSkip));
      up.on('data', (chunk: Buffer) => {
        entry.line.bytesDown += chunk.length;
      });
      up.pipe(res);
      up.on('error', () => res.destroy());
    });
    req.on('data', (chunk: Buffer) => {
      entry.line.bytesUp += chunk.length;
    });
    req.pipe(upstream);
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
  }

  private async handleConnect(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const client = socket as Socket;
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
    client.setTimeout(this.config.limits.idleTimeoutMs, () => client.destroy());
    const refuse = (status: number, decision: Decision): void => {
      entry.decide(decision);
      entry.line.status = status;
      endThenDestroy(client, rawResponse(status, decision));
    };

    const target = parseAuthority(req.url ?? '');
    if (!target) {
      refuse(400, { allow: false, reason: 'bad_connect_target', detail: 'expected CONNECT host:port' });
      return;
    }
    entry.line.host = target.host;
    entry.line.port = target.port;
    let result: Awaited<ReturnType<EgressProxy['authorise']>>;
    try {
      result = await this.authorise(
        'connect',
        target,
        'CONNECT',
        this.facts(client, req.headers['proxy-authorization']),
        entry,
      );
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
    const pool = this.pool;
    let toClient: ((buf: Buffer, n: number) => boolean) | null = null;
    const early: Buffer[] = [];
    const onread = {
      buffer: pool.get,
      callback: (n: number, buf: Uint8Array): boolean => {
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
      if (!client.destroyed) client.end(() => client.destroy());
      done();
    });
    upstream.on('error', () => upstream.destroy());
    upstream.setTimeout(this.config.limits.idleTimeoutMs, () => upstream.destroy());
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');

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
    client.pipe(upstream);
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
    });
  }

  private handleClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    const code = err.code ?? 'unknown';
    this.metrics.inc('palisade_egress_client_errors_total', { code });
    if (code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = code === 'HPE_HEADER_OVERFLOW' ? 431 : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const reason = status === 431 ? 'headers_too_large' : status === 408 ? 'header_timeout' : 'malformed_request';
    endThenDestroy(socket, rawResponse(status, { allow: false, reason, detail: code }));
  }
}
