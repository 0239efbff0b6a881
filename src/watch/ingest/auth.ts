import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Token check for HTTP sources. Accepted carriers, so that each real client can authenticate the way it
 * can be configured: `Authorization: Bearer T` (Kubernetes audit webhook kubeconfig token, generic),
 * `Authorization: ApiKey T` (Elasticsearch clients' api_key, compared as sent), `Authorization: Basic
 * base64(user:T)` (shippers with only username/password: the password is the token), and `X-Api-Key: T`
 * (EventBridge API-destination "API key" connections, Falco custom headers).
 */
export function presentedToken(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (auth) {
    const m = /^(Bearer|ApiKey|Basic)\s+(.+)$/i.exec(auth.trim());
    if (m) {
      const scheme = m[1]!.toLowerCase();
      if (scheme === 'basic') {
        const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
        const i = decoded.indexOf(':');
        return i >= 0 ? decoded.slice(i + 1) : undefined;
      }
      return m[2]!;
    }
  }
  const key = headers['x-api-key'];
  return typeof key === 'string' ? key : undefined;
}

/** Constant-time comparison against every configured token. */
export function tokenAllowed(presented: string | undefined, tokens: readonly string[]): boolean {
  if (presented === undefined) return false;
  const got = Buffer.from(presented);
  let ok = false;
  for (const t of tokens) {
    const want = Buffer.from(t);
    if (want.length === got.length && timingSafeEqual(want, got)) ok = true;
  }
  return ok;
}
