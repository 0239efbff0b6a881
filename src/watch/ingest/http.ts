import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { PalisadeError, UserInputError } from '../../core/errors.js';
import { presentedToken, tokenAllowed } from './auth.js';
import { readBody } from './body.js';
import { parseEgress } from './egress.js';
import { bulkResponse, type EsAnswer, esError, esProbe, parseBulk } from './elasticsearch.js';
import { parseEventBridge } from './eventbridge.js';
import { parseFalco } from './falco.js';
import { parseK8sAudit } from './k8s-audit.js';
import { parseHttpEvents } from './ndjson.js';
import { type IngestQueue, QueueFullError } from './queue.js';
import type { IngestEvent } from './types.js';

export interface HttpIngestOptions {
  host?: string;
  port: number;
  /** Accepted tokens (see auth.ts for carriers). Empty = refuse everything unless `allowAnonymous`. */
  tokens: string[];
  /** Deny by default: only an explicit choice opens the listener without authentication. */
  allowAnonymous?: boolean;
  /** Largest accepted body after decompression (default 10 MiB). */
  maxBodyBytes?: number;
  tls?: { certFile: string; keyFile: string };
  queue: IngestQueue;
  now?: () => number;
}

export interface HttpIngest {
  port: number;
  close(): Promise<void>;
}

type Parser = (text: string, receivedAt: number, url: URL) => IngestEvent[];

const SOURCE_NAME = /^[a-z0-9_]{1,32}$/;

/** One line per HTTP source: path → parser (STYLE.md §1). */
const ROUTES: Record<string, Parser> = {
  '/ingest/v1/events': (text, at, url) => {
    const source = url.searchParams.get('source') ?? 'http';
    if (!SOURCE_NAME.test(source)) throw new UserInputError('source must match [a-z0-9_]{1,32}');
    return parseHttpEvents(source, text, at);
  },
  '/ingest/v1/eventbridge': parseEventBridge,
  '/ingest/v1/k8s-audit': parseK8sAudit,
  '/ingest/v1/falco': parseFalco,
  '/ingest/v1/egress': parseEgress,
};

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    // Elasticsearch clients ≥ 7.14 refuse a server without this header (the "product check").
    'x-elastic-product': 'Elasticsearch',
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/**
 * HTTP ingest: generic NDJSON/JSON, EventBridge API destinations, Kubernetes audit webhook, Falco http_output,
 * egress proxy lines, and an Elasticsearch-compatible `_bulk` API at the root. Every request is authenticated
 * before its body is read; bodies are bounded (413); a full queue answers 429 with Retry-After.
 */
export async function startHttpIngest(options: HttpIngestOptions): Promise<HttpIngest> {
  if (options.tokens.length === 0 && !options.allowAnonymous) {
    throw new UserInputError('HTTP ingest: no tokens configured (set tokens, or allowAnonymous: true on purpose)');
  }
  const maxBody = options.maxBodyBytes ?? 10 * 1024 * 1024;
  const now = options.now ?? Date.now;

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://ingest');
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const isEs = !(path in ROUTES) && path !== '/healthz';
    const fail = (status: number, message: string, headers: Record<string, string> = {}) => {
      if (isEs) {
        const type =
          status === 401
            ? 'security_exception'
            : status === 429
              ? 'es_rejected_execution_exception'
              : 'illegal_argument_exception';
        const a = esError(status, type, message);
        send(res, a.status, a.body, headers);
      } else send(res, status, { error: message }, headers);
    };
    try {
      if (path === '/healthz') return send(res, 200, { ok: true });
      if (!options.allowAnonymous && !tokenAllowed(presentedToken(req.headers), options.tokens)) {
        req.resume();
        return fail(401, 'missing or invalid credentials', { 'www-authenticate': 'Bearer realm="palisade-watch"' });
      }
      const parser = ROUTES[path];
      if (parser) {
        if (method !== 'POST') return fail(405, 'use POST', { allow: 'POST' });
        if (!options.queue.hasRoom()) {
          req.resume();
          return fail(429, 'ingest queue full, retry later', { 'retry-after': '1' });
        }
        const body = await readBody(req, maxBody);
        const events = parser(body.toString('utf8'), now(), url);
        const accepted = await options.queue.offer(events);
        return send(res, 200, { received: events.length, accepted, duplicates: events.length - accepted });
      }
      const bulk = /^(?:\/([^/_][^/]*))?\/_bulk$/.exec(path);
      if (bulk) {
        if (method !== 'POST' && method !== 'PUT') return fail(405, 'use POST');
        if (!options.queue.hasRoom()) {
          req.resume();
          return fail(429, 'ingest queue full, retry later', { 'retry-after': '1' });
        }
        const started = Date.now();
        const body = await readBody(req, maxBody);
        const items = parseBulk(body.toString('utf8'), bulk[1] ? decodeURIComponent(bulk[1]) : undefined, now());
        await options.queue.offer(items.flatMap((it) => (it.event ? [it.event] : [])));
        return send(res, 200, bulkResponse(items, Date.now() - started));
      }
      const probe: EsAnswer | null = esProbe(method, path);
      if (probe) {
        req.resume();
        return send(res, probe.status, probe.body);
      }
      req.resume();
      return fail(404, `no handler for ${method} ${path}`);
    } catch (err) {
      if (err instanceof QueueFullError) return fail(429, err.message, { 'retry-after': '1' });
      if (err instanceof PalisadeError)
        return fail(err.httpStatus, err.message, err.httpStatus === 503 ? { 'retry-after': '5' } : {});
      return fail(500, 'internal error');
    }
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handler(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  };
  const server: Server = options.tls
    ? createHttpsServer({ cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) }, listener)
    : createHttpServer(listener);
  // Slow-loris bounds: a client must send headers and body in reasonable time.
  server.headersTimeout = 30_000;
  server.requestTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
