import type { FoundPackage } from '../core/types.js';
import type { Analyzer, AnalyzerResult, FileInput } from './analyzer.js';
import { normaliseOwnedPath, requireText, requireWhole, Warnings } from './os-common.js';

/**
 * dpkg's database of installed packages: `var/lib/dpkg/status` (one file, every package dpkg knows)
 * and `var/lib/dpkg/status.d/<name>` (distroless images: one file per package, no Status field).
 * Both are deb822 / RFC 822 stanzas separated by blank lines.
 */

const STATUS = 'var/lib/dpkg/status';
const STATUS_D = 'var/lib/dpkg/status.d/';
const INFO = 'var/lib/dpkg/info/';

export const dpkgStatus: Analyzer = {
  name: 'dpkg',
  version: 1,
  wants(path) {
    if (path === STATUS) return true;
    if (!path.startsWith(STATUS_D)) return false;
    const rest = path.slice(STATUS_D.length);
    // status.d also holds "<pkg>.md5sums" (file checksums, not stanzas).
    return rest !== '' && !rest.includes('/') && !rest.endsWith('.md5sums');
  },
  analyze(file: FileInput): AnalyzerResult {
    requireWhole(file);
    const text = requireText(file, 'dpkg status file');
    // In the status file a package may be known but not installed (removed, config-files only);
    // a status.d file exists only for an installed package and has no Status field.
    const statusRequired = file.path === STATUS;
    const warnings = new Warnings();
    const packages: FoundPackage[] = [];
    for (const stanza of parseStanzas(text, file.path, warnings)) {
      const pkg = toPackage(stanza, statusRequired, file.path, warnings);
      if (pkg) packages.push(pkg);
    }
    return { packages, warnings: warnings.result() };
  },
};

/** `var/lib/dpkg/info/<pkg>[:<arch>].list`: the files each package installed, one absolute path a line. */
export const dpkgInfoList: Analyzer = {
  name: 'dpkg-info-list',
  version: 1,
  wants(path) {
    return path.startsWith(INFO) && path.endsWith('.list') && !path.includes('/', INFO.length);
  },
  analyze(file: FileInput): AnalyzerResult {
    requireWhole(file);
    const text = requireText(file, 'dpkg file list');
    const base = file.path.slice(INFO.length, -'.list'.length);
    // Multi-Arch: same packages are recorded as "libc6:amd64.list"; the package name is before the colon.
    const name = base.split(':')[0]!;
    if (name === '') return { warnings: [`${file.path}: no package name in the file name`] };
    const files: string[] = [];
    for (const line of text.split('\n')) {
      const p = normaliseOwnedPath(line.replace(/\r$/, ''));
      if (p !== undefined) files.push(p);
    }
    return { ownedFiles: { [`deb/${name}`]: files } };
  },
};

/**
 * Distroless images have no info/*.list; their `status.d/<pkg>.md5sums` ("<md5>  <path>" lines, paths
 * relative to the root) is the only record of which files a package installed. It lists regular files
 * only (no directories, no conffiles), which is what ownership of language packages needs.
 */
export const dpkgStatusDMd5sums: Analyzer = {
  name: 'dpkg-status-d-md5sums',
  version: 1,
  wants(path) {
    return path.startsWith(STATUS_D) && path.endsWith('.md5sums') && !path.includes('/', STATUS_D.length);
  },
  analyze(file: FileInput): AnalyzerResult {
    requireWhole(file);
    const text = requireText(file, 'dpkg md5sums file');
    const name = file.path.slice(STATUS_D.length, -'.md5sums'.length).split(':')[0]!;
    if (name === '') return { warnings: [`${file.path}: no package name in the file name`] };
    const warnings = new Warnings();
    const files: string[] = [];
    let lineNo = 0;
    for (const raw of text.split('\n')) {
      lineNo++;
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line === '') continue;
      const m = /^[0-9a-f]{32} [ *](.+)$/.exec(line);
      const p = m ? normaliseOwnedPath(m[1]!) : undefined;
      if (p === undefined) warnings.add(`${file.path}:${lineNo}: not a "<md5>  <path>" line; ignored`);
      else files.push(p);
    }
    return { ownedFiles: { [`deb/${name}`]: files }, warnings: warnings.result() };
  },
};

/** One stanza: lower-cased field name -> value (continuation lines joined with "\n"). */
export type Stanza = Map<string, string>;

/**
 * Splits deb822 text into stanzas. A line starting with a space or tab continues the previous field;
 * a blank line ends the stanza. A stanza with a line that is neither is dropped with a warning
 * rather than guessed at.
 */
export function parseStanzas(text: string, path: string, warnings: Warnings): Stanza[] {
  const out: Stanza[] = [];
  let current: Stanza = new Map();
  let last: string | undefined;
  let broken = false;
  let lineNo = 0;
  const finish = () => {
    if (current.size > 0 && !broken) out.push(current);
    current = new Map();
    last = undefined;
    broken = false;
  };
  for (const raw of text.split('\n')) {
    lineNo++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') {
      finish();
      continue;
    }
    if (broken) continue;
    if (line[0] === ' ' || line[0] === '\t') {
      if (last === undefined) {
        warnings.add(`${path}:${lineNo}: continuation line outside a field; stanza skipped`);
        broken = true;
      } else {
        current.set(last, `${current.get(last)}\n${line.trim()}`);
      }
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      warnings.add(`${path}:${lineNo}: not a "Field: value" line; stanza skipped`);
      broken = true;
      continue;
    }
    last = line.slice(0, colon).toLowerCase();
    current.set(last, line.slice(colon + 1).trim());
  }
  finish();
  return out;
}

function toPackage(s: Stanza, statusRequired: boolean, path: string, warnings: Warnings): FoundPackage | undefined {
  const name = s.get('package');
  if (!name) {
    warnings.add(`${path}: stanza without a Package field skipped`);
    return undefined;
  }
  const status = s.get('status');
  if (status !== undefined || statusRequired) {
    // "want flag status": the third word says whether the files are on disk. "installed" is the only
    // state whose files are all there; half-installed/unpacked/config-files are not usable packages.
    const words = (status ?? '').split(/\s+/);
    if (words[2] !== 'installed') return undefined;
  }
  const version = s.get('version');
  const bad = version === undefined ? 'no Version field' : debVersionProblem(version);
  if (bad) {
    warnings.add(`${path}: package ${name}: ${bad}; skipped`);
    return undefined;
  }
  const pkg: FoundPackage = { type: 'deb', name, version: version! };
  const arch = s.get('architecture');
  if (arch) pkg.arch = arch;
  pkg.source = parseSource(s.get('source'), name, version!);
  return pkg;
}

/**
 * `Source: gcc-5 (5.1.1-12ubuntu1)` names the source package and, when it differs from the binary's,
 * its version; without the field the source is the package itself. Like `dpkg-query ${source:Version}`,
 * the version defaults to the binary version (epoch included).
 */
export function parseSource(
  field: string | undefined,
  name: string,
  version: string,
): { name: string; version: string } {
  if (!field) return { name, version };
  const m = /^(\S+)(?:\s+\(([^()\s]+)\))?$/.exec(field.trim());
  if (!m) return { name, version };
  return { name: m[1]!, version: m[2] ?? version };
}

/** Why dpkg would refuse this version string (its parseversion rules), or undefined if it is valid. */
export function debVersionProblem(v: string): string | undefined {
  if (v === '') return 'empty version';
  if (/\s/.test(v)) return `version "${v}" contains whitespace`;
  let rest = v;
  const colon = v.indexOf(':');
  if (colon >= 0) {
    if (!/^\d+$/.test(v.slice(0, colon))) return `version "${v}" has a non-numeric epoch`;
    rest = v.slice(colon + 1);
    if (rest === '') return `version "${v}" has nothing after the epoch`;
  }
  const dash = rest.lastIndexOf('-');
  const upstream = dash >= 0 ? rest.slice(0, dash) : rest;
  const revision = dash >= 0 ? rest.slice(dash + 1) : undefined;
  if (upstream === '') return `version "${v}" has an empty upstream version`;
  if (revision === '') return `version "${v}" has an empty revision`;
  if (!/^[A-Za-z0-9.+~:-]+$/.test(upstream)) return `version "${v}" has invalid characters in the upstream version`;
  if (revision !== undefined && !/^[A-Za-z0-9.+~]+$/.test(revision))
    return `version "${v}" has invalid characters in the revision`;
  return undefined;
}
