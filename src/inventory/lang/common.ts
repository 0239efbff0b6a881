/** Small helpers shared by the language analyzers: path tests, safe JSON, npm names, licence fields. */
import type { FoundPackage } from '../../core/types.js';
import type { AnalyzerResult, FileInput } from '../analyzer.js';

/** Last path segment. */
export function baseName(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

/** True when the path's last segment is `name` (no allocation: `wants` runs for every entry). */
export function isBase(path: string, name: string): boolean {
  return path.endsWith(name) && (path.length === name.length || path.charCodeAt(path.length - name.length - 1) === 47);
}

/** True when the path has `segment` as a whole directory component (cheap, no regex). */
export function hasSegment(path: string, segment: string): boolean {
  return path.startsWith(`${segment}/`) || path.includes(`/${segment}/`);
}

/** A result that only carries one warning: the file was skipped. (The collector prefixes the path.) */
export function skipped(_file: FileInput, why: string): AnalyzerResult {
  return { packages: [], warnings: [`${why}; file skipped`] };
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

/**
 * A regular file by its mode. The walker passes permission bits only (tar's mode, file entries only);
 * a full st_mode with type bits is accepted too.
 */
export function isRegularMode(mode: number): boolean {
  const t = mode & S_IFMT;
  return t === 0 || t === S_IFREG;
}

/** An executable regular file big enough to be a compiled program. */
export function isExecutableFile(mode: number, size: number): boolean {
  return isRegularMode(mode) && (mode & 0o111) !== 0 && size >= 4096;
}

/** Parses a JSON object, or says why not. Truncated input is never parsed (it would be a lie). */
export function parseJsonObject(file: FileInput): { value: Record<string, unknown> } | { error: string } {
  if (file.truncated) return { error: 'file larger than the analyzer read limit' };
  let value: unknown;
  try {
    value = JSON.parse(stripBom(file.content.toString('utf8')));
  } catch (err) {
    return { error: `malformed JSON (${(err as Error).message})` };
  }
  if (!isObject(value)) return { error: 'JSON top level is not an object' };
  return { value };
}

export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** An npm package; a scoped name "@scope/name" becomes namespace "@scope" + name (purl layout). */
export function npmPackage(
  fullName: string,
  version: string,
  extra: { licenses?: string[] | undefined; dev?: boolean | undefined } = {},
): FoundPackage {
  const pkg: FoundPackage = { type: 'npm', name: fullName, version };
  if (fullName.startsWith('@')) {
    const slash = fullName.indexOf('/');
    if (slash > 1) {
      pkg.namespace = fullName.slice(0, slash);
      pkg.name = fullName.slice(slash + 1);
    }
  }
  if (extra.licenses && extra.licenses.length > 0) pkg.licenses = extra.licenses;
  if (extra.dev) pkg.dev = true;
  return pkg;
}

/** The full npm name of a package found by an analyzer ("@scope/name" or "name"). */
export function npmFullName(p: Pick<FoundPackage, 'namespace' | 'name'>): string {
  return p.namespace ? `${p.namespace}/${p.name}` : p.name;
}

/**
 * npm licence fields in their historic shapes: "MIT", {type: "MIT", url}, ["MIT", "Apache-2.0"],
 * [{type: "MIT"}, ...], and the legacy `licenses` array.
 */
export function npmLicenses(license: unknown, licenses?: unknown): string[] | undefined {
  const out: string[] = [];
  const add = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v.trim() !== '') out.push(v.trim());
    } else if (Array.isArray(v)) {
      for (const x of v) add(x);
    } else if (isObject(v) && typeof v.type === 'string') {
      add(v.type);
    }
  };
  add(license);
  if (out.length === 0) add(licenses);
  return out.length > 0 ? [...new Set(out)] : undefined;
}

/**
 * Collapses packages with the same identity (type, namespace, name, version) found in one file:
 * the same version nested twice in node_modules is one package. It is dev only when every copy is.
 */
export function dedupe(pkgs: FoundPackage[]): FoundPackage[] {
  const byKey = new Map<string, FoundPackage>();
  for (const p of pkgs) {
    const key = `${p.type}\0${p.namespace ?? ''}\0${p.name}\0${p.version}`;
    const seen = byKey.get(key);
    if (!seen) {
      byKey.set(key, p);
      continue;
    }
    if (!p.dev) delete seen.dev;
    if (!seen.licenses && p.licenses) seen.licenses = p.licenses;
  }
  return [...byKey.values()];
}
