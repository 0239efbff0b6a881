/**
 * PHP Composer: `composer.lock` (`packages` and `packages-dev`) and what is installed,
 * `vendor/composer/installed.json` (Composer 1: a list; Composer 2: `{packages, dev-package-names}`).
 * "vendor/package" names become purl namespace + name.
 */
import type { FoundPackage } from '../../core/types.js';
import type { Analyzer, AnalyzerResult, FileInput } from '../analyzer.js';
import { dedupe, hasSegment, isBase, isObject, skipped, str } from './common.js';

function composerPackage(raw: unknown, dev: boolean): FoundPackage | undefined {
  if (!isObject(raw)) return undefined;
  const full = str(raw.name);
  const version = str(raw.version);
  if (!full || !version) return undefined;
  const slash = full.indexOf('/');
  const pkg: FoundPackage = { type: 'composer', name: slash < 0 ? full : full.slice(slash + 1), version };
  if (slash > 0) pkg.namespace = full.slice(0, slash);
  const lic = Array.isArray(raw.license) ? raw.license.filter((l): l is string => typeof l === 'string') : [];
  // Composer's list form means "any of"; a string "MIT or BSD-2-Clause" says the same in words.
  if (typeof raw.license === 'string') lic.push(...raw.license.split(/\s+or\s+/i).filter((l) => l !== ''));
  if (lic.length > 0) pkg.licenses = lic;
  if (dev) pkg.dev = true;
  return pkg;
}

export function parseComposer(file: FileInput): AnalyzerResult {
  if (file.truncated) return skipped(file, 'file larger than the analyzer read limit');
  let top: unknown;
  try {
    top = JSON.parse(file.content.toString('utf8'));
  } catch (err) {
    return skipped(file, `malformed JSON (${(err as Error).message})`);
  }
  const out: (FoundPackage | undefined)[] = [];
  if (Array.isArray(top)) {
    out.push(...top.map((p) => composerPackage(p, false))); // Composer 1 installed.json
  } else if (isObject(top) && Array.isArray(top.packages)) {
    const devNames = new Set(Array.isArray(top['dev-package-names']) ? top['dev-package-names'] : []);
    for (const p of top.packages) out.push(composerPackage(p, isObject(p) && devNames.has(p.name)));
    if (Array.isArray(top['packages-dev'])) out.push(...top['packages-dev'].map((p) => composerPackage(p, true)));
  } else {
    return skipped(file, 'no "packages" list: not a Composer lock or installed.json');
  }
  return { packages: dedupe(out.filter((p): p is FoundPackage => p !== undefined)) };
}

export const composerAnalyzer: Analyzer = {
  name: 'composer',
  version: 1,
  wants: (path) =>
    (isBase(path, 'composer.lock') && !hasSegment(path, 'vendor')) || path.endsWith('vendor/composer/installed.json'),
  analyze: parseComposer,
};
