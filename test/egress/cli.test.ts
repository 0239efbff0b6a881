import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyToken } from '../../src/egress/index.js';
import { palisade } from '../helpers/cli.js';
import { body, closeServer, connectVia, echo, startTcpUpstream, waitFor } from './helpers.js';

const repo = new URL('../..', import.meta.url).pathname;
const cli = ['--import', 'tsx', join(repo, 'src/cli/main.ts')];

let tcp: Awaited<ReturnType<typeof startTcpUpstream>>;
beforeAll(async () => {
  tcp = await startTcpUpstream();
});
afterAll(async () => {
  await closeServer(tcp.server);
});

const yaml = (host: string, log: string) => `
listen: 127.0.0.1:0
log: ${log}
resolve: { old.test: 127.0.0.1, new.test: 127.0.0.1 }
defaultPolicy: p
policies:
  p:
    allow: [{ host: ${host}, ports: [${tcp.port}] }]
    allowCidrs: [127.0.0.1/32]
`;

describe('palisade egress (CLI)', () => {
  it('hash-token reads the token from stdin and prints a hash that verifies it', async () => {
    const r = await palisade(['egress', 'hash-token'], { input: 'a-long-enough-token-123\n' });
    expect(r.code).toBe(0);
    expect(await verifyToken('a-long-enough-token-123', r.stdout.trim())).toBe(true);
    const short = await palisade(['egress', 'hash-token'], { input: 'short\n' });
    expect(short.code).toBe(2);
    expect(short.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('an invalid config file exits 2 with one line naming the key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'palisade-cli-'));
    await writeFile(join(dir, 'bad.yaml'), 'policies: {p: {mode: enforcing}}\n');
    const r = await palisade(['egress', '--config', join(dir, 'bad.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('palisade: egress config: /policies/p/mode: must be one of enforce, report\n');
  });

  it('SIGHUP reloads the file; SIGTERM drains: the open tunnel keeps working, new connections are refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'palisade-cli-'));
    const file = join(dir, 'egress.yaml');
    const logFile = join(dir, 'access.log');
    await writeFile(file, yaml('old.test', logFile));
    const child: ChildProcess = spawn(process.execPath, [...cli, 'egress', '--config', file, '--no-watch'], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    try {
      await waitFor(() => /listening on/.test(stderr), 20_000, 'proxy to listen');
      const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(stderr)![1]);
      const tunnel = await connectVia(port, `old.test:${tcp.port}`);
      expect(tunnel.status).toBe(200);

      await writeFile(file, yaml('new.test', logFile));
      child.kill('SIGHUP');
      await waitFor(() => /reload: policies reloaded/.test(stderr), 10_000, 'reload');
      expect((await connectVia(port, `old.test:${tcp.port}`)).status).toBe(403);
      const fresh = await connectVia(port, `new.test:${tcp.port}`);
      expect(fresh.status).toBe(200);
      fresh.socket.destroy();

      child.kill('SIGTERM');
      await waitFor(() => /draining/.test(stderr), 10_000, 'drain');
      const data = body(10_000);
      expect((await echo(tunnel.socket, data)).equals(data)).toBe(true);
      const refused = await new Promise<string>((r) => {
        const s = connect({ host: '127.0.0.1', port });
        s.on('connect', () => r('connected'));
        s.on('error', (e: NodeJS.ErrnoException) => r(e.code ?? 'error'));
      });
      expect(refused).toBe('ECONNREFUSED');
      tunnel.socket.destroy();
      expect(await exited).toBe(0);
      const lines = (await readFile(logFile, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(
        lines
          .filter((l) => l.type === 'connect')
          .map((l) => `${l.host} ${l.decision}`)
          .sort(),
      ).toEqual(['new.test allow', 'old.test allow', 'old.test deny']);
      expect(lines.find((l) => l.host === 'old.test' && l.decision === 'allow').bytesDown).toBe(10_000);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
