/**
 * The lock-file analyzer against npm itself: `npm ls --all --json --long --package-lock-only` reads the
 * same lock (and `--omit=dev` gives the production tree, so dev = all − production). Run on a lock npm
 * wrote for an app with an alias, scoped, nested, dev and optional packages, and on Trivy's v2/v3 vectors.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { npmLockAnalyzer } from '../../../src/inventory/lang/npm-lock.js';
import { fixture, ids, run } from './helpers.js';

interface LsNode {
  version?: string;
  name?: string;
  missing?: boolean;
  dependencies?: Record<string, LsNode>;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function npmLs(dir: string, extra: string[]): Promise<Set<string>> {
  const args = [
    'ls',
    '--all',
    '--json',
    '--long',
    '--package-lock-only',
    '--offline',
    '--no-update-notifier',
    ...extra,
  ];
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)('npm', args, { cwd: dir, maxBuffer: 64 << 20 }));
  } catch (err) {
    stdout = (err as { stdout?: string }).stdout ?? ''; // npm ls exits 1 on "invalid" trees but still prints them
  }
  const out = new Set<string>();
  const visit = (deps: Record<string, LsNode> | undefined, depth: number): void => {
    for (const [key, d] of Object.entries(deps ?? {})) {
      if (d.version && !d.missing && !d.version.startsWith('file:')) out.add(`${d.name ?? key}@${d.version}`);
      if (depth < 100) visit(d.dependencies, depth + 1);
    }
  };
  visit((JSON.parse(stdout) as LsNode).dependencies, 0);
  return out;
}

async function compare(lockText: string, packageJson: string) {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-npm-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'package.json'), packageJson);
  writeFileSync(join(dir, 'package-lock.json'), lockText);
  const [all, prod] = await Promise.all([npmLs(dir, []), npmLs(dir, ['--omit=dev'])]);
  const res = await run(npmLockAnalyzer, 'package-lock.json', lockText);
  return { res, all: [...all].sort(), dev: [...all].filter((id) => !prod.has(id)).sort() };
}

describe('npm-lock equals npm ls on the same lock', () => {
  it('a lock npm 11 wrote (alias, scopes, nesting, dev, optional)', async () => {
    const { res, all, dev } = await compare(
      fixture('npm-real/package-lock.json').toString(),
      fixture('npm-real/package.json').toString(),
    );
    expect(all.length).toBeGreaterThan(20);
    expect(all).toContain('lodash@4.17.21'); // installed as my-lodash
    expect(ids(res.packages)).toEqual(all);
    expect(dev).toContain('@types/node@20.11.5');
    expect(ids(res.packages, (p) => p.dev === true)).toEqual(dev);
  });

  // The v2/v3 vectors without workspaces (npm needs the workspace folders on disk to read those).
  it.each([
    'package-lock_v2.json',
    'package-lock_v3.json',
    'package-lock_v3_with-same-dev-and-non-dev.json',
    'package-lock_v3_with_peer.json',
    'package-lock_v3_with_legacy_licenses.json',
  ])('Trivy vector %s', async (file) => {
    const lockText = fixture(`npm/testdata/${file}`).toString();
    const root = (JSON.parse(lockText) as { packages: Record<string, Record<string, unknown>> }).packages['']!;
    const { res, all, dev } = await compare(lockText, JSON.stringify(root));
    expect(ids(res.packages)).toEqual(all);
    expect(ids(res.packages, (p) => p.dev === true)).toEqual(dev);
  });
});
