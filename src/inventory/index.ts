import type { Package } from '../core/types.js';
import type { Analyzer } from './analyzer.js';
import { apkInstalled } from './apk.js';
import { type Collected, InventoryCollector } from './collect.js';
import { dpkgInfoList, dpkgStatus, dpkgStatusDMd5sums } from './dpkg.js';
import { ecosystemOf, purlOf } from './ecosystem.js';
import { cargoLockAnalyzer } from './lang/cargo-lock.js';
import { composerAnalyzer } from './lang/composer.js';
import { dotnetDepsAnalyzer } from './lang/dotnet-deps.js';
import { gemfileLockAnalyzer } from './lang/gemfile-lock.js';
import { goBinaryAnalyzer } from './lang/go-binary.js';
import { javaArchiveAnalyzer } from './lang/java.js';
import { npmLockAnalyzer } from './lang/npm-lock.js';
import { npmPackageJsonAnalyzer } from './lang/npm-package.js';
import { pnpmLockAnalyzer } from './lang/pnpm-lock.js';
import { pythonPackageAnalyzer } from './lang/python.js';
import { rubyGemspecAnalyzer } from './lang/ruby-gemspec.js';
import { rustBinaryAnalyzer } from './lang/rust-binary.js';
import { yarnLockAnalyzer } from './lang/yarn-lock.js';
import { osRelease } from './os-release.js';
import { rpmDatabase } from './rpm/analyzer.js';

export type { Analyzer, AnalyzerResult, FileInput } from './analyzer.js';
export { InventoryCollector } from './collect.js';
export { ecosystemOf, purlOf } from './ecosystem.js';
export { isDistroless } from './os-release.js';
export { readSbom } from './sbom-input.js';

/** Every analyzer, in one list (STYLE.md §1). Adding a format = one file + one line here. */
export const analyzers: readonly Analyzer[] = [
  osRelease,
  dpkgStatus,
  dpkgInfoList,
  dpkgStatusDMd5sums,
  apkInstalled,
  rpmDatabase,
  npmPackageJsonAnalyzer,
  npmLockAnalyzer,
  yarnLockAnalyzer,
  pnpmLockAnalyzer,
  pythonPackageAnalyzer,
  goBinaryAnalyzer,
  rustBinaryAnalyzer,
  javaArchiveAnalyzer,
  rubyGemspecAnalyzer,
  gemfileLockAnalyzer,
  cargoLockAnalyzer,
  composerAnalyzer,
  dotnetDepsAnalyzer,
];

/** Lock files describe what an install would bring; in an image, what is installed next to them wins (as Trivy does). */
const LOCK_ANALYZERS = new Set(['npm-lock', 'yarn-lock', 'pnpm-lock']);

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** Drops lock-file packages of a project directory whose node_modules was installed in the image. */
function dropSupersededLocks(collected: Collected): Collected {
  const installedRoots = new Set<string>();
  for (const p of collected.packages) {
    if (p.analyzer !== 'npm-package-json') continue;
    const i = p.path.indexOf('node_modules/');
    if (i >= 0) installedRoots.add(p.path.slice(0, Math.max(0, i - 1)));
  }
  if (installedRoots.size === 0) return collected;
  return {
    ...collected,
    packages: collected.packages.filter((p) => !(LOCK_ANALYZERS.has(p.analyzer) && installedRoots.has(dirOf(p.path)))),
  };
}

export function newInventoryCollector(list: readonly Analyzer[] = analyzers): InventoryCollector {
  return new InventoryCollector(list);
}

/** Final packages: ecosystem and purl from the OS, owner links for language packages, stable order. */
export function finalizePackages(all: Collected): Package[] {
  const collected = dropSupersededLocks(all);
  const { os, owners } = collected;
  const byOwnerKey = new Map<string, string>();
  const packages: Package[] = collected.packages.map((p) => {
    const pkg: Package = {
      ecosystem: ecosystemOf(p.type, os),
      type: p.type,
      name: p.name,
      version: p.version,
      purl: purlOf(p, os),
      path: p.path,
      layer: p.layer,
      analyzer: p.analyzer,
    };
    if (p.namespace) pkg.namespace = p.namespace;
    if (p.source) pkg.source = p.source;
    if (p.epoch !== undefined) pkg.epoch = p.epoch;
    if (p.arch) pkg.arch = p.arch;
    if (p.licenses?.length) pkg.licenses = p.licenses;
    if (p.dev) pkg.dev = true;
    if (p.type === 'deb' || p.type === 'apk' || p.type === 'rpm') byOwnerKey.set(`${p.type}/${p.name}`, pkg.purl);
    return pkg;
  });
  for (const pkg of packages) {
    if (pkg.type === 'deb' || pkg.type === 'apk' || pkg.type === 'rpm') continue;
    const owner = owners.get(pkg.path);
    const purl = owner ? byOwnerKey.get(owner) : undefined;
    if (purl) pkg.ownedBy = purl;
  }
  return packages.sort(
    (a, b) =>
      cmp(a.type, b.type) ||
      cmp(a.namespace ?? '', b.namespace ?? '') ||
      cmp(a.name, b.name) ||
      cmp(a.version, b.version) ||
      cmp(a.path, b.path),
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
