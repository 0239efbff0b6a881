/**
 * Hostile and broken registries, each a loopback Node server: garbage and oversized documents, digest
 * mismatches, stalled and trickling bodies, auth failures, 404s, redirect loops, untrusted TLS.
 * Each must end in the right error class with one clear line that carries no secret.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import {
  AuthError,
  IntegrityError,
  LimitExceededError,
  NotFoundError,
  type PalisadeError,
  UnavailableError,
  UserInputError,
} from '../../../src/core/errors.js';
import { DEFAULT_TIMEOUTS, HttpClient } from '../../../src/image/registry/http.js';
import { openRegistryImage, type RegistryOpenOptions } from '../../../src/image/registry/index.js';
import { DEFAULT_LIMITS } from '../../../src/image/types.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const GZIP_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const SECRET = 'hunter2-must-never-appear';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function tarOf(files: Record<string, string | Buffer>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, body] of Object.entries(files)) pack.entry({ name, mode: 0o644 }, body);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A small valid image: one gzip layer, its config, its manifest. */
interface Doc {
  bytes: Buffer;
  digest: string;
}
let layer: Doc;
/** Another valid gzip tar of exactly the layer's size: only the digest can tell them apart. */
let forgedLayer: Buffer;
let config: Doc;
let manifest: Doc;

function doc(value: unknown): Doc {
  const bytes = Buffer.from(JSON.stringify(value));
  return { bytes, digest: sha256(bytes) };
}

function manifestFor(cfg: Doc, layers: { digest: string; size: number; mediaType?: string }[], cfgType = OCI_CONFIG) {
  return doc({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: cfgType, digest: cfg.digest, size: cfg.bytes.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType ?? GZIP_LAYER, digest: l.digest, size: l.size })),
  });
}

beforeAll(async () => {
  const t = await tarOf({ 'etc/hello': 'hello\n', 'usr/bin/app': '#!/bin/sh\n' });
  // Stored (level 0) deflate: the size depends only on the input size, so a same-size forgery exists.
  const gz = gzipSync(t, { level: 0 });
  layer = { bytes: gz, digest: sha256(gz) };
  forgedLayer = gzipSync(await tarOf({ 'etc/hello': 'HELLO\n', 'usr/bin/app': '#!/bin/sh\n' }), { level: 0 });
  expect(forgedLayer.length).toBe(gz.length);
  expect(sha256(forgedLayer)).not.toBe(layer.digest);
  config = doc({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(t)] } });
  manifest = manifestFor(config, [{ digest: layer.digest, size: layer.bytes.length }]);
});

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const servers: Server[] = [];

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * A registry for repository "evil/app" that serves the valid image unless a route overrides a path
 * ("/v2/evil/app/manifests/latest", "/v2/evil/app/blobs/<digest>", "/token", ...).
 */
async function registry(routes: Record<string, Handler> = {}): Promise<string> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const route = routes[path];
    if (route !== undefined) return route(req, res);
    const send = (d: Doc, type: string) => {
      res.writeHead(200, { 'content-type': type, 'content-length': d.bytes.length, 'docker-content-digest': d.digest });
      res.end(d.bytes);
    };
    if (path === '/v2/evil/app/manifests/latest' || path === `/v2/evil/app/manifests/${manifest.digest}`) {
      return send(manifest, OCI_MANIFEST);
    }
    if (path === `/v2/evil/app/blobs/${config.digest}`) return send(config, 'application/octet-stream');
    if (path === `/v2/evil/app/blobs/${layer.digest}`) return send(layer, 'application/octet-stream');
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
  });
  return listen(server);
}

const json = (body: string | Buffer, type = OCI_MANIFEST, extra: Record<string, string> = {}): Handler => {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': type, ...extra });
    res.end(body);
  };
};

/** Headers and a first piece of body, then nothing: the connection stays open. */
const stall =
  (first: Buffer, length?: number): Handler =>
  (_req, res) => {
    res.writeHead(200, {
      'content-type': OCI_MANIFEST,
      ...(length !== undefined && { 'content-length': length }),
    });
    res.write(first);
  };

const FAST: RegistryOpenOptions['timeouts'] = { connectMs: 2000, headersMs: 500, bodyIdleMs: 500, documentMs: 1500 };

async function open(host: string, ref = 'evil/app:latest', opts: RegistryOpenOptions = {}) {
  return openRegistryImage(`${host}/${ref}`, {
    insecureRegistry: true,
    timeouts: FAST,
    dockerConfigDir: noConfig,
    ...opts,
  });
}

async function failure(p: Promise<unknown>): Promise<PalisadeError> {
  const err = await p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
  const message = (err as Error).message;
  // Every failure: one line, and no secret of any kind.
  expect(message).not.toContain('\n');
  expect(message).not.toContain(SECRET);
  expect(message).not.toContain(Buffer.from(`alice:${SECRET}`).toString('base64'));
  return err as PalisadeError;
}

async function drain(host: string, opts: RegistryOpenOptions = {}): Promise<number> {
  const image = await open(host, 'evil/app:latest', opts);
  try {
    let n = 0;
    for await (const _ of image.layers[0]!.entries(DEFAULT_LIMITS)) n++;
    return n;
  } finally {
    await image.close();
  }
}

let noConfig: string;
beforeAll(async () => {
  noConfig = await mkdtemp(join(tmpdir(), 'palisade-noconfig-'));
});
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()).closeAllConnections())),
  );
});
afterAll(async () => {
  await rm(noConfig, { recursive: true, force: true });
});

describe('hostile registries', () => {
  test('the valid loopback image pulls (the baseline the other cases break)', async () => {
    const host = await registry();
    expect(await drain(host)).toBe(2);
  });

  test.each([
    ['not JSON', '{"schemaVersion": 2, "lay', 'not JSON'],
    ['a JSON array', '[1,2,3]', 'not a JSON object'],
    ['schemaVersion 3', '{"schemaVersion":3}', 'schemaVersion is not 2'],
    [
      'no layers',
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}',
      'manifest without "layers"',
    ],
    [
      'a layer digest that is not a digest',
      JSON.stringify({
        schemaVersion: 2,
        config: { mediaType: OCI_CONFIG, digest: `sha256:${'a'.repeat(64)}`, size: 2 },
        layers: [{ mediaType: GZIP_LAYER, digest: 'sha256:../../etc/passwd', size: 1 }],
      }),
      'layers[0].digest is not a digest',
    ],
    [
      'a negative size',
      JSON.stringify({
        schemaVersion: 2,
        config: { mediaType: OCI_CONFIG, digest: `sha256:${'a'.repeat(64)}`, size: -1 },
        layers: [],
      }),
      'config.size is not a byte count',
    ],
  ])('a garbage manifest (%s) is UnavailableError naming the defect', async (_name, body, why) => {
    const host = await registry({ '/v2/evil/app/manifests/latest': json(body) });
    const err = await failure(open(host));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toBe(`manifest ${host}/evil/app:latest: the registry answered an invalid manifest (${why})`);
  });

  test.each([
    ['with Content-Length', true],
    ['chunked, without Content-Length', false],
  ])('a manifest over maxManifestBytes (%s) is LimitExceededError', async (_name, withLength) => {
    const big = Buffer.from(JSON.stringify({ schemaVersion: 2, layers: [], pad: 'x'.repeat(4000) }));
    const host = await registry({
      '/v2/evil/app/manifests/latest': (_req, res) => {
        res.writeHead(200, { 'content-type': OCI_MANIFEST, ...(withLength && { 'content-length': big.length }) });
        res.write(big.subarray(0, 2000));
        res.end(big.subarray(2000));
      },
    });
    const err = await failure(open(host, 'evil/app:latest', { limits: { maxManifestBytes: 1024 } }));
    expect(err).toBeInstanceOf(LimitExceededError);
    expect(err.message).toMatch(new RegExp(`^registry ${host}: manifest ${host}/evil/app:latest: .*limit of 1024`));
  });

  test('an endless manifest body stops at the limit (bounded memory)', async () => {
    const host = await registry({
      '/v2/evil/app/manifests/latest': (_req, res) => {
        res.writeHead(200, { 'content-type': OCI_MANIFEST });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = () => {
          while (!res.destroyed && res.write(chunk)) {}
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
      },
    });
    const err = await failure(open(host, 'evil/app:latest', { limits: { maxManifestBytes: 256 * 1024 } }));
    expect(err).toBeInstanceOf(LimitExceededError);
    expect(err.message).toBe(`registry ${host}: manifest ${host}/evil/app:latest: more than the limit of 262144 bytes`);
  });

  test('a manifest pulled by digest whose bytes differ is IntegrityError', async () => {
    const other = `sha256:${'b'.repeat(64)}`;
    const host = await registry({ [`/v2/evil/app/manifests/${other}`]: json(manifest.bytes) });
    const err = await failure(open(host, `evil/app@${other}`));
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err.message).toBe(
      `registry ${host}: manifest ${host}/evil/app@${other} does not match its digest (got ${manifest.digest})`,
    );
  });

  test('a Docker-Content-Digest that does not match the manifest bytes is IntegrityError', async () => {
    const claimed = `sha256:${'c'.repeat(64)}`;
    const host = await registry({
      '/v2/evil/app/manifests/latest': json(manifest.bytes, OCI_MANIFEST, { 'docker-content-digest': claimed }),
    });
    const err = await failure(open(host));
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err.message).toContain(`does not match the Docker-Content-Digest ${claimed}`);
  });

  test('a config blob that does not match its digest is IntegrityError', async () => {
    const forged = Buffer.from(config.bytes.toString().replace('amd64', 'arm64'));
    const host = await registry({ [`/v2/evil/app/blobs/${config.digest}`]: json(forged, 'application/octet-stream') });
    const err = await failure(open(host));
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err.message).toBe(`registry ${host}: image config ${config.digest} does not match its digest`);
  });

  test.each([
    [
      'with a corrupted gzip trailer (same size)',
      (b: Buffer) => Buffer.from(b).fill(0x41, b.length - 8, b.length - 4),
      'blob digest mismatch: expected',
    ],
    ['with different, valid content (same size)', () => forgedLayer, 'blob digest mismatch: expected'],
    ['longer than the manifest says', (b: Buffer) => Buffer.concat([b, Buffer.alloc(10)]), 'is longer than the'],
    ['shorter than the manifest says', (b: Buffer) => b.subarray(0, b.length - 10), 'ended after'],
  ])('a layer blob %s is IntegrityError from entries()', async (_name, mutate, why) => {
    const host = await registry({
      [`/v2/evil/app/blobs/${layer.digest}`]: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(mutate(layer.bytes));
      },
    });
    const err = await failure(drain(host));
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err.message).toContain(`layer ${layer.digest}`);
    expect(err.message).toContain(why);
  });

  test('a layer blob whose Content-Length disagrees with the manifest is IntegrityError before any entry', async () => {
    const host = await registry({
      [`/v2/evil/app/blobs/${layer.digest}`]: (_req, res) => {
        const b = Buffer.concat([layer.bytes, Buffer.alloc(100)]);
        res.writeHead(200, { 'content-length': b.length });
        res.end(b);
      },
    });
    const err = await failure(drain(host));
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err.message).toBe(
      `registry ${host}: layer ${layer.digest} is ${layer.bytes.length + 100} bytes, the manifest says ${layer.bytes.length}`,
    );
  });

  test('a manifest body that never finishes is UnavailableError after the idle timeout', async () => {
    const host = await registry({ '/v2/evil/app/manifests/latest': stall(manifest.bytes.subarray(0, 20), 5000) });
    const start = Date.now();
    const err = await failure(open(host));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toBe(
      `registry ${host}: manifest ${host}/evil/app:latest: the response body stalled for more than 0.5s`,
    );
    expect(Date.now() - start).toBeLessThan(5000);
  });

  test('a layer body that stalls half-way is UnavailableError from entries() after the idle timeout', async () => {
    const host = await registry({
      [`/v2/evil/app/blobs/${layer.digest}`]: (_req, res) => {
        res.writeHead(200, { 'content-length': layer.bytes.length });
        res.write(layer.bytes.subarray(0, 50));
      },
    });
    const start = Date.now();
    const err = await failure(drain(host));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toBe(`registry ${host}: layer ${layer.digest}: the response body stalled for more than 0.5s`);
    expect(Date.now() - start).toBeLessThan(5000);
  });

  test('a consumer that stops after the first entry releases the blob connection at once', async () => {
    const big = gzipSync(await tarOf({ 'etc/first': 'x\n', 'var/big': 'y'.repeat(1024 * 1024) }), { level: 0 });
    const t = await tarOf({ 'etc/first': 'x\n', 'var/big': 'y'.repeat(1024 * 1024) });
    const cfg = doc({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(t)] } });
    const m = manifestFor(cfg, [{ digest: sha256(big), size: big.length }]);
    let closed: (() => void) | undefined;
    const socketClosed = new Promise<void>((resolve) => {
      closed = resolve;
    });
    const host = await registry({
      '/v2/evil/app/manifests/latest': json(m.bytes),
      [`/v2/evil/app/blobs/${cfg.digest}`]: json(cfg.bytes, 'application/octet-stream'),
      [`/v2/evil/app/blobs/${sha256(big)}`]: (req, res) => {
        res.writeHead(200, { 'content-length': big.length });
        res.write(big.subarray(0, 4096)); // the first entry, then nothing more for now
        req.socket.on('close', () => closed?.());
      },
    });
    const image = await open(host, 'evil/app:latest', { timeouts: { ...FAST, bodyIdleMs: 30_000 } });
    try {
      for await (const e of image.layers[0]!.entries(DEFAULT_LIMITS)) {
        expect(e.path).toBe('etc/first');
        break;
      }
      const released = await Promise.race([
        socketClosed.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 2000)),
      ]);
      expect(released).toBe(true);
    } finally {
      await image.close();
    }
  });

  test('blobs stream with backpressure: a paused consumer holds only a few MiB of a 64 MiB layer', async () => {
    const t = await tarOf({ 'etc/first': 'x\n', 'var/big': Buffer.alloc(64 * 1024 * 1024, 0x7a) });
    const big = gzipSync(t, { level: 0 });
    const cfg = doc({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(t)] } });
    const m = manifestFor(cfg, [{ digest: sha256(big), size: big.length }]);
    let sent = 0;
    const host = await registry({
      '/v2/evil/app/manifests/latest': json(m.bytes),
      [`/v2/evil/app/blobs/${cfg.digest}`]: json(cfg.bytes, 'application/octet-stream'),
      [`/v2/evil/app/blobs/${sha256(big)}`]: (_req, res) => {
        res.writeHead(200, { 'content-length': big.length });
        const pump = () => {
          while (sent < big.length && !res.destroyed) {
            const ok = res.write(big.subarray(sent, sent + 65536));
            sent = Math.min(sent + 65536, big.length);
            if (!ok) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
      },
    });
    const image = await open(host);
    try {
      const it = image.layers[0]!.entries(DEFAULT_LIMITS)[Symbol.asyncIterator]();
      expect((await it.next()).value?.path).toBe('etc/first');
      await new Promise((r) => setTimeout(r, 1000)); // the consumer is busy; nothing should pile up
      expect(sent).toBeLessThan(16 * 1024 * 1024);
      await it.return?.();
    } finally {
      await image.close();
    }
  });

  test('a server that never sends headers is UnavailableError after the headers timeout', async () => {
    const host = await registry({ '/v2/evil/app/manifests/latest': () => {} });
    const err = await failure(open(host));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toBe(`registry ${host}: no response within 0.5s`);
  });

  test('a manifest trickled one byte at a time is cut off by the document deadline', async () => {
    const host = await registry({
      '/v2/evil/app/manifests/latest': (_req, res) => {
        res.writeHead(200, { 'content-type': OCI_MANIFEST });
        const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), 100);
        res.on('close', () => clearInterval(timer));
      },
    });
    const start = Date.now();
    const err = await failure(open(host));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toBe(`registry ${host}: manifest ${host}/evil/app:latest: no complete answer within 1.5s`);
    expect(Date.now() - start).toBeLessThan(5000);
  });

  test('a 401 to the given credentials is AuthError without the password', async () => {
    const deny: Handler = (_req, res) => {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="evil"' });
      res.end();
    };
    const host = await registry({ '/v2/evil/app/manifests/latest': deny });
    const err = await failure(open(host, 'evil/app:latest', { username: 'alice', password: SECRET }));
    expect(err).toBeInstanceOf(AuthError);
    expect(err.message).toBe(`registry ${host}: the credentials were rejected for evil/app`);
  });

  test('a registry that keeps refusing its own token is AuthError without the token', async () => {
    let realm = '';
    const host = await registry({
      '/token': json(JSON.stringify({ token: SECRET }), 'application/json'),
      '/v2/evil/app/manifests/latest': (_req, res) => {
        res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="evil"` });
        res.end();
      },
    });
    realm = `http://${host}/token`;
    const err = await failure(open(host));
    expect(err).toBeInstanceOf(AuthError);
    expect(err.message).toBe(
      `registry ${host}: evil/app requires credentials (use --username/--password or docker login)`,
    );
  });

  test.each([
    ['invalid JSON', 'not json at all', 'answered invalid JSON'],
    ['no token field', '{"expires_in":300}', 'answered without a token'],
  ])('a token service that answers %s is UnavailableError', async (_name, body, why) => {
    let realm = '';
    const host = await registry({
      '/token': json(body, 'application/json'),
      '/v2/evil/app/manifests/latest': (_req, res) => {
        res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}"` });
        res.end();
      },
    });
    realm = `http://${host}/token`;
    const err = await failure(open(host));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toBe(`registry ${host}: the token service ${host} ${why}`);
  });

  test('a 404 is NotFoundError naming the reference', async () => {
    const host = await registry();
    const err = await failure(open(host, 'evil/app:v9'));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toBe(`registry ${host}: manifest ${host}/evil/app:v9 not found`);
  });

  test('a redirect loop on a blob is UnavailableError after a bounded number of hops', async () => {
    let hops = 0;
    const host = await registry({
      [`/v2/evil/app/blobs/${layer.digest}`]: (req, res) => {
        hops++;
        res.writeHead(302, { location: req.url });
        res.end();
      },
    });
    const err = await failure(drain(host));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toBe(`registry ${host}: more than 5 redirects (a redirect loop?)`);
    expect(hops).toBe(6);
  });

  test('a redirect to a non-HTTP scheme is refused', async () => {
    const host = await registry({
      [`/v2/evil/app/blobs/${layer.digest}`]: (_req, res) => {
        res.writeHead(307, { location: 'file:///etc/passwd' });
        res.end();
      },
    });
    const err = await failure(drain(host));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toBe(`registry ${host}: redirect to unsupported URL scheme "file:"`);
  });

  test('storage that fails after a signed redirect is named by host, never by its signed URL', async () => {
    const storage = await listen(
      createServer((_req, res) => {
        res.writeHead(500);
        res.end();
      }),
    );
    const host = await registry({
      [`/v2/evil/app/blobs/${layer.digest}`]: (_req, res) => {
        res.writeHead(307, { location: `http://${storage}/blob?X-Amz-Signature=${SECRET}` });
        res.end();
      },
    });
    const err = await failure(drain(host));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toBe(`registry ${host}: HTTP 500 fetching layer ${layer.digest}`);
  });

  test('without --insecure-registry a plain-HTTP URL is refused before any request', async () => {
    const http = new HttpClient({ timeouts: { ...DEFAULT_TIMEOUTS, ...FAST }, insecure: false });
    const err = await failure(http.get(new URL('http://127.0.0.1:9/v2/'), 'token service'));
    await http.close();
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toBe(
      'token service 127.0.0.1:9 is plain HTTP; refusing without --insecure-registry (TLS is required by default)',
    );
  });

  test.each([
    [
      'Docker schema 1',
      JSON.stringify({ schemaVersion: 1, name: 'evil/app', fsLayers: [] }),
      UserInputError,
      'schema 1',
    ],
    [
      'an artifact (helm chart config)',
      JSON.stringify({
        schemaVersion: 2,
        config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: `sha256:${'d'.repeat(64)}`, size: 2 },
        layers: [],
      }),
      UserInputError,
      'not a container image (config media type "application/vnd.cncf.helm.config.v1+json")',
    ],
    [
      'an encrypted layer',
      JSON.stringify({
        schemaVersion: 2,
        config: { mediaType: OCI_CONFIG, digest: `sha256:${'d'.repeat(64)}`, size: 2 },
        layers: [{ mediaType: `${GZIP_LAYER}+encrypted`, digest: `sha256:${'e'.repeat(64)}`, size: 2 }],
      }),
      UserInputError,
      'not a filesystem layer',
    ],
  ])('%s is refused as UserInputError', async (_name, body, klass, why) => {
    const host = await registry({ '/v2/evil/app/manifests/latest': json(body) });
    const err = await failure(open(host));
    expect(err).toBeInstanceOf(klass);
    expect(err.message).toContain(why);
  });

  test('indexes nested four deep are refused', async () => {
    // Each index points at the next; the last would point at the image.
    const routes: Record<string, Handler> = {};
    let next = { digest: manifest.digest, size: manifest.bytes.length, mediaType: OCI_MANIFEST };
    for (let i = 0; i < 4; i++) {
      const index = doc({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [{ ...next, platform: { os: 'linux', architecture: 'amd64' } }],
      });
      routes[`/v2/evil/app/manifests/${index.digest}`] = json(index.bytes, OCI_INDEX);
      routes['/v2/evil/app/manifests/latest'] = json(index.bytes, OCI_INDEX);
      next = { digest: index.digest, size: index.bytes.length, mediaType: OCI_INDEX };
    }
    const host = await registry(routes);
    const err = await failure(open(host));
    expect(err).toBeInstanceOf(UserInputError);
    expect(err.message).toBe(`${host}/evil/app:latest: image indexes nested too deeply`);
  });

  test('an index entry whose manifest size differs from the descriptor is IntegrityError', async () => {
    const index = doc({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        {
          mediaType: OCI_MANIFEST,
          digest: manifest.digest,
          size: manifest.bytes.length + 1,
          platform: { os: 'linux', architecture: 'amd64' },
        },
      ],
    });
    const host = await registry({ '/v2/evil/app/manifests/latest': json(index.bytes, OCI_INDEX) });
    const err = await failure(open(host));
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err.message).toContain(`is ${manifest.bytes.length} bytes, the index says ${manifest.bytes.length + 1}`);
  });

  test('a config whose diff_ids disagree with the manifest layer count is IntegrityError', async () => {
    const twoLayers = manifestFor(config, [
      { digest: layer.digest, size: layer.bytes.length },
      { digest: layer.digest, size: layer.bytes.length },
    ]);
    const host = await registry({ '/v2/evil/app/manifests/latest': json(twoLayers.bytes) });
    const err = await failure(open(host));
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err.message).toBe(`${host}/evil/app:latest: the config lists 1 layer diff ids, the manifest 2 layers`);
  });

  test('an HTTPS registry with an untrusted (self-signed) certificate is refused: TLS is verified', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'palisade-tls-'));
    try {
      await promisify(execFile)('openssl', [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ]);
      let requests = 0;
      const server = createHttpsServer(
        { key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) },
        (_req, res) => {
          requests++;
          res.writeHead(200, { 'content-type': OCI_MANIFEST });
          res.end(manifest.bytes);
        },
      );
      const host = await listen(server);
      const err = await failure(
        openRegistryImage(`${host}/evil/app:latest`, { timeouts: FAST, dockerConfigDir: noConfig }),
      );
      expect(err).toBeInstanceOf(UnavailableError);
      expect(err.message).toBe(`registry ${host}: TLS verification failed (DEPTH_ZERO_SELF_SIGNED_CERT)`);
      expect(requests).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
