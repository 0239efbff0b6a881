import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const repoRoot = new URL('..', import.meta.url).pathname;
export const cacheDir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'palisade');

export interface Measured {
  seconds: number;
  maxRssMb: number;
  stdout: string;
}

/** Runs a command under GNU time for wall time and peak memory (RSS of the process tree's largest member). */
export async function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Measured> {
  const { stdout, stderr } = await run('/usr/bin/time', ['-f', '@@time %e %M', cmd, ...args], {
    env,
    maxBuffer: 1 << 30,
  });
  const m = /@@time ([\d.]+) (\d+)/.exec(stderr);
  if (!m) throw new Error(`no timing in output of ${cmd}: ${stderr.slice(-500)}`);
  return { seconds: Number(m[1]), maxRssMb: Number(m[2]) / 1024, stdout };
}

/** Installs a peer tool from the npm registry once into the bench cache and returns its folder. */
export async function npmPeer(pkg: string): Promise<string> {
  const dir = join(cacheDir, 'bench-peers');
  const folder = join(dir, 'node_modules', pkg);
  if (!existsSync(folder)) {
    await mkdir(dir, { recursive: true });
    await run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', dir, pkg], { maxBuffer: 1 << 26 });
  }
  return folder;
}

export function testImagesDir(): string {
  return process.env.PALISADE_TEST_IMAGES ?? join(cacheDir, 'test-images');
}

export function ratio(ours: number, peer: number): string {
  return peer > 0 ? `${(ours / peer).toFixed(2)}x` : 'n/a';
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
