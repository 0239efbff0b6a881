/**
 * The HTTP side of registry pulls: one undici Agent with connect/headers/idle-body timeouts, GETs that
 * follow redirects safely (bounded hops, no downgrade to plain HTTP, Authorization only to its own origin),
 * bounded document reads, and one mapping from network failures to one clear UnavailableError line.
 * Messages name hosts, never URLs with query strings (storage redirects carry signatures) nor credentials.
 */
import type { Readable } from 'node:stream';
import { Agent } from 'undici';
import { LimitExceededError, PalisadeError, UnavailableError } from '../../core/errors.js';

export interface Timeouts {
  /** TCP + TLS connection set-up. */
  connectMs: number;
  /** From request sent to response headers received. */
  headersMs: number;
  /** Longest pause between two body chunks (a stalled body). */
  bodyIdleMs: number;
  /** Whole request for small documents (manifests, configs, tokens): a trickling server cannot hold us. */
  documentMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = {
  connectMs: 30_000,
  headersMs: 60_000,
  bodyIdleMs: 60_000,
  documentMs: 120_000,
};

const MAX_REDIRECTS = 5;

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
  /** The URL that answered, after redirects. */
  url: URL;
}

export interface GetOptions {
  headers?: Record<string, string>;
  /** Sent only to the origin of the first URL; dropped when a redirect leaves it. */
  authorization?: string;
  /** A total deadline for this request and its body (documents); blobs rely on the idle timeout. */
  deadlineMs?: number;
  method?: 'GET' | 'POST';
  body?: string;
}

export class HttpClient {
  readonly #agent: Agent;
  readonly #timeouts: Timeouts;
  readonly #insecure: boolean;
  readonly #signal: AbortSignal | undefined;
  #closed = false;

  constructor(opts: { timeouts: Timeouts; insecure: boolean; signal?: AbortSignal }) {
    this.#timeouts = opts.timeouts;
    this.#insecure = opts.insecure;
    this.#signal = opts.signal;
    this.#agent = new Agent({
      connect: { timeout: opts.timeouts.connectMs },
      headersTimeout: opts.timeouts.headersMs,
      bodyTimeout: opts.timeouts.bodyIdleMs,
    });
  }

  get timeouts(): Timeouts {
    return this.#timeouts;
  }

  /** Refuses plain HTTP unless the user allowed it; every URL we are sent to passes here. */
  #checkScheme(url: URL, start: URL, what: string): void {
    if (url.protocol === 'https:' || (url.protocol === 'http:' && this.#insecure)) return;
    const first = url === start;
    if (url.protocol === 'http:') {
      throw new UnavailableError(
        first
          ? `${what} ${url.host} is plain HTTP; refusing without --insecure-registry (TLS is required by default)`
          : `${what} ${start.host}: redirect to plain-HTTP ${url.host} refused without --insecure-registry`,
      );
    }
    throw new UnavailableError(
      `${what} ${start.host}: ${first ? '' : 'redirect to '}unsupported URL scheme "${url.protocol}"`,
    );
  }

  /**
   * Sends a request and follows up to MAX_REDIRECTS redirects. The caller owns `body` of the result and
   * must consume or destroy it.
   */
  async get(start: URL, what: string, opts: GetOptions = {}): Promise<HttpResponse> {
    if (this.#closed) throw new UnavailableError(`${what} ${start.host}: client already closed`);
    const signal = this.#requestSignal(opts.deadlineMs);
    // Names the server for messages: the host we asked, and where it sent us (host only: no signed query).
    const who = (u: URL) => `${what} ${start.host}${u.host !== start.host ? ` (redirected to ${u.host})` : ''}`;
    let url = start;
    for (let hop = 0; ; hop++) {
      this.#checkScheme(url, start, what);
      const headers: Record<string, string> = { 'user-agent': 'palisade', ...opts.headers };
      if (opts.authorization !== undefined && url.origin === start.origin) headers.authorization = opts.authorization;
      let res: Awaited<ReturnType<Agent['request']>>;
      try {
        res = await this.#agent.request({
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: opts.method ?? 'GET',
          headers,
          ...(opts.body !== undefined && { body: opts.body }),
          signal,
        });
      } catch (err) {
        throw this.networkError(err, who(url), opts.deadlineMs);
      }
      const location = res.headers.location;
      if (res.statusCode >= 300 && res.statusCode < 400 && res.statusCode !== 304 && location !== undefined) {
        discard(res.body);
        if (hop >= MAX_REDIRECTS) {
          throw new UnavailableError(`${what} ${start.host}: more than ${MAX_REDIRECTS} redirects (a redirect loop?)`);
        }
        try {
          url = new URL(Array.isArray(location) ? location[0]! : location, url);
        } catch {
          throw new UnavailableError(`${who(url)}: redirect to an invalid location`);
        }
        continue;
      }
      return { status: res.statusCode, headers: res.headers, body: res.body as unknown as Readable, url };
    }
  }

  /**
   * Reads a whole (small) body, refusing more than `maxBytes` — first by Content-Length, then while reading,
   * so a lying or endless server costs at most `maxBytes` of memory.
   */
  async readBounded(res: HttpResponse, maxBytes: number, what: string, deadlineMs?: number): Promise<Buffer> {
    const declared = header(res.headers, 'content-length');
    if (declared !== undefined && Number(declared) > maxBytes) {
      discard(res.body);
      throw new LimitExceededError(`${what}: ${declared} bytes, over the limit of ${maxBytes}`);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > maxBytes) {
          discard(res.body);
          throw new LimitExceededError(`${what}: more than the limit of ${maxBytes} bytes`);
        }
        chunks.push(chunk);
      }
    } catch (err) {
      throw this.networkError(err, what, deadlineMs);
    }
    return Buffer.concat(chunks, total);
  }

  /** Maps what undici and the TLS layer throw to one clear line; our own errors pass through. */
  networkError(err: unknown, what: string, deadlineMs?: number): PalisadeError {
    if (err instanceof PalisadeError) return err;
    if (this.#signal?.aborted) return new UnavailableError(`${what}: pull aborted`, { cause: err });
    const code = errorCode(err);
    const s = (ms: number) => `${Math.round(ms / 100) / 10}s`;
    const t = this.#timeouts;
    const why = ((): string => {
      if (deadlineMs !== undefined && (code === 'ABORT_ERR' || code === 'UND_ERR_ABORTED' || code === 'TimeoutError')) {
        return `no complete answer within ${s(deadlineMs)}`;
      }
      switch (code) {
        case 'UND_ERR_CONNECT_TIMEOUT':
          return `could not connect within ${s(t.connectMs)}`;
        case 'UND_ERR_HEADERS_TIMEOUT':
          return `no response within ${s(t.headersMs)}`;
        case 'UND_ERR_BODY_TIMEOUT':
          return `the response body stalled for more than ${s(t.bodyIdleMs)}`;
        case 'ECONNREFUSED':
          return 'connection refused';
        case 'ENOTFOUND':
        case 'EAI_AGAIN':
          return 'host name not found';
        case 'ECONNRESET':
        case 'EPIPE':
        case 'UND_ERR_SOCKET':
        case 'UND_ERR_CLOSED':
          return 'connection closed before the answer was complete';
        case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
          return 'the body did not match its Content-Length';
        case 'ERR_SSL_WRONG_VERSION_NUMBER':
        case 'ERR_SSL_PACKET_LENGTH_TOO_LONG':
          return 'does not speak HTTPS (for a plain-HTTP registry pass --insecure-registry)';
      }
      if (code !== undefined && (/CERT|SELF_SIGNED|ERR_TLS|UNABLE_TO_VERIFY|ERR_SSL/.test(code) || code === 'EPROTO')) {
        return `TLS verification failed (${code})`;
      }
      return `request failed${code !== undefined ? ` (${code})` : ''}`;
    })();
    return new UnavailableError(`${what}: ${why}`, { cause: err });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#agent.destroy();
  }

  #requestSignal(deadlineMs: number | undefined): AbortSignal | undefined {
    const signals: AbortSignal[] = [];
    if (this.#signal !== undefined) signals.push(this.#signal);
    if (deadlineMs !== undefined) signals.push(AbortSignal.timeout(deadlineMs));
    if (signals.length === 0) return undefined;
    return signals.length === 1 ? signals[0] : AbortSignal.any(signals);
  }
}

/** Drops a body we will not read; the abort that undici then emits is expected, not an error. */
export function discard(body: Readable): void {
  if (body.destroyed) return;
  body.on('error', () => {});
  body.destroy();
}

export function header(headers: HttpResponse['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** All values of a header that may repeat (WWW-Authenticate). */
export function headerValues(headers: HttpResponse['headers'], name: string): string[] {
  const v = headers[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function errorCode(err: unknown): string | undefined {
  // undici wraps socket and TLS errors; the useful code may sit one or two causes down.
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e !== null && typeof e === 'object'; depth++) {
    const o = e as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof o.code === 'string' && o.code !== 'UND_ERR_ABORTED' && o.code !== 'ABORT_ERR') return o.code;
    if (o.name === 'TimeoutError') return 'TimeoutError';
    if (o.cause === undefined) return typeof o.code === 'string' ? o.code : undefined;
    e = o.cause;
  }
  return undefined;
}
