/**
 * The npm application of the project's test image (scripts/test-images.sh): the installed-package
 * analyzer, the lock-file analyzer and npm itself (`npm ls --all --json`) must agree exactly.
 */
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FoundPackage } from '../../../src/core/types.js';
import type { Analyzer } from '../../../src/inventory/analyzer.js';
import { analyzers } from '../../../src/inventory/index.js';
import { npmLockAnalyzer } from '../../../src/inventory/lang/npm-lock.js';
import { npmPackageJsonAnalyzer } from '../../../src/inventory/lang/npm-package.js';

/** Every registered analyzer of a language package format (the registry's list, less the OS ones). */
const languageAnalyzers: Analyzer[] = analyzers.filter(
  (a) => !['os-release', 'dpkg', 'dpkg-info-list', 'dpkg-status-d-md5sums', 'apk', 'rpm'].includes(a.name),
);

import { ids, input } from './helpers.js';

const images =
  process.env.PALISADE_TEST_IMAGES ??
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'palisade/test-images');
const rootfs = join(images, 'npm-app', 'rootfs');
const app = join(rootfs, 'srv', 'app');

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) yield* walk(p);
    else if (st.isFile()) yield p;
  }
}

/** Every name@version in npm's own view of the tree. */
function npmLsIds(tree: { dependencies?: Record<string, { version?: string; dependencies?: unknown }> }): string[] {
  const out = new Set<string>();
  const visit = (deps: Record<string, { version?: string; dependencies?: unknown }> | undefined): void => {
    for (const [name, d] of Object.entries(deps ?? {})) {
      if (d.version) out.add(`${name}@${d.version}`);
      visit(d.dependencies as typeof deps);
    }
  };
  visit(tree.dependencies);
  return [...out].sort();
}

describe('npm test image application', () => {
  let installed: FoundPackage[] = [];
  let fromLock: FoundPackage[] = [];

  beforeAll(async () => {
    if (!existsSync(join(images, 'npm-app', '.done'))) {
      throw new Error(`test image missing: run scripts/test-images.sh (looked in ${images})`);
    }
    for (const file of walk(join(app, 'node_modules'))) {
      const path = relative(rootfs, file);
      if (!npmPackageJsonAnalyzer.wants(path, 0o100644, 0)) continue;
      const res = await npmPackageJsonAnalyzer.analyze(input(path, readFileSync(file)));
      expect(res.warnings ?? []).toEqual([]);
      installed.push(...(res.packages ?? []));
    }
    const lockPath = 'srv/app/package-lock.json';
    expect(npmLockAnalyzer.wants(lockPath, 0o100644, 0)).toBe(true);
    fromLock = (await npmLockAnalyzer.analyze(input(lockPath, readFileSync(join(app, 'package-lock.json'))))).packages!;
    installed = [...new Map(installed.map((p) => [ids([p])[0], p])).values()];
  });

  it('has a real dependency tree', () => {
    expect(installed.length).toBeGreaterThan(40);
    expect(ids(installed)).toContain('express@4.16.4');
  });

  it('node_modules package.json list equals the package-lock.json list', () => {
    expect(ids(installed)).toEqual(ids(fromLock));
  });

  it('both equal `npm ls --all --json`', async () => {
    const { stdout } = await promisify(execFile)('npm', ['ls', '--all', '--json'], { cwd: app, maxBuffer: 64 << 20 });
    expect(ids(installed)).toEqual(npmLsIds(JSON.parse(stdout)));
  });

  it('licences from package.json equal those recorded in the lock', () => {
    const lockLic = new Map(fromLock.map((p) => [ids([p])[0], p.licenses]));
    for (const p of installed) expect(p.licenses, ids([p])[0]).toEqual(lockLic.get(ids([p])[0]!));
  });

  it('every language analyzer over the whole image filesystem: only the app’s npm packages, no warnings', async () => {
    const found = new Map<string, Set<string>>();
    const warnings: string[] = [];
    for (const file of walk(rootfs)) {
      const st = statSync(file);
      const path = relative(rootfs, file);
      for (const a of languageAnalyzers.filter((x) => x.wants(path, st.mode, st.size))) {
        const res = await a.analyze(input(path, readFileSync(file)));
        warnings.push(...(res.warnings ?? []));
        for (const id of ids(res.packages)) found.set(a.name, (found.get(a.name) ?? new Set()).add(id));
      }
    }
    expect(warnings).toEqual([]);
    expect([...found.keys()].sort()).toEqual(['npm-lock', 'npm-package-json']);
    expect([...found.get('npm-package-json')!].sort()).toEqual(ids(installed));
  });
});
