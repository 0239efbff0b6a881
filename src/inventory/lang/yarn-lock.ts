/**
 * yarn.lock, both formats: yarn v1 (its own indented "key:\n  field value" format, parsed line by line
 * here) and yarn berry (v2+, YAML with a `__metadata` block). Only packages fetched from the npm
 * registry are reported; workspace, file/link/portal, git, tarball-URL and patch entries are not
 * registry packages and have no version a vulnerability database could match.
 */
import type { FoundPackage } from '../../core/types.js';
import type { Analyzer, AnalyzerResult, FileInput } from '../analyzer.js';
import { dedupe, hasSegment, isBase, isObject, npmPackage, skipped, str } from './common.js';

/** Splits "name@range" (name may be scoped) at the first "@" after the first character. */
function splitPattern(pattern: string): { name: string; range: string } | undefined {
  const at = pattern.indexOf('@', 1);
  if (at < 0) return undefined;
  return { name: pattern.slice(0, at), range: pattern.slice(at + 1) };
}

/** The real package name for an npm-registry range, or undefined when the range is another protocol. */
function registryName(name: string, range: string): string | undefined {
  const proto = /^([a-z][a-z0-9+.-]*):/i.exec(range);
  // A plain semver range or dist-tag; "user/repo#ref" (GitHub shorthand) has a slash no range has.
  if (!proto) return range.includes('/') ? undefined : name;
  if (proto[1]!.toLowerCase() !== 'npm') return undefined;
  // "npm:real-name@^1.0" is an alias: the installed package is real-name.
  const alias = splitPattern(range.slice(4));
  return alias ? alias.name : name;
}

function unquote(s: string): string {
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

/** yarn v1: entries are unindented "pattern[, pattern]:" lines followed by indented fields. */
export function parseYarnV1(text: string): FoundPackage[] {
  const out: FoundPackage[] = [];
  let current: { name: string | undefined; version: string | undefined } | undefined;
  const flush = (): void => {
    if (current?.name && current.version) out.push(npmPackage(current.name, current.version));
    current = undefined;
  };
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    if (!line.startsWith(' ')) {
      flush();
      if (!line.endsWith(':')) continue;
      const first = unquote(line.slice(0, -1).split(',')[0] ?? '');
      const split = splitPattern(first);
      current = { name: split ? registryName(split.name, split.range) : undefined, version: undefined };
      continue;
    }
    if (!current || line.startsWith('    ')) continue; // nested blocks (dependencies:) carry no identity
    const m = /^\s+"?version"?\s+(.+)$/.exec(line);
    if (m) current.version = unquote(m[1]!);
  }
  flush();
  return out;
}

/** yarn berry: YAML; identity is the `resolution` ("name@npm:1.2.3") and `version`. */
export function parseYarnBerry(doc: Record<string, unknown>): FoundPackage[] {
  const out: FoundPackage[] = [];
  for (const [key, entry] of Object.entries(doc)) {
    if (key === '__metadata' || !isObject(entry)) continue;
    const resolution = str(entry.resolution) ?? key.split(',')[0]!.trim();
    const split = splitPattern(resolution);
    if (!split?.range.startsWith('npm:')) continue;
    const version = str(entry.version) ?? (typeof entry.version === 'number' ? String(entry.version) : undefined);
    if (!version) continue;
    out.push(npmPackage(split.name, version));
  }
  return out;
}

export async function parseYarnLock(file: FileInput): Promise<AnalyzerResult> {
  if (file.truncated) return skipped(file, 'file larger than the analyzer read limit');
  const text = file.content.toString('utf8');
  if (!/^__metadata:/m.test(text)) return { packages: dedupe(parseYarnV1(text)) };
  let doc: unknown;
  try {
    // Loaded on first use: most images hold no such file, and every scan pays for what it loads at start-up.
    const { parse: parseYaml } = await import('yaml');
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    return skipped(file, `malformed YAML (${(err as Error).message.split('\n')[0]})`);
  }
  if (!isObject(doc)) return skipped(file, 'YAML top level is not a mapping');
  return { packages: dedupe(parseYarnBerry(doc)) };
}

export const yarnLockAnalyzer: Analyzer = {
  name: 'yarn-lock',
  version: 1,
  wants: (path) => isBase(path, 'yarn.lock') && !hasSegment(path, 'node_modules'),
  analyze: parseYarnLock,
};
