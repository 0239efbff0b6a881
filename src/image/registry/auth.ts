/**
 * Registry authentication: `WWW-Authenticate` challenge parsing (RFC 7235), Docker's token flow
 * (anonymous or with Basic credentials; OAuth2 refresh-token grant for `identitytoken`), and credentials
 * from `config.json` as `docker login` writes it. Secrets never enter an error message.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuthError, UnavailableError, UserInputError } from '../../core/errors.js';
import { discard, type HttpClient } from './http.js';

export interface Challenge {
  /** Lower-case auth scheme: "bearer", "basic". */
  scheme: string;
  /** Lower-case parameter names. */
  params: Record<string, string>;
}

export interface Credentials {
  username?: string;
  password?: string;
  /** OAuth2 refresh token that `docker login` stores for some registries ("identitytoken"). */
  identityToken?: string;
}

const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

/** Parses one or more `WWW-Authenticate` header values; unknown garbage ends parsing of that value. */
export function parseChallenges(values: readonly string[]): Challenge[] {
  const out: Challenge[] = [];
  for (const value of values) {
    let i = 0;
    const skip = (chars: RegExp) => {
      while (i < value.length && chars.test(value[i]!)) i++;
    };
    const token = (): string | undefined => {
      const m = TOKEN_RE.exec(value.slice(i));
      if (m === null) return undefined;
      i += m[0].length;
      return m[0];
    };
    // Looks ahead: is the text at `i` an auth-param (`name = …`) rather than the next challenge's scheme?
    const atParam = (): boolean => {
      const save = i;
      const name = token();
      skip(/[ \t]/);
      const yes = name !== undefined && value[i] === '=';
      i = save;
      return yes;
    };
    for (;;) {
      skip(/[ \t,]/);
      const scheme = token();
      if (scheme === undefined) break;
      const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
      out.push(challenge);
      for (;;) {
        skip(/[ \t,]/);
        if (!atParam()) break;
        const name = token()!.toLowerCase();
        skip(/[ \t]/);
        i++; // "="
        skip(/[ \t]/);
        let v = '';
        if (value[i] === '"') {
          i++;
          while (i < value.length && value[i] !== '"') {
            if (value[i] === '\\' && i + 1 < value.length) i++;
            v += value[i];
            i++;
          }
          i++; // closing quote
        } else {
          v = token() ?? '';
        }
        challenge.params[name] = v;
      }
    }
  }
  return out;
}

/** `Basic base64(user:password)`. */
export function basicAuthorization(c: Credentials): string | undefined {
  if (c.username === undefined || c.password === undefined) return undefined;
  return `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`;
}

/** Host part of a `config.json` auths key: "https://host:5000/v1/" and "host:5000" both give "host:5000". */
function authsKeyHost(key: string): string {
  return key
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
}

const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/**
 * Credentials for `host` from `<configDir>/config.json` (`auths[host].auth` = base64 "user:password",
 * `identitytoken`). Credential helpers (`credsStore`, `credHelpers`) are not consulted.
 */
export async function dockerConfigCredentials(host: string, configDir: string): Promise<Credentials | undefined> {
  const file = join(configDir, 'config.json');
  let text: string;
  try {
    const buf = await readFile(file);
    if (buf.length > MAX_CONFIG_BYTES) throw new UserInputError(`docker config ${file}: larger than 4 MiB`);
    text = buf.toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (err instanceof UserInputError) throw err;
    throw new UserInputError(`docker config ${file}: cannot be read (${(err as NodeJS.ErrnoException).code})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new UserInputError(`docker config ${file}: not valid JSON`);
  }
  const auths = (doc as { auths?: unknown } | null)?.auths;
  if (auths === null || typeof auths !== 'object') return undefined;
  const want = host.toLowerCase();
  for (const [key, entry] of Object.entries(auths as Record<string, unknown>)) {
    if (authsKeyHost(key) !== want || entry === null || typeof entry !== 'object') continue;
    const e = entry as Record<string, unknown>;
    const creds: Credentials = {};
    if (typeof e.auth === 'string' && e.auth !== '') {
      const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) throw new UserInputError(`docker config ${file}: the "auth" entry for ${host} is malformed`);
      creds.username = decoded.slice(0, colon);
      creds.password = decoded.slice(colon + 1);
    } else if (typeof e.username === 'string' && typeof e.password === 'string') {
      creds.username = e.username;
      creds.password = e.password;
    }
    if (typeof e.identitytoken === 'string' && e.identitytoken !== '') creds.identityToken = e.identitytoken;
    if (creds.username !== undefined || creds.identityToken !== undefined) return creds;
  }
  return undefined;
}

const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;

/**
 * Gets a Bearer token for `scope` from the challenge's realm. Anonymous when there are no credentials;
 * Basic credentials on a GET; an identity token through the OAuth2 refresh-token grant (a POST).
 */
export async function fetchBearerToken(
  http: HttpClient,
  challenge: Challenge,
  scope: string,
  creds: Credentials | undefined,
  registryHost: string,
): Promise<string> {
  const realm = challenge.params.realm;
  if (realm === undefined || realm === '') {
    throw new UnavailableError(`registry ${registryHost}: Bearer challenge without a realm`);
  }
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new UnavailableError(`registry ${registryHost}: Bearer challenge with an invalid realm`);
  }
  const service = challenge.params.service;
  const what = 'token service';
  const deadlineMs = http.timeouts.documentMs;
  let res: Awaited<ReturnType<HttpClient['get']>>;
  if (creds?.identityToken !== undefined) {
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: creds.identityToken,
      client_id: 'palisade',
      scope,
    });
    if (service !== undefined) form.set('service', service);
    res = await http.get(url, what, {
      method: 'POST',
      body: form.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      deadlineMs,
    });
  } else {
    if (service !== undefined) url.searchParams.set('service', service);
    url.searchParams.set('scope', scope);
    const authorization = creds !== undefined ? basicAuthorization(creds) : undefined;
    if (creds?.username !== undefined) url.searchParams.set('account', creds.username);
    res = await http.get(url, what, { ...(authorization !== undefined && { authorization }), deadlineMs });
  }
  if (res.status === 401 || res.status === 403) {
    discard(res.body);
    throw new AuthError(
      creds !== undefined
        ? `registry ${registryHost}: the token service ${url.host} rejected the credentials (HTTP ${res.status})`
        : `registry ${registryHost}: the token service ${url.host} requires credentials (use --username/--password or docker login)`,
    );
  }
  if (res.status !== 200) {
    discard(res.body);
    throw new UnavailableError(`registry ${registryHost}: the token service ${url.host} answered HTTP ${res.status}`);
  }
  const body = await http.readBounded(res, MAX_TOKEN_RESPONSE_BYTES, `${what} ${url.host}`, deadlineMs);
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw new UnavailableError(`registry ${registryHost}: the token service ${url.host} answered invalid JSON`);
  }
  const o = (doc ?? {}) as { token?: unknown; access_token?: unknown };
  const token = typeof o.token === 'string' && o.token !== '' ? o.token : o.access_token;
  if (typeof token !== 'string' || token === '' || /[\r\n]/.test(token)) {
    throw new UnavailableError(`registry ${registryHost}: the token service ${url.host} answered without a token`);
  }
  return token;
}
