import type { Socket } from 'node:net';
import { Entry, endThenDestroy, rawResponse, statusFor } from '../answers.js';
import type { Limits, Policy } from '../config.js';
import { DialError } from '../net.js';
import type { ClientFacts, Decision } from '../policy.js';
import { parseAbsoluteUrl, type Target } from '../target.js';
import { ChunkedScanner } from './chunked.js';
import {
  type Framing,
  findHeadEnd,
  HeadError,
  header,
  parseRequestHead,
  parseResponseHead,
  type RequestHead,
  type ResponseHead,
  requestFraming,
  responseFraming,
  tokens,
} from './parse.js';
import { Upstream, type UpstreamPool, type UpstreamUser } from './pool.js';

/** What a client connection needs from the proxy: policy decisions, dialling, logs and the CONNECT handler. */
export interface RelayHost {
  readonly limits: Limits;
  readonly draining: boolean;
  readonly pool: UpstreamPool;
  inFlight: number;
  facts(socket: Socket, proxyAuthorization: string | undefined): ClientFacts;
  authorise(
    target: Target,
    method: string,
    facts: ClientFacts,
    entry: Entry,
  ): Promise<{ address: string; policy: Policy } | { status: number; decision: Decision }>;
  dial(address: string, port: number): Promise<Socket>;
  finish(entry: Entry): void;
  clientError(reason: string): void;
  /** Takes over the socket for a CONNECT tunnel; `rest` is what the client sent after the head. */
  connect(socket: Socket, authority: string, proxyAuthorization: string | undefined, rest: Buffer): void;
  forget(conn: ClientConnection): void;
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
/** Request headers the relay writes itself. */
const REWRITTEN = new Set(['host', 'content-length']);

/** A response head larger than this is refused (the client side has its own, configurable, limit). */
const MAX_RESPONSE_HEAD = 64 * 1024;
/** Pipelined bytes held while a request is in progress; beyond this the client is paused. */
const MAX_BUFFERED = 64 * 1024;
const EMPTY = Buffer.alloc(0);
/** Methods that may be sent again when a reused connection turns out closed (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

function forwardHeaders(h: RequestHead | ResponseHead, skip: ReadonlySet<string>, connection: string[]): string {
  let out = '';
  for (let i = 0; i < h.names.length; i++) {
    const n = h.lower[i]!;
    if (HOP_BY_HOP.has(n) || skip.has(n) || (connection.length > 0 && connection.includes(n))) continue;
    out += `${h.names[i]}: ${h.values[i]}\r\n`;
  }
  return out;
}

/**
 * One client connection speaking HTTP/1.1 to the proxy: it reads request heads strictly (parse.ts), hands
 * CONNECT to the tunnel code, and relays absolute-form requests to pooled upstream connections one at a time
 * (pipelined requests wait their turn), with bodies delimited by their framing in both directions.
 */
export class ClientConnection {
  /** Bytes received and not yet used. */
  private buf: Buffer | null = null;
  private scanned = 0;
  /** When the head being read must be complete (ms since epoch); 0 when no head is being read. */
  headDeadline: number;
  private exchange: Exchange | null = null;
  private handedOff = false;
  private closed = false;
  clientEnded = false;

  constructor(
    readonly socket: Socket,
    private readonly host: RelayHost,
  ) {
    // Nothing sent yet counts as a head being read: a silent connection is cut at the header timeout.
    this.headDeadline = Date.now() + host.limits.headerTimeoutMs;
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
    socket.setTimeout(host.limits.idleTimeoutMs, () => socket.destroy());
  }

  /** Idle: no request in progress and nothing buffered (closed at once when the proxy drains). */
  get idle(): boolean {
    return this.exchange === null && this.buf === null && !this.handedOff;
  }

  private readonly onData = (chunk: Buffer): void => {
    const ex = this.exchange;
    if (ex !== null && this.buf === null && ex.wantsBody()) {
      const rest = ex.body(chunk);
      if (rest === null) return;
      chunk = rest;
    }
    if (this.buf === null) {
      this.buf = chunk;
      if (ex === null && this.headDeadline === 0) this.headDeadline = Date.now() + this.host.limits.headerTimeoutMs;
    } else this.buf = Buffer.concat([this.buf, chunk]);
    if (this.exchange === null) this.readHead();
    else if (this.buf !== null && this.buf.length > MAX_BUFFERED) this.socket.pause();
  };

  private readonly onError = (): void => {
    this.socket.destroy();
  };

  private readonly onEnd = (): void => {
    this.clientEnded = true;
    if (this.exchange === null) this.socket.destroy();
    else this.exchange.clientEnded();
  };

  private readonly onClose = (): void => {
    this.closed = true;
    this.host.forget(this);
    this.exchange?.abort();
    this.exchange = null;
  };

  /** Called by the proxy's sweeper when the head deadline has passed. */
  headerTimeout(): void {
    this.host.clientError('header_timeout');
    this.answerAndClose(408, { allow: false, reason: 'header_timeout', detail: 'request head not received in time' });
  }

  private answerAndClose(status: number, decision: Decision): void {
    this.headDeadline = 0;
    this.buf = null;
    this.socket.off('data', this.onData);
    if (this.socket.writable) endThenDestroy(this.socket, rawResponse(status, decision));
    else this.socket.destroy();
  }

  /** Reads (the rest of) a request head from `buf`, then starts its exchange or hands over the tunnel. */
  private readHead(): void {
    const buf = this.buf;
    if (buf === null || this.closed) return;
    const max = this.host.limits.maxHeaderBytes;
    let head: RequestHead;
    let end: number;
    try {
      end = findHeadEnd(buf, this.scanned);
      if (end === -1 ? buf.length > max : end > max) {
        throw new HeadError(431, 'headers_too_large', `request head over ${max} bytes`);
      }
      if (end === -1) {
        // No more bytes will come after a FIN: an incomplete head is dropped.
        if (this.clientEnded) this.socket.destroy();
        this.scanned = Math.max(0, buf.length - 3);
        return;
      }
      head = parseRequestHead(buf, end);
    } catch (err) {
      if (!(err instanceof HeadError)) throw err;
      this.host.clientError(err.reason);
      this.answerAndClose(err.status, { allow: false, reason: err.reason, detail: err.message });
      return;
    }
    this.buf = end < buf.length ? buf.subarray(end) : null;
    this.scanned = 0;
    this.headDeadline = 0;
    if (head.method === 'CONNECT') {
      this.handedOff = true;
      this.host.forget(this);
      this.socket.off('data', this.onData);
      this.socket.off('error', this.onError);
      this.socket.off('end', this.onEnd);
      this.socket.off('close', this.onClose);
      this.socket.pause();
      this.host.connect(this.socket, head.target, header(head, 'proxy-authorization'), this.buf ?? EMPTY);
      this.buf = null;
      return;
    }
    this.exchange = new Exchange(this, this.host, head);
    this.exchange.start();
  }

  /** Takes up to everything buffered (for a request body). */
  takeBuffered(): Buffer | null {
    const b = this.buf;
    this.buf = null;
    return b;
  }

  /** Puts back bytes that belong to the next request. */
  putBack(rest: Buffer): void {
    this.buf = this.buf === null ? rest : Buffer.concat([rest, this.buf]);
  }

  /** The exchange is over: read the next request, or close. */
  exchangeDone(keepAlive: boolean): void {
    this.exchange = null;
    if (this.closed) return;
    // A client that half-closed still gets answers to the requests it sent before its FIN.
    if (!keepAlive || this.host.draining || (this.clientEnded && this.buf === null)) {
      this.socket.off('data', this.onData);
      this.socket.end(() => this.socket.destroy());
      return;
    }
    this.socket.resume();
    if (this.buf !== null) {
      this.headDeadline = Date.now() + this.host.limits.headerTimeoutMs;
      this.readHead();
    }
  }
}

/** One absolute-form request and its response. */
class Exchange implements UpstreamUser {
  private readonly entry: Entry;
  private readonly socket: Socket;
  private up: Upstream | null = null;
  private framing: Framing = { kind: 'none' };
  private bodyLeft = 0;
  private bodyScanner: ChunkedScanner | null = null;
  private requestDone = false;
  private requestHead = '';
  private retried = false;
  private address = '';
  private port = 0;

  private resBuf: Buffer | null = null;
  private resScanned = 0;
  private res: ResponseHead | null = null;
  private resFraming: Framing = { kind: 'none' };
  private resLeft = 0;
  private resScanner: ChunkedScanner | null = null;
  /** Decode chunked responses for HTTP/1.0 clients. */
  private decode = false;
  private readonly decoded: Buffer[] = [];
  private keepAlive: boolean;
  private reusable = true;
  private finished = false;
  private answered = false;

  constructor(
    private readonly conn: ClientConnection,
    private readonly host: RelayHost,
    private readonly head: RequestHead,
  ) {
    this.socket = conn.socket;
    this.entry = new Entry('http', this.socket.remoteAddress ?? '', head.method);
    this.keepAlive = head.minor === 1 && !tokens(head, 'connection').includes('close');
    host.inFlight++;
  }

  /** Request body bytes go straight upstream once the upstream is ready and until the body ends. */
  wantsBody(): boolean {
    return this.up !== null && !this.requestDone;
  }

  start(): void {
    const head = this.head;
    const parsed = parseAbsoluteUrl(head.target);
    if (!parsed) {
      // Not speaking proxy protocol at all: answer and hang up rather than keep the connection.
      this.keepAlive = false;
      this.deny(400, { allow: false, reason: 'not_a_proxy_request', detail: 'expected absolute-form http:// URL' });
      return;
    }
    try {
      this.framing = requestFraming(head);
    } catch (err) {
      if (!(err instanceof HeadError)) throw err;
      this.host.clientError(err.reason);
      this.keepAlive = false;
      this.deny(400, { allow: false, reason: err.reason, detail: err.message });
      return;
    }
    if (this.framing.kind === 'length') this.bodyLeft = this.framing.length;
    if (this.framing.kind === 'none') this.requestDone = true;
    const { target } = parsed;
    this.entry.line.host = target.host;
    this.entry.line.port = target.port;
    const facts = this.host.facts(this.socket, header(head, 'proxy-authorization'));
    this.host.authorise(target, head.method, facts, this.entry).then(
      (result) => {
        if (this.finished) return;
        if ('status' in result) {
          this.deny(result.status, result.decision);
          return;
        }
        const connection = tokens(head, 'connection');
        let text = `${head.method} ${parsed.path} HTTP/1.1\r\nHost: ${parsed.hostHeader}\r\n`;
        text += forwardHeaders(head, REWRITTEN, connection);
        if (this.framing.kind === 'length') text += `Content-Length: ${this.framing.length}\r\n`;
        else if (this.framing.kind === 'chunked') text += 'Transfer-Encoding: chunked\r\n';
        this.requestHead = `${text}\r\n`;
        this.address = result.address;
        this.port = target.port;
        void this.send(false);
      },
      (err: Error) => {
        if (!this.finished) this.deny(502, { allow: false, reason: 'internal_error', detail: err.message });
      },
    );
  }

  /** Gets an upstream connection (pooled unless `fresh`) and sends the head and what is buffered of the body. */
  private async send(fresh: boolean): Promise<void> {
    const key = `${this.address}:${this.port}`;
    let up = fresh ? null : this.host.pool.take(key);
    if (up === null) {
      let socket: Socket;
      try {
        socket = await this.host.dial(this.address, this.port);
      } catch (err) {
        if (this.finished) return;
        const reason = err instanceof DialError ? err.reason : 'upstream_error';
        this.entry.line.reason = reason;
        this.fail(statusFor(reason) === 403 ? 502 : statusFor(reason), reason, (err as Error).message);
        return;
      }
      up = new Upstream(socket, key, this.host.pool, this.host.limits.idleTimeoutMs);
      if (this.finished) {
        socket.destroy();
        return;
      }
    }
    this.up = up;
    up.user = this;
    const s = up.socket;
    s.cork();
    s.write(this.requestHead, 'latin1');
    if (this.framing.kind === 'none') this.requestDone = true;
    else {
      const buffered = this.conn.takeBuffered();
      if (buffered !== null) {
        const rest = this.body(buffered);
        if (rest !== null) this.conn.putBack(rest);
      }
    }
    s.uncork();
    // The client half-closed before its whole body arrived: it can never be completed.
    if (this.conn.clientEnded && !this.requestDone) {
      this.abort();
      return;
    }
    this.socket.resume();
  }

  /** Relays request body bytes upstream; returns the bytes past the body's end (the next request), if any. */
  body(chunk: Buffer): Buffer | null {
    const up = this.up!;
    let used: number;
    if (this.framing.kind === 'length') {
      used = Math.min(this.bodyLeft, chunk.length);
      this.bodyLeft -= used;
      this.entry.line.bytesUp += used;
      if (this.bodyLeft === 0) this.requestDone = true;
    } else {
      this.bodyScanner ??= new ChunkedScanner(400, (_b, start, end) => {
        this.entry.line.bytesUp += end - start;
      });
      let end: number;
      try {
        end = this.bodyScanner.feed(chunk, 0);
      } catch (err) {
        if (!(err instanceof HeadError)) throw err;
        this.host.clientError(err.reason);
        this.reusable = false;
        this.fail(400, err.reason, err.message);
        return null;
      }
      used = end === -1 ? chunk.length : end;
      if (end !== -1) this.requestDone = true;
    }
    const part = used === chunk.length ? chunk : chunk.subarray(0, used);
    if (!up.socket.write(part)) {
      this.socket.pause();
      up.socket.once('drain', () => this.socket.resume());
    }
    return used < chunk.length ? chunk.subarray(used) : null;
  }

  clientEnded(): void {
    // The client half-closed: fine once its request is complete; a cut body can never be completed.
    // Before the upstream is ready, send() checks once the buffered bytes are used.
    if (!this.requestDone && this.up !== null) this.abort();
  }

  onUpstreamData(chunk: Buffer): void {
    if (this.finished) return;
    if (this.res === null) {
      this.resBuf = this.resBuf === null ? chunk : Buffer.concat([this.resBuf, chunk]);
      if (!this.readResponseHead()) return;
      const rest = this.resBuf!;
      this.resBuf = null;
      // Head and the first body bytes leave in one write.
      this.socket.cork();
      this.writeResponseHead(this.res!, rest);
      this.socket.uncork();
      return;
    }
    this.relay(chunk);
  }

  /** Parses the response head (forwarding 1xx interim answers); false while more bytes are needed. */
  private readResponseHead(): boolean {
    for (;;) {
      const buf = this.resBuf!;
      let end: number;
      let head: ResponseHead;
      try {
        end = findHeadEnd(buf, this.resScanned);
        if (end === -1 ? buf.length > MAX_RESPONSE_HEAD : end > MAX_RESPONSE_HEAD) {
          throw new HeadError(502, 'upstream_bad_response', 'response head too large');
        }
        if (end === -1) {
          this.resScanned = Math.max(0, buf.length - 3);
          return false;
        }
        head = parseResponseHead(buf, end);
        if (head.status === 101) throw new HeadError(502, 'upstream_bad_response', 'unrequested protocol switch');
        this.resScanned = 0;
        this.resBuf = buf.subarray(end);
        if (head.status < 200) {
          // Interim answers (100 Continue, 103 Early Hints) go to HTTP/1.1 clients as they are.
          if (this.head.minor === 1) {
            const text = `HTTP/1.1${head.statusLine.slice(8)}\r\n${forwardHeaders(head, REWRITTEN, tokens(head, 'connection'))}\r\n`;
            this.socket.write(text, 'latin1');
          }
          continue;
        }
        this.resFraming = responseFraming(head, this.head.method);
      } catch (err) {
        if (!(err instanceof HeadError)) throw err;
        this.reusable = false;
        this.fail(502, err.reason, err.message);
        return false;
      }
      this.res = head;
      return true;
    }
  }

  private writeResponseHead(head: ResponseHead, rest: Buffer): void {
    const framing = this.resFraming;
    const connection = tokens(head, 'connection');
    if (head.minor === 0 || connection.includes('close')) this.reusable = false;
    if (framing.kind === 'close') {
      this.keepAlive = false;
      this.reusable = false;
    }
    if (this.host.draining) this.keepAlive = false;
    let text = `HTTP/1.1${head.statusLine.slice(8)}\r\n${forwardHeaders(head, REWRITTEN, connection)}`;
    const length = header(head, 'content-length');
    if (length !== undefined) text += `Content-Length: ${length}\r\n`;
    if (framing.kind === 'chunked') {
      if (this.head.minor === 1) text += `Transfer-Encoding: ${tokens(head, 'transfer-encoding').join(', ')}\r\n`;
      else {
        // An HTTP/1.0 client cannot read chunked framing: send the data and close to delimit it.
        this.decode = true;
        this.keepAlive = false;
      }
    }
    if (!this.keepAlive) text += 'Connection: close\r\n';
    this.answered = true;
    this.entry.line.status = head.status;
    this.socket.write(`${text}\r\n`, 'latin1');
    if (framing.kind === 'length') this.resLeft = framing.length;
    if (framing.kind === 'none' || (framing.kind === 'length' && framing.length === 0)) {
      if (rest.length > 0) this.reusable = false; // bytes after a head that allows no body
      this.responseDone();
    } else if (rest.length > 0) this.relay(rest);
  }

  /** Relays response body bytes to the client by the response's framing. */
  private relay(chunk: Buffer): void {
    const framing = this.resFraming;
    let out: Buffer = chunk;
    let done = false;
    if (framing.kind === 'length') {
      const used = Math.min(this.resLeft, chunk.length);
      if (used < chunk.length) {
        this.reusable = false; // bytes past the declared length: the upstream broke framing
        out = chunk.subarray(0, used);
      }
      this.resLeft -= used;
      this.entry.line.bytesDown += used;
      done = this.resLeft === 0;
    } else if (framing.kind === 'chunked') {
      const decoded = this.decoded;
      decoded.length = 0;
      this.resScanner ??= new ChunkedScanner(502, (b, start, end) => {
        this.entry.line.bytesDown += end - start;
        if (this.decode) this.decoded.push(b.subarray(start, end));
      });
      let end: number;
      try {
        end = this.resScanner.feed(chunk, 0);
      } catch (err) {
        if (!(err instanceof HeadError)) throw err;
        this.reusable = false;
        this.fail(502, err.reason, err.message);
        return;
      }
      if (end !== -1 && end < chunk.length) this.reusable = false;
      out = this.decode ? Buffer.concat(decoded) : end === -1 ? chunk : chunk.subarray(0, end);
      done = end !== -1;
    } else if (framing.kind === 'close') {
      this.entry.line.bytesDown += chunk.length;
    } else {
      this.reusable = false; // a body after a head that allows none
      return;
    }
    if (out.length > 0 && !this.socket.write(out)) {
      const up = this.up!;
      up.socket.pause();
      this.socket.once('drain', () => up.socket.resume());
    }
    if (done) this.responseDone();
  }

  onUpstreamClose(error: boolean): void {
    if (this.finished) return;
    const up = this.up;
    this.up = null;
    if (this.res === null) {
      // A pooled connection the server had already closed: send again on a fresh one, once, and only a request
      // without a body whose method is idempotent (a repeat cannot do harm).
      const stale = up !== null && up.uses > 0 && !up.timedOut && this.resBuf === null;
      if (stale && !this.retried && this.framing.kind === 'none' && IDEMPOTENT.has(this.head.method)) {
        this.retried = true;
        void this.send(true);
        return;
      }
      this.fail(502, 'upstream_error', error ? 'upstream connection failed' : 'upstream closed before answering');
      return;
    }
    if (this.resFraming.kind === 'close' && !error) {
      this.reusable = false;
      this.responseDone();
      return;
    }
    // The body was cut: the client must not take a short answer for a whole one.
    this.finish();
    this.socket.destroy();
  }

  private responseDone(): void {
    const up = this.up;
    this.up = null;
    if (up !== null) {
      if (this.reusable && this.requestDone) up.release();
      else {
        up.user = null;
        up.socket.destroy();
      }
    }
    this.finish();
    // An answer that came before the whole request body leaves the client mid-message: close.
    this.conn.exchangeDone(this.keepAlive && this.requestDone);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.host.inFlight--;
    this.host.finish(this.entry);
  }

  /** A refusal by policy, identity or the guard: the answer keeps the connection when no body is pending. */
  private deny(status: number, decision: Decision): void {
    this.entry.decide(decision);
    this.entry.line.status = status;
    const keep = this.keepAlive && this.framing.kind === 'none' && !this.host.draining;
    if (this.socket.writable) this.socket.write(rawResponse(status, decision, !keep), 'latin1');
    this.answered = true;
    this.finish();
    this.conn.exchangeDone(keep);
  }

  /** An error after the decision (allowed request): answer if nothing was sent yet, else cut. */
  private fail(status: number, reason: string, detail: string): void {
    const up = this.up;
    this.up = null;
    if (up !== null) {
      up.user = null;
      up.socket.destroy();
    }
    this.entry.line.reason = reason;
    if (this.entry.line.detail === undefined || !this.answered) this.entry.line.detail = detail;
    if (this.answered) {
      this.finish();
      this.socket.destroy();
      return;
    }
    this.entry.line.status = status;
    this.answered = true;
    this.finish();
    if (this.socket.writable) this.socket.write(rawResponse(status, { allow: false, reason, detail }), 'latin1');
    this.conn.exchangeDone(false);
  }

  /** The client went away (or cut its body): drop the upstream side. */
  abort(): void {
    const up = this.up;
    this.up = null;
    if (up !== null) {
      up.user = null;
      up.socket.destroy();
    }
    if (!this.finished) {
      if (!this.answered) this.entry.line.status = 499;
      this.finish();
    }
    if (!this.socket.destroyed) this.socket.destroy();
  }
}
