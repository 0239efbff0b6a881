/**
 * pnpm-lock.yaml, lockfile versions 5.x, 6.x and 9.x.
 * Package keys: v5 "/name/1.2.3_peer@1", v6 "/name@1.2.3(peer@1)", v9 "name@1.2.3" (peers only in
 * `snapshots`). Tarball, git and directory packages carry explicit `name`/`version` fields.
 * Dev: v5/v6 record `dev: true` per package; v9 does not, so a package is dev when no production or
 * optional dependency of any importer reaches it through `snapshots`.
 */
import type { FoundPackage } from '../../core/types.js';
import type { Analyzer, AnalyzerResult, FileInput } from '../analyzer.js';
import { dedupe, hasSegment, isBase, isObject, npmPackage, skipped, str } from './common.js';

/** Drops the peer-dependency suffix: "debug@4.3.4(supports-color@8.1.1)" → "debug@4.3.4". */
function stripPeers(key: string): string {
  const p = key.indexOf('(');
  return p < 0 ? key : key.slice(0, p);
}

/** Name and version from a package key; undefined parts when the key is not name+version. */
function splitKey(rawKey: string, lockVersion: number): { name?: string; version?: string } {
  let key = stripPeers(rawKey);
  if (key.startsWith('/')) key = key.slice(1);
  if (lockVersion < 6) {
    const slash = key.lastIndexOf('/');
    if (slash <= 0) return {};
    const underscore = key.indexOf('_', slash);
    return { name: key.slice(0, slash), version: key.slice(slash + 1, underscore < 0 ? undefined : underscore) };
  }
  const at = key.indexOf('@', 1);
  if (at < 0) return {};
  return { name: key.slice(0, at), version: key.slice(at + 1) };
}

/** True for a version that is a registry version rather than a URL, path or protocol reference. */
function isPlainVersion(v: string): boolean {
  return v !== '' && !v.includes(':') && !v.includes('/');
}

function scalar(v: unknown): string | undefined {
  return typeof v === 'number' ? String(v) : str(v);
}

/** v9: package keys (without peers) reachable from the importers' production and optional dependencies. */
function productionKeys(doc: Record<string, unknown>): Set<string> {
  const snapshots = isObject(doc.snapshots) ? doc.snapshots : {};
  const seen = new Set<string>();
  const queue: string[] = [];
  const visit = (name: string, ref: string): void => {
    const head = stripPeers(ref);
    // An alias ("foo: bar@1.0.0") names its target itself; otherwise the key is name@ref.
    const snapKey = head.indexOf('@', 1) > 0 && !head.includes(':') ? ref : `${name}@${ref}`;
    if (seen.has(snapKey)) return;
    seen.add(snapKey);
    queue.push(snapKey);
  };
  const importers = isObject(doc.importers) ? doc.importers : {};
  for (const imp of Object.values(importers)) {
    if (!isObject(imp)) continue;
    for (const group of ['dependencies', 'optionalDependencies']) {
      const deps = imp[group];
      if (!isObject(deps)) continue;
      for (const [name, spec] of Object.entries(deps)) {
        const ref = isObject(spec) ? scalar(spec.version) : scalar(spec);
        if (ref && !ref.startsWith('link:')) visit(name, ref);
      }
    }
  }
  while (queue.length > 0) {
    const snap = snapshots[queue.pop()!];
    if (!isObject(snap)) continue;
    for (const group of ['dependencies', 'optionalDependencies']) {
      const deps = snap[group];
      if (!isObject(deps)) continue;
      for (const [name, ref] of Object.entries(deps)) {
        const r = scalar(ref);
        if (r && !r.startsWith('link:')) visit(name, r);
      }
    }
  }
  return new Set([...seen].map(stripPeers));
}

export function parsePnpmDocument(doc: Record<string, unknown>): FoundPackage[] {
  const lockVersion = Number.parseFloat(scalar(doc.lockfileVersion) ?? '');
  const packages = isObject(doc.packages) ? doc.packages : {};
  const prod = lockVersion >= 9 ? productionKeys(doc) : undefined;
  const out: FoundPackage[] = [];
  for (const [key, entry] of Object.entries(packages)) {
    const info = isObject(entry) ? entry : {};
    const fromKey = splitKey(key, Number.isNaN(lockVersion) ? 9 : lockVersion);
    const name = str(info.name) ?? fromKey.name;
    if (!name) continue;
    let version = scalar(info.version);
    if (version === undefined) version = fromKey.version && isPlainVersion(fromKey.version) ? fromKey.version : '';
    const dev = prod ? !prod.has(stripPeers(key)) : info.dev === true;
    out.push(npmPackage(name, version, { dev }));
  }
  return out;
}

export async function parsePnpmLock(file: FileInput): Promise<AnalyzerResult> {
  if (file.truncated) return skipped(file, 'file larger than the analyzer read limit');
  let docs: Record<string, unknown>[];
  // Loaded on first use: most images hold no such file, and every scan pays for what it loads at start-up.
  const { parseAllDocuments } = await import('yaml');
  try {
    const all = parseAllDocuments(file.content.toString('utf8'));
    if (!Array.isArray(all)) return { packages: [] }; // an empty file
    docs = [];
    for (const d of all) {
      if (d.errors.length > 0) throw d.errors[0];
      const v: unknown = d.toJS({ maxAliasCount: 100 });
      if (isObject(v)) docs.push(v);
    }
  } catch (err) {
    return skipped(file, `malformed YAML (${(err as Error).message.split('\n')[0]})`);
  }
  // pnpm ≥ 10 may prepend a document for its own tool dependencies (packageManagerDependencies);
  // the project's lock is the last document that has a lockfileVersion.
  const doc = docs.filter((d) => d.lockfileVersion !== undefined).at(-1);
  if (!doc) return skipped(file, 'no lockfileVersion: not a pnpm lock file');
  return { packages: dedupe(parsePnpmDocument(doc)) };
}

export const pnpmLockAnalyzer: Analyzer = {
  name: 'pnpm-lock',
  version: 1,
  wants: (path) => isBase(path, 'pnpm-lock.yaml') && !hasSegment(path, 'node_modules'),
  analyze: parsePnpmLock,
};
