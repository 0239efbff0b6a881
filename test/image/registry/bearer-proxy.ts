/**
 * A loopback front for a real test registry that speaks Docker's token auth: /v2/ requests without a valid
 * Bearer token get `401 WWW-Authenticate: Bearer realm=…,service=…,scope=…`; `/token` issues tokens
 * (anonymously, for Basic credentials, or for an OAuth2 refresh token); valid requests are proxied to the
 * registry. Blob GETs can be redirected to a second "storage" server on another port (cross-origin, like a
 * registry redirecting to object storage) or to a path of this same server (same origin).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestRegistry } from '../../helpers/registry.js';

export interface TokenRequest {
  method: string;
  query: URLSearchParams;
  authorization?: string;
  form?: URLSearchParams;
}

export interface BearerProxyOptions {
  /** When set, the token endpoint requires these Basic credentials (else it issues tokens anonymously). */
  username?: string;
  password?: string;
  /** A refresh token the token endpoint accepts through the OAuth2 refresh_token grant. */
  identityToken?: string;
  redirectBlobs?: 'cross-origin' | 'same-origin';
}

export interface BearerProxy {
  host: string;
  tokenRequests: TokenRequest[];
  /** Authorization headers the storage server received (cross-origin redirects). */
  storageAuthorizations: (string | undefined)[];
  /** Tokens issued so far (to assert they never reach error messages). */
  issued: string[];
  close(): Promise<void>;
}

const SERVICE = 'palisade-test';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Streams `path` of the upstream registry back to `res`, without any Authorization. */
function forward(upstream: TestRegistry, path: string, req: IncomingMessage, res: ServerResponse): void {
  const headers: Record<string, string> = {};
  if (req.headers.accept !== undefined) headers.accept = req.headers.accept;
  const up = request(`${upstream.url}${path}`, { method: req.method, headers }, (upRes) => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(upRes.headers)) if (v !== undefined && k !== 'connection') out[k] = v;
    res.writeHead(upRes.statusCode ?? 502, out);
    upRes.pipe(res);
  });
  up.on('error', () => res.destroy());
  up.end();
}

async function readBody(req: IncomingMessage): Promise<string> {
  let s = '';
  for await (const c of req) s += c;
  return s;
}

export async function startBearerProxy(upstream: TestRegistry, opts: BearerProxyOptions = {}): Promise<BearerProxy> {
  const tokenRequests: TokenRequest[] = [];
  const storageAuthorizations: (string | undefined)[] = [];
  const issued: string[] = [];
  const valid = new Set<string>();
  const issue = (res: ServerResponse, field: 'token' | 'access_token') => {
    const token = randomBytes(24).toString('hex');
    issued.push(token);
    valid.add(token);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ [field]: token, expires_in: 300 }));
  };
  const basic =
    opts.username !== undefined
      ? `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`
      : undefined;

  const storage = createServer((req, res) => {
    storageAuthorizations.push(req.headers.authorization);
    const m = /^\/storage\/(.+)\/(sha256:[a-f0-9]{64})(\?.*)?$/.exec(req.url ?? '');
    if (m === null) {
      res.writeHead(404).end();
      return;
    }
    forward(upstream, `/v2/${m[1]}/blobs/${m[2]}`, req, res);
  });
  const storageHost = await listen(storage);

  const front = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (url.pathname === '/token') {
      const t: TokenRequest = { method: req.method ?? 'GET', query: url.searchParams };
      if (req.headers.authorization !== undefined) t.authorization = req.headers.authorization;
      if (req.method === 'POST') t.form = new URLSearchParams(await readBody(req));
      tokenRequests.push(t);
      if (req.method === 'POST') {
        const ok = t.form?.get('grant_type') === 'refresh_token' && t.form.get('refresh_token') === opts.identityToken;
        if (ok && opts.identityToken !== undefined) return issue(res, 'access_token');
        return res.writeHead(401).end('{"error":"invalid_grant"}');
      }
      if (basic !== undefined && req.headers.authorization !== basic) return res.writeHead(401).end();
      return issue(res, 'token');
    }
    const repo = /^\/v2\/(.+?)\/(manifests|blobs)\//.exec(url.pathname)?.[1] ?? 'none';
    const auth = req.headers.authorization;
    if (auth === undefined || !auth.startsWith('Bearer ') || !valid.has(auth.slice(7))) {
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="http://${req.headers.host}/token",service="${SERVICE}",scope="repository:${repo}:pull"`,
        'content-type': 'application/json',
      });
      return res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
    }
    const blob = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/.exec(url.pathname);
    if (blob !== null && opts.redirectBlobs !== undefined) {
      const target =
        opts.redirectBlobs === 'cross-origin'
          ? `http://${storageHost}/storage/${blob[1]}/${blob[2]}?X-Signature=not-for-messages`
          : `/same-origin-storage/${blob[1]}/${blob[2]}`;
      res.writeHead(307, { location: target });
      return res.end();
    }
    const same = /^\/same-origin-storage\/(.+)\/(sha256:[a-f0-9]{64})$/.exec(url.pathname);
    if (same !== null) return forward(upstream, `/v2/${same[1]}/blobs/${same[2]}`, req, res);
    forward(upstream, url.pathname, req, res);
  });
  const host = await listen(front);

  return {
    host,
    tokenRequests,
    storageAuthorizations,
    issued,
    async close() {
      await Promise.all(
        [front, storage].map((s) => new Promise<void>((resolve) => s.close(() => resolve()).closeAllConnections())),
      );
    },
  };
}
