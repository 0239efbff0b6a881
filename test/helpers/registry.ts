/**
 * Test helper: a real Docker Distribution registry (Debian `docker-registry`) on 127.0.0.1 and a free port,
 * with filesystem storage in a temp dir, optional htpasswd (bcrypt) Basic auth and optional push
 * notifications; plus pushing the project's test images into it with skopeo, and raw blob/manifest
 * uploads for documents skopeo does not write (hand-made indexes).
 *
 *   const reg = await startRegistry({ htpasswd: { username: 'alice', password: 's3cret' } });
 *   await reg.pushImage('debian', 'palisade/debian:bookworm');
 *   ...
 *   await reg.stop();
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { freePort } from './free-port.js';
import { testImage } from './test-images.js';

const run = promisify(execFile);

export type TestImageName = 'debian' | 'npm-app';
export const TEST_IMAGE_TAGS: Record<TestImageName, string> = { debian: 'bookworm', 'npm-app': 'app' };

/** The OCI layout directory and tag of a test image. */
export function testImageLayout(name: TestImageName): { dir: string; tag: string } {
  return { dir: join(testImage(name), 'oci'), tag: TEST_IMAGE_TAGS[name] };
}

export interface StartRegistryOptions {
  /** Require Basic auth with this one user (bcrypt htpasswd, as distribution requires). */
  htpasswd?: { username: string; password: string };
  /** Send push/pull notifications to this URL (for gate tests). */
  notificationsUrl?: string;
}

export interface TestRegistry {
  /** "127.0.0.1:PORT" — what goes before the repository in a reference. */
  host: string;
  /** "http://127.0.0.1:PORT" */
  url: string;
  /** Temp dir holding config, storage and htpasswd; removed by stop(). */
  dir: string;
  /**
   * Copies a test image (OCI layout) into `dest` ("palisade/debian:bookworm"). `format: 'v2s2'` writes Docker
   * schema2; `layers: 'zstd'` pushes the zstd-compressed layout of the same image.
   */
  pushImage(
    image: TestImageName,
    dest: string,
    opts?: { format?: 'oci' | 'v2s2'; layers?: 'gzip' | 'zstd' },
  ): Promise<void>;
  /** Uploads a blob (monolithic POST+PUT); returns its digest. A stream needs its digest given. */
  putBlob(repository: string, bytes: Buffer | Readable, digest?: string): Promise<string>;
  /** PUTs a manifest or index document under a tag or digest; returns its digest. */
  putManifest(repository: string, reference: string, mediaType: string, bytes: Buffer): Promise<string>;
  stop(): Promise<void>;
}

function authHeader(opts: StartRegistryOptions): Record<string, string> {
  const u = opts.htpasswd;
  return u ? { authorization: `Basic ${Buffer.from(`${u.username}:${u.password}`).toString('base64')}` } : {};
}

async function waitReady(url: string, proc: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`docker-registry exited (${proc.exitCode}): ${stderr().slice(-800)}`);
    try {
      const res = await fetch(`${url}/v2/`);
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry did not answer on ${url}/v2/ within 20s: ${stderr().slice(-800)}`);
}

export async function startRegistry(opts: StartRegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'palisade-registry-'));
  let lastError: unknown;
  // A free port may be taken between probing and binding: retry a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const url = `http://${host}`;
    const config: Record<string, unknown> = {
      version: 0.1,
      log: { level: 'error', accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: join(dir, 'data') }, delete: { enabled: true } },
      http: { addr: host, secret: randomBytes(16).toString('hex') },
    };
    if (opts.htpasswd) {
      const { stdout } = await run('htpasswd', ['-Bbn', opts.htpasswd.username, opts.htpasswd.password]);
      await writeFile(join(dir, 'htpasswd'), stdout);
      config.auth = { htpasswd: { realm: 'palisade-test', path: join(dir, 'htpasswd') } };
    }
    if (opts.notificationsUrl) {
      config.notifications = {
        endpoints: [{ name: 'palisade', url: opts.notificationsUrl, timeout: '2s', threshold: 5, backoff: '1s' }],
      };
    }
    const configPath = join(dir, 'config.yml');
    await writeFile(configPath, stringify(config));
    const proc = spawn('docker-registry', ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
    });
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    try {
      await waitReady(url, proc, () => err);
    } catch (e) {
      lastError = e;
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
      continue;
    }

    const headers = authHeader(opts);
    const reg: TestRegistry = {
      host,
      url,
      dir,
      async pushImage(image, dest, pushOpts = {}) {
        const source = testImageLayout(image);
        const tag = source.tag;
        const layout = pushOpts.layers === 'zstd' ? join(source.dir, '..', 'oci-zstd') : source.dir;
        const args = ['--insecure-policy', 'copy', '-q', '--dest-tls-verify=false'];
        if (opts.htpasswd) {
          // An auth file rather than --dest-creds: credentials stay out of the process list.
          const authfile = join(dir, 'push-auth.json');
          const auth = Buffer.from(`${opts.htpasswd.username}:${opts.htpasswd.password}`).toString('base64');
          await writeFile(authfile, JSON.stringify({ auths: { [host]: { auth } } }), { mode: 0o600 });
          args.push('--dest-authfile', authfile);
        }
        if (pushOpts.format === 'v2s2') args.push('--format', 'v2s2');
        else if (pushOpts.format === 'oci') args.push('--format', 'oci');
        args.push(`oci:${layout}:${tag}`, `docker://${host}/${dest}`);
        await run('skopeo', args, { maxBuffer: 16 * 1024 * 1024 });
      },
      async putBlob(repository, bytes, given) {
        const digest = Buffer.isBuffer(bytes) ? `sha256:${createHash('sha256').update(bytes).digest('hex')}` : given;
        if (digest === undefined) throw new Error('putBlob: a stream needs its digest');
        const start = await fetch(`${url}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers });
        await start.arrayBuffer();
        if (start.status !== 202) throw new Error(`blob upload start: HTTP ${start.status}`);
        const location = new URL(start.headers.get('location')!, url);
        location.searchParams.set('digest', digest);
        const put = await fetch(location, {
          method: 'PUT',
          headers: { ...headers, 'content-type': 'application/octet-stream' },
          body: Buffer.isBuffer(bytes) ? bytes : (Readable.toWeb(bytes) as ReadableStream),
          duplex: 'half',
        } as RequestInit);
        await put.arrayBuffer();
        if (put.status !== 201) throw new Error(`blob upload: HTTP ${put.status}`);
        return digest;
      },
      async putManifest(repository, reference, mediaType, bytes) {
        const res = await fetch(`${url}/v2/${repository}/manifests/${reference}`, {
          method: 'PUT',
          headers: { ...headers, 'content-type': mediaType },
          body: bytes,
        });
        const text = await res.text();
        if (res.status !== 201) throw new Error(`manifest PUT ${repository}:${reference}: HTTP ${res.status} ${text}`);
        return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      },
      async stop() {
        if (proc.exitCode === null) {
          proc.kill('SIGTERM');
          await exited;
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
    return reg;
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}
