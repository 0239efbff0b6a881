/**
 * A Registry HTTP API v2 client for one repository: manifest and blob GETs with the auth dance
 * (anonymous first; on 401 a Bearer token for `repository:REPO:pull` or Basic credentials, then one retry),
 * digest verification of documents, and blobs streamed with their size held to the descriptor's.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { AuthError, IntegrityError, LimitExceededError, NotFoundError, UnavailableError } from '../../core/errors.js';
import { basicAuthorization, type Challenge, type Credentials, fetchBearerToken, parseChallenges } from './auth.js';
import { discard, type HttpClient, type HttpResponse, header, headerValues } from './http.js';
import { type Descriptor, MANIFEST_ACCEPT } from './manifest.js';
import { isDigest, type RegistryReference } from './reference.js';

export interface FetchedManifest {
  bytes: Buffer;
  contentType: string | undefined;
  /** The digest of `bytes`, verified against what was asked for and what the registry claimed. */
  digest: string;
}

/** "sha256:…" of `bytes` with the algorithm of `like` (sha256 by default). */
export function digestOf(bytes: Buffer, like?: string): string {
  const algorithm = like?.split(':')[0] ?? 'sha256';
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

export class RegistryClient {
  readonly #ref: RegistryReference;
  readonly #http: HttpClient;
  readonly #creds: Credentials | undefined;
  readonly #base: URL;
  /** The Authorization value that last worked for the registry origin. */
  #authorization: string | undefined;

  constructor(ref: RegistryReference, http: HttpClient, creds: Credentials | undefined, scheme: 'https' | 'http') {
    this.#ref = ref;
    this.#http = http;
    this.#creds = creds;
    this.#base = new URL(`${scheme}://${ref.host}/`);
  }

  get #what(): string {
    return `registry ${this.#ref.host}`;
  }

  /**
   * GET /v2/<repo>/<path>. On a 401, authorizes from the challenge and retries once; a second 401 or a
   * 403 is an AuthError. Other statuses are the caller's to judge.
   */
  async #get(path: string, headers: Record<string, string>, deadlineMs?: number): Promise<HttpResponse> {
    const url = new URL(`v2/${this.#ref.repository}/${path}`, this.#base);
    const send = () =>
      this.#http.get(url, 'registry', {
        headers,
        ...(this.#authorization !== undefined && { authorization: this.#authorization }),
        ...(deadlineMs !== undefined && { deadlineMs }),
      });
    let res = await send();
    if (res.status === 401) {
      discard(res.body);
      this.#authorization = await this.#authorize(parseChallenges(headerValues(res.headers, 'www-authenticate')));
      res = await send();
    }
    if (res.status === 401 || res.status === 403) {
      discard(res.body);
      const repo = this.#ref.repository;
      if (res.status === 403) throw new AuthError(`${this.#what}: access to ${repo} denied (HTTP 403)`);
      throw new AuthError(
        this.#creds !== undefined
          ? `${this.#what}: the credentials were rejected for ${repo}`
          : `${this.#what}: ${repo} requires credentials (use --username/--password or docker login)`,
      );
    }
    return res;
  }

  async #authorize(challenges: Challenge[]): Promise<string> {
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer !== undefined) {
      const scope = `repository:${this.#ref.repository}:pull`;
      return `Bearer ${await fetchBearerToken(this.#http, bearer, scope, this.#creds, this.#ref.host)}`;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      const basic = this.#creds !== undefined ? basicAuthorization(this.#creds) : undefined;
      if (basic === undefined) {
        throw new AuthError(
          `${this.#what}: ${this.#ref.repository} requires credentials (use --username/--password or docker login)`,
        );
      }
      return basic;
    }
    throw new AuthError(`${this.#what}: answered 401 without a Bearer or Basic challenge`);
  }

  #unexpected(res: HttpResponse, what: string): Error {
    discard(res.body);
    if (res.status === 404) return new NotFoundError(`${this.#what}: ${what} not found`);
    if (res.status === 429) return new UnavailableError(`${this.#what}: rate limited (HTTP 429) fetching ${what}`);
    return new UnavailableError(`${this.#what}: HTTP ${res.status} fetching ${what}`);
  }

  /**
   * Fetches a manifest by tag or digest. `expected` (a digest) must match the body; so must the
   * registry's `Docker-Content-Digest` when it sends one. `expectedSize` (from an index) must match too.
   */
  async manifest(
    reference: string,
    what: string,
    maxBytes: number,
    expected?: { digest: string; size?: number },
  ): Promise<FetchedManifest> {
    const deadlineMs = this.#http.timeouts.documentMs;
    const res = await this.#get(`manifests/${reference}`, { accept: MANIFEST_ACCEPT }, deadlineMs);
    if (res.status !== 200) throw this.#unexpected(res, `manifest ${what}`);
    const claimed = header(res.headers, 'docker-content-digest');
    const bytes = await this.#http.readBounded(res, maxBytes, `${this.#what}: manifest ${what}`, deadlineMs);
    if (expected?.size !== undefined && bytes.length !== expected.size) {
      throw new IntegrityError(
        `${this.#what}: manifest ${what} is ${bytes.length} bytes, the index says ${expected.size}`,
      );
    }
    const digest = digestOf(bytes, expected?.digest);
    if (expected !== undefined && digest !== expected.digest) {
      throw new IntegrityError(`${this.#what}: manifest ${what} does not match its digest (got ${digest})`);
    }
    if (claimed !== undefined && isDigest(claimed) && digestOf(bytes, claimed) !== claimed) {
      throw new IntegrityError(`${this.#what}: manifest ${what} does not match the Docker-Content-Digest ${claimed}`);
    }
    return { bytes, contentType: header(res.headers, 'content-type'), digest };
  }

  /** A small blob (the config), read whole within `maxBytes` and verified. */
  async blobBytes(desc: Descriptor, what: string, maxBytes: number): Promise<Buffer> {
    if (desc.size > maxBytes) {
      throw new LimitExceededError(`${this.#what}: ${what} is ${desc.size} bytes, over the limit of ${maxBytes}`);
    }
    const deadlineMs = this.#http.timeouts.documentMs;
    const res = await this.#get(`blobs/${desc.digest}`, {}, deadlineMs);
    if (res.status !== 200) throw this.#unexpected(res, `${what} ${desc.digest}`);
    const bytes = await this.#http.readBounded(res, desc.size, `${this.#what}: ${what} ${desc.digest}`, deadlineMs);
    if (bytes.length !== desc.size || digestOf(bytes, desc.digest) !== desc.digest) {
      throw new IntegrityError(`${this.#what}: ${what} ${desc.digest} does not match its digest`);
    }
    return bytes;
  }

  /**
   * Opens a blob as a stream. Nothing is buffered beyond what the consumer has not read yet; more bytes than
   * the descriptor's size, or fewer, is an IntegrityError; network failures arrive as one clear
   * UnavailableError. Destroying the stream releases the connection at once. The digest is verified by
   * whoever consumes the stream (the layer reader).
   */
  async openBlob(desc: Descriptor): Promise<Readable> {
    const what = `layer ${desc.digest}`;
    const res = await this.#get(`blobs/${desc.digest}`, {});
    if (res.status !== 200) throw this.#unexpected(res, what);
    const declared = header(res.headers, 'content-length');
    if (declared !== undefined && Number(declared) !== desc.size) {
      discard(res.body);
      throw new IntegrityError(`${this.#what}: ${what} is ${declared} bytes, the manifest says ${desc.size}`);
    }
    const body = res.body;
    let total = 0;
    const out = new Readable({
      read: () => body.resume(),
      destroy: (err, cb) => {
        discard(body);
        cb(err);
      },
    });
    body.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > desc.size) {
        out.destroy(
          new IntegrityError(`${this.#what}: ${what} is longer than the ${desc.size} bytes the manifest says`),
        );
        return;
      }
      if (!out.push(chunk)) body.pause();
    });
    body.on('end', () => {
      if (total !== desc.size) {
        out.destroy(new IntegrityError(`${this.#what}: ${what} ended after ${total} of ${desc.size} bytes`));
      } else {
        out.push(null);
      }
    });
    body.on('error', (err) => out.destroy(this.#http.networkError(err, `${this.#what}: ${what}`)));
    body.pause();
    return out;
  }
}
