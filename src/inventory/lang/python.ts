/**
 * Installed Python distributions: `*.dist-info/METADATA` (wheels), `*.egg-info/PKG-INFO` and single-file
 * `*.egg-info` (setuptools, and what Debian ships in dist-packages), `*.egg/EGG-INFO/PKG-INFO` — only
 * under a `site-packages` or `dist-packages` folder, where the interpreter would import them from.
 * The format is RFC 822 style headers (core metadata spec); only the header block is read.
 */
import type { Analyzer, AnalyzerResult, FileInput } from '../analyzer.js';
import { baseName, isRegularMode, skipped } from './common.js';

/** The folder holding the file, as its last component ("x-1.0.dist-info"). */
function parentName(path: string): string {
  const end = path.lastIndexOf('/');
  if (end < 0) return '';
  return path.slice(path.lastIndexOf('/', end - 1) + 1, end);
}

function inSitePackages(path: string): boolean {
  return path.includes('site-packages/') || path.includes('dist-packages/');
}

export function isPythonMetadataPath(path: string, mode: number): boolean {
  const last = path.charCodeAt(path.length - 1);
  // METADATA, PKG-INFO, *.egg-info all end in "A", "O" or "o": most paths leave here, allocation-free.
  if ((last !== 65 && last !== 79 && last !== 111) || !inSitePackages(path)) return false;
  const base = baseName(path);
  if (base === 'METADATA') return parentName(path).endsWith('.dist-info');
  if (base === 'PKG-INFO') {
    const parent = parentName(path);
    return parent.endsWith('.egg-info') || parent === 'EGG-INFO';
  }
  // A single-file egg-info (distutils): the name ends in .egg-info and it is a regular file.
  return base.endsWith('.egg-info') && isRegularMode(mode);
}

/** PEP 503 normalised name, the form PyPI, OSV and purl use: "Foo_Bar.baz" → "foo-bar-baz". */
export function normalizePythonName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[-_.]+/g, '-');
}

/** Header block of an RFC 822 message: name → values (repeatable fields such as Classifier). */
export function parseHeaders(text: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  let last: { key: string; index: number } | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') break; // the body (long description) starts here
    if ((line[0] === ' ' || line[0] === '\t') && last) {
      const values = headers.get(last.key)!;
      values[last.index] = `${values[last.index]}\n${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const values = headers.get(key) ?? [];
    values.push(line.slice(colon + 1).trim());
    headers.set(key, values);
    last = { key, index: values.length - 1 };
  }
  return headers;
}

/**
 * The licence, most precise source first: License-Expression (PEP 639, SPDX), then a short License
 * field (some projects paste the whole licence text there, which names nothing), then the trove
 * classifiers "License :: OSI Approved :: MIT License".
 */
export function pythonLicenses(h: Map<string, string[]>): string[] | undefined {
  const expr = h.get('license-expression')?.[0];
  if (expr) return [expr];
  const field = h.get('license')?.[0];
  if (field && field !== 'UNKNOWN' && !field.includes('\n') && field.length <= 100) return [field];
  const fromClassifiers = (h.get('classifier') ?? [])
    .filter((c) => c.startsWith('License ::'))
    .map((c) => c.split('::').at(-1)!.trim())
    .filter((c) => c !== '' && c !== 'OSI Approved');
  return fromClassifiers.length > 0 ? [...new Set(fromClassifiers)] : undefined;
}

export function parsePythonMetadata(file: FileInput): AnalyzerResult {
  // The header block sits at the start; a truncated file still holds it whole unless it is huge.
  const h = parseHeaders(file.content.toString('utf8'));
  const name = h.get('name')?.[0];
  const version = h.get('version')?.[0];
  if (!name || !version) return skipped(file, 'no Name and Version headers: not Python package metadata');
  const licenses = pythonLicenses(h);
  return {
    packages: [{ type: 'pypi', name: normalizePythonName(name), version, ...(licenses ? { licenses } : {}) }],
  };
}

export const pythonPackageAnalyzer: Analyzer = {
  name: 'python-package',
  version: 1,
  wants: (path, mode) => isPythonMetadataPath(path, mode),
  analyze: parsePythonMetadata,
};
