import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IntegrityError, UnavailableError, UserInputError } from '../../../src/core/errors.js';
import { openVulnDb, updateDb } from '../../../src/vuln/db/index.js';
import { FIX, readJsonFiles, tempDir, zipOfRecords } from './helpers.js';

interface Route {
  body: Buffer;
  etag?: string;
  /** Send only this many bytes (with a matching Content-Length): a file truncated on the mirror. */
  cutTo?: number;
  /** Promise more bytes than sent, then drop the connection: a broken transfer. */
  dropAfter?: number;
}

/** A tiny OSV mirror on 127.0.0.1: `/<ecosystem>/all.zip` (+ optional `.sha256`), with ETag / 304 handling. */
class Mirror {
  routes = new Map<string, Route>();
  sidecars = new Map<string, string>();
  requests: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const path = decodeURIComponent(req.url ?? '');
      this.requests.push({ path, headers: req.headers });
      const side = this.sidecars.get(path);
      if (side !== undefined) return void res.writeHead(200).end(side);
      const r = this.routes.get(path);
      if (!r) return void res.writeHead(404).end('not found');
      if (r.etag && req.headers['if-none-match'] === r.etag) return void res.writeHead(304).end();
      const body = r.cutTo !== undefined ? r.body.subarray(0, r.cutTo) : r.body;
      const headers: Record<string, string | number> = {
        'content-type': 'application/zip',
        'content-length': body.length,
      };
      if (r.etag) headers.etag = r.etag;
      if (r.dropAfter !== undefined) {
        res.writeHead(200, headers);
        res.write(body.subarray(0, r.dropAfter), () => res.destroy());
        return;
      }
      res.writeHead(200, headers).end(body);
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/osv`;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

describe('db update from a mirror on 127.0.0.1', () => {
  const mirror = new Mirror();
  let npmZip: Buffer;
  let debianZip: Buffer;
  let pypiZip: Buffer;

  beforeAll(async () => {
    await mirror.start();
    npmZip = zipOfRecords((await readJsonFiles(`${FIX}ghsa-npm`)).map((f) => f.data));
    debianZip = zipOfRecords((await readJsonFiles(`${FIX}debian-osv`)).map((f) => f.data));
    pypiZip = zipOfRecords((await readJsonFiles(`${FIX}pypa`)).map((f) => f.data).slice(0, 50));
  });
  afterAll(() => mirror.stop());
  beforeEach(() => {
    mirror.routes.clear();
    mirror.sidecars.clear();
    mirror.requests = [];
    mirror.routes.set('/osv/npm/all.zip', { body: npmZip, etag: '"npm-1"' });
    mirror.routes.set('/osv/Debian/all.zip', { body: debianZip, etag: '"deb-1"' });
  });

  async function freshDb(): Promise<string> {
    const path = join(await tempDir(), 'vuln.db');
    const r = await updateDb(path, { mirror: mirror.url, ecosystems: ['npm', 'Debian'] });
    expect(r.ecosystems.map((e) => e.status)).toEqual(['updated', 'updated']);
    return path;
  }

  it('fetches each ecosystem, imports it (withdrawn dropped) and remembers the ETag', async () => {
    const path = await freshDb();
    const db = openVulnDb(path);
    const s = db.status();
    expect(s.records).toBe(43 + 5);
    expect(db.lookup('npm', 'lodash').map((c) => c.id)).not.toContain('GHSA-8p5q-j9m2-g8wr');
    expect(db.lookup('Debian:9', 'openssl').map((c) => c.id)).toEqual(['DLA-3008-1']);
    db.close();
    expect(mirror.requests.map((r) => r.path)).toEqual([
      '/osv/npm/all.zip',
      '/osv/npm/all.zip.sha256',
      '/osv/Debian/all.zip',
      '/osv/Debian/all.zip.sha256',
    ]);
    expect(mirror.requests[0]!.headers['if-none-match']).toBeUndefined();
  });

  it('sends If-None-Match next time; 304 everywhere leaves the data and restarts the age', async () => {
    const path = await freshDb();
    const before = openVulnDb(path);
    const lodash = before.lookup('npm', 'lodash');
    before.close();
    mirror.requests = [];
    const r = await updateDb(path, { mirror: mirror.url, ecosystems: [] }); // default: what was fetched before
    // Without --ecosystem it refreshes what was fetched before (in the DB's key order).
    expect(r.ecosystems).toEqual([
      { ecosystem: 'Debian', status: 'not-modified', bytes: 0, sha256Verified: false },
      { ecosystem: 'npm', status: 'not-modified', bytes: 0, sha256Verified: false },
    ]);
    expect(r.import).toBeUndefined();
    expect(mirror.requests.map((q) => q.headers['if-none-match'])).toEqual(['"deb-1"', '"npm-1"']);
    const after = openVulnDb(path);
    expect(after.lookup('npm', 'lodash')).toEqual(lodash);
    expect(after.status().checkedAt).toBeDefined();
    after.close();
  });

  it('a changed ecosystem is re-imported while an unchanged one answers 304', async () => {
    const path = await freshDb();
    mirror.routes.set('/osv/PyPI/all.zip', { body: pypiZip, etag: '"py-1"' });
    const r = await updateDb(path, { mirror: mirror.url, ecosystems: ['npm', 'PyPI'] });
    expect(r.ecosystems.map((e) => [e.ecosystem, e.status])).toEqual([
      ['npm', 'not-modified'],
      ['PyPI', 'updated'],
    ]);
    expect(r.import!.inserted).toBeGreaterThan(40);
    const db = openVulnDb(path);
    expect(db.status().ecosystems.map((e) => e.ecosystem)).toEqual(expect.arrayContaining(['PyPI', 'npm', 'Debian:9']));
    db.close();
  });

  it('verifies the sha256 sidecar when the mirror has one', async () => {
    mirror.sidecars.set('/osv/npm/all.zip.sha256', `${createHash('sha256').update(npmZip).digest('hex')}  all.zip\n`);
    const path = join(await tempDir(), 'vuln.db');
    const r = await updateDb(path, { mirror: mirror.url, ecosystems: ['npm'] });
    expect(r.ecosystems[0]!.sha256Verified).toBe(true);
  });

  const failures: Array<[string, () => void, string[], new (...a: never[]) => Error, RegExp]> = [
    [
      'an unknown ecosystem (404)',
      () => {},
      ['npm', 'NoSuchEcosystem'],
      UserInputError,
      /mirror has no ecosystem "NoSuchEcosystem" \(404/,
    ],
    [
      'a truncated zip on the mirror',
      () =>
        mirror.routes.set('/osv/npm/all.zip', { body: npmZip, etag: '"npm-2"', cutTo: Math.floor(npmZip.length / 2) }),
      ['npm'],
      UserInputError,
      /not a readable zip/,
    ],
    [
      'a transfer cut short',
      () => mirror.routes.set('/osv/npm/all.zip', { body: npmZip, etag: '"npm-3"', dropAfter: 1000 }),
      ['npm'],
      UnavailableError,
      /download of .* failed/,
    ],
    [
      'a sha256 sidecar that does not match',
      () => {
        mirror.routes.set('/osv/npm/all.zip', { body: npmZip, etag: '"npm-4"' });
        mirror.sidecars.set('/osv/npm/all.zip.sha256', `${'0'.repeat(64)}  all.zip\n`);
      },
      ['npm'],
      IntegrityError,
      /sha256 [0-9a-f]{64} does not match/,
    ],
  ];

  it.each(failures)('%s is a clear error and the old DB is kept', async (_name, arrange, ecosystems, type, message) => {
    const path = await freshDb();
    const before = openVulnDb(path);
    const want = { lodash: before.lookup('npm', 'lodash'), records: before.status().records };
    before.close();
    arrange();
    const err = await updateDb(path, { mirror: mirror.url, ecosystems }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toMatch(message);
    const after = openVulnDb(path);
    expect(after.lookup('npm', 'lodash')).toEqual(want.lodash);
    expect(after.status().records).toBe(want.records);
    after.close();
  });

  it('sends mirror credentials as Basic auth and never prints them', async () => {
    const withCreds = mirror.url.replace('http://', 'http://user:s3cret@');
    const err = await updateDb(join(await tempDir(), 'v.db'), { mirror: withCreds, ecosystems: ['Nope'] }).catch(
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(UserInputError);
    expect((err as Error).message).toMatch(/no ecosystem "Nope"/);
    expect((err as Error).message).not.toContain('s3cret');
    expect(mirror.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('user:s3cret').toString('base64')}`);
  });

  it.each([
    ['ftp://127.0.0.1/osv', /must be an http\(s\) URL/],
    ['not a url', /not a URL/],
  ])('refuses mirror %s', async (url, message) => {
    await expect(updateDb(join(await tempDir(), 'v.db'), { mirror: url, ecosystems: ['npm'] })).rejects.toThrow(
      message,
    );
  });

  it('an unreachable mirror is UnavailableError', async () => {
    const err = await updateDb(join(await tempDir(), 'v.db'), {
      mirror: 'http://127.0.0.1:9/osv',
      ecosystems: ['npm'],
    }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(UnavailableError);
  });
});
