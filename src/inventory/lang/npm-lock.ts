/**
 * npm package-lock.json / npm-shrinkwrap.json, lockfileVersion 1, 2 and 3.
 * v2/v3: the `packages` map keyed by install path ("node_modules/a/node_modules/b"); v1: the nested
 * `dependencies` tree. Links (workspaces) report the linked folder's package under the link's name.
 */
import type { FoundPackage } from '../../core/types.js';
import type { Analyzer, AnalyzerResult, FileInput } from '../analyzer.js';
import {
  dedupe,
  hasSegment,
  isBase,
  isObject,
  npmLicenses,
  npmPackage,
  parseJsonObject,
  skipped,
  str,
} from './common.js';

const NM = 'node_modules/';

/** The package name an install path stands for: the part after the last "node_modules/". */
function nameFromInstallPath(path: string): string {
  const i = path.lastIndexOf(NM);
  return i < 0 ? path : path.slice(i + NM.length);
}

/** "npm:real-name@1.2.3" (an alias) → real name and version. */
function splitAlias(version: string): { name: string; version: string } | undefined {
  if (!version.startsWith('npm:')) return undefined;
  const spec = version.slice(4);
  const at = spec.lastIndexOf('@');
  if (at <= 0) return undefined;
  return { name: spec.slice(0, at), version: spec.slice(at + 1) };
}

function fromPackagesMap(packages: Record<string, unknown>): FoundPackage[] {
  const out: FoundPackage[] = [];
  for (const [key, raw] of Object.entries(packages)) {
    if (key === '' || !isObject(raw)) continue;
    // Workspace folders ("functions/a") are only packages when a link in node_modules points at them.
    if (!key.startsWith(NM) && !key.includes(`/${NM}`)) continue;
    let meta = raw;
    if (raw.link === true) {
      const target = str(raw.resolved);
      // A broken link (no target, or resolved "" which would be the project root) installs nothing.
      const linked = target && Object.hasOwn(packages, target) ? packages[target] : undefined;
      if (!isObject(linked)) continue;
      meta = linked;
    }
    let name = str(meta.name) ?? nameFromInstallPath(key);
    if (raw.link === true) name = nameFromInstallPath(key);
    let version = str(meta.version) ?? '';
    const alias = splitAlias(version);
    if (alias) ({ name, version } = alias);
    out.push(npmPackage(name, version, { licenses: npmLicenses(meta.license, meta.licenses), dev: meta.dev === true }));
  }
  return out;
}

function fromDependencyTree(deps: Record<string, unknown>, out: FoundPackage[], depth: number): void {
  if (depth > 256) return; // a lock file this deep is hostile; what was read so far stands
  for (const [key, raw] of Object.entries(deps)) {
    if (!isObject(raw)) continue;
    let name = key;
    let version = str(raw.version) ?? '';
    if (version.startsWith('file:')) continue; // a local link, not an installed registry package
    const alias = splitAlias(version);
    if (alias) ({ name, version } = alias);
    out.push(npmPackage(name, version, { dev: raw.dev === true }));
    if (isObject(raw.dependencies)) fromDependencyTree(raw.dependencies, out, depth + 1);
  }
}

export function parsePackageLock(file: FileInput): AnalyzerResult {
  const parsed = parseJsonObject(file);
  if ('error' in parsed) return skipped(file, parsed.error);
  const lock = parsed.value;
  const out: FoundPackage[] = [];
  if (isObject(lock.packages)) {
    out.push(...fromPackagesMap(lock.packages));
  } else if (isObject(lock.dependencies)) {
    fromDependencyTree(lock.dependencies, out, 0);
  } else {
    return skipped(file, 'neither "packages" nor "dependencies" present: not an npm lock file');
  }
  return { packages: dedupe(out) };
}

export const npmLockAnalyzer: Analyzer = {
  name: 'npm-lock',
  version: 1,
  wants(path) {
    // Lock files inside node_modules belong to dependencies' own development, not to what is installed.
    return (
      (isBase(path, 'package-lock.json') || isBase(path, 'npm-shrinkwrap.json')) && !hasSegment(path, 'node_modules')
    );
  },
  analyze: parsePackageLock,
};
