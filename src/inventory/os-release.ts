import type { OsInfo } from '../core/types.js';
import type { Analyzer, AnalyzerResult, FileInput } from './analyzer.js';
import { requireWhole } from './os-common.js';

/**
 * The operating system of the image, from os-release(5) and the older distro-specific release files.
 * Each file gives its own answer; `pickOs` chooses among the answers of the final filesystem.
 */

const OS_RELEASE = new Set(['etc/os-release', 'usr/lib/os-release']);
const REDHAT_STYLE = new Set([
  'etc/redhat-release',
  'etc/centos-release',
  'etc/rocky-release',
  'etc/almalinux-release',
  'etc/fedora-release',
]);
const ALPINE = 'etc/alpine-release';
const DEBIAN = 'etc/debian_version';

/** os-release IDs whose family name in Palisade differs from the ID (CBL-Mariner 1/2 write ID=mariner). */
const ID_TO_FAMILY: Record<string, string> = {
  mariner: 'cbl-mariner',
};

export const osRelease: Analyzer = {
  name: 'os-release',
  version: 1,
  wants(path) {
    return OS_RELEASE.has(path) || REDHAT_STYLE.has(path) || path === ALPINE || path === DEBIAN;
  },
  analyze(file: FileInput): AnalyzerResult {
    requireWhole(file);
    const text = file.content.toString('utf8');
    let os: OsInfo | undefined;
    if (OS_RELEASE.has(file.path)) os = fromOsRelease(parseOsRelease(text));
    else if (file.path === ALPINE) os = firstLine(text) ? { family: 'alpine', version: firstLine(text) } : undefined;
    else if (file.path === DEBIAN) os = firstLine(text) ? { family: 'debian', version: firstLine(text) } : undefined;
    else os = parseRedhatRelease(text);
    if (!os) return { warnings: [`${file.path}: no operating system name or version found`] };
    return { os };
  },
};

/**
 * Parses os-release(5): shell-compatible `KEY=value` lines; values may be quoted with double quotes
 * (backslash escapes `$ " \` and backtick) or single quotes (literal); `#` starts a comment line.
 * Lines that are not assignments are ignored, as the spec tells readers to do.
 */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    const value = unquote(m[2]!);
    if (value !== undefined) out[m[1]!] = value;
  }
  return out;
}

/** Shell word without expansion; undefined when a quote is not closed (the line is then ignored). */
function unquote(s: string): string | undefined {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) return undefined;
      out += s.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < s.length) {
        const d = s[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && i + 1 < s.length && '$"\\`'.includes(s[i + 1]!)) {
          out += s[i + 1];
          i += 2;
        } else {
          out += d;
          i++;
        }
      }
      if (!closed) return undefined;
    } else if (c === '\\' && i + 1 < s.length) {
      out += s[i + 1];
      i += 2;
    } else if (c === ' ' || c === '\t') {
      // An unquoted blank ends the word; the rest would be a command in shell, so it is dropped.
      break;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function fromOsRelease(fields: Record<string, string>): OsInfo | undefined {
  const id = fields.ID?.toLowerCase();
  if (!id) return undefined;
  const os: OsInfo = { family: ID_TO_FAMILY[id] ?? id, version: fields.VERSION_ID ?? '' };
  if (fields.PRETTY_NAME) os.prettyName = fields.PRETTY_NAME;
  if (fields.VERSION_CODENAME) os.codename = fields.VERSION_CODENAME;
  return os;
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').trim();
}

/** The distro name in a "<Name> release <version> (<codename>)" line, mapped to a family. */
const REDHAT_NAMES: ReadonlyArray<[RegExp, string]> = [
  [/^red hat enterprise linux/i, 'rhel'],
  [/^centos/i, 'centos'],
  [/^rocky linux/i, 'rocky'],
  [/^almalinux/i, 'almalinux'],
  [/^fedora/i, 'fedora'],
  [/^oracle linux/i, 'ol'],
];

/** `Rocky Linux release 9.3 (Blue Onyx)`, `CentOS Stream release 9`, `Red Hat Enterprise Linux release 8.9 (Ootpa)`. */
export function parseRedhatRelease(text: string): OsInfo | undefined {
  const line = firstLine(text);
  const m = /^(.+?)\s+release\s+(\S+)(?:\s+\((.*)\))?/.exec(line);
  if (!m) return undefined;
  const family = REDHAT_NAMES.find(([re]) => re.test(m[1]!))?.[1];
  if (!family) return undefined;
  const os: OsInfo = { family, version: m[2]!, prettyName: line };
  if (m[3]) os.codename = m[3];
  return os;
}

/** Lower number = more authoritative. os-release describes the distro on purpose; the others are legacy. */
function rank(path: string): number {
  if (path === 'etc/os-release') return 0;
  if (path === 'usr/lib/os-release') return 1;
  if (path === ALPINE || REDHAT_STYLE.has(path)) return 2;
  return 3;
}

/**
 * Chooses the image's OS from what the release files of the final filesystem said: os-release first
 * (etc/ before usr/lib/), then the distro files. When the chosen answer has no version (Debian
 * testing/sid os-release has no VERSION_ID), the version comes from another file of the same family
 * (etc/debian_version: "trixie/sid").
 */
export function pickOs(found: ReadonlyArray<{ path: string; os: OsInfo }>): OsInfo | undefined {
  const sorted = [...found].sort((a, b) => rank(a.path) - rank(b.path));
  const best = sorted[0];
  if (!best) return undefined;
  const os = { ...best.os };
  if (!os.version) {
    const other = sorted.find((f) => f.os.family === os.family && f.os.version);
    if (other) os.version = other.os.version;
  }
  return os;
}

/**
 * Google's distroless images ship a Debian os-release whose PRETTY_NAME is "Distroless"; the packages
 * are Debian's (so the family stays "debian" for vulnerability matching) but there is no shell or
 * package manager. Callers use this to say so in reports.
 */
export function isDistroless(os: OsInfo | undefined): boolean {
  return os?.prettyName?.toLowerCase().startsWith('distroless') === true;
}
