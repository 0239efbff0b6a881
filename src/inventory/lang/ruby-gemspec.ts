/**
 * Installed Ruby gems: the gemspec RubyGems writes for each installed gem, `specifications/*.gemspec`
 * (also `specifications/default/` for Ruby's default gems, and Debian's rubygems-integration folders).
 * That file is Ruby code in a fixed generated shape, read here with line patterns — never evaluated.
 */
import type { Analyzer, AnalyzerResult, FileInput } from '../analyzer.js';
import { skipped } from './common.js';

const NAME = /^\s*\w+\.name\s*=\s*(["'])(.+?)\1/m;
const VERSION = /^\s*\w+\.version\s*=\s*(?:Gem::Version\.new\()?(["'])(.+?)\1/m;
const LICENSES = /^\s*\w+\.licenses?\s*=\s*(.+)$/m;

export function isInstalledGemspec(path: string): boolean {
  if (!path.endsWith('.gemspec')) return false;
  const dir = path.slice(0, path.lastIndexOf('/') + 1);
  return (
    dir === 'specifications/' ||
    dir === 'specifications/default/' ||
    dir.endsWith('/specifications/') ||
    dir.endsWith('/specifications/default/')
  );
}

export function parseGemspec(file: FileInput): AnalyzerResult {
  const text = file.content.toString('utf8');
  const name = NAME.exec(text)?.[2];
  const version = VERSION.exec(text)?.[2];
  if (!name || !version) return skipped(file, 'no s.name / s.version assignment: not an installed gemspec');
  const lic = LICENSES.exec(text)?.[1];
  const licenses = lic ? [...lic.matchAll(/(["'])(.+?)\1/g)].map((m) => m[2]!) : [];
  return { packages: [{ type: 'gem', name, version, ...(licenses.length > 0 ? { licenses } : {}) }] };
}

export const rubyGemspecAnalyzer: Analyzer = {
  name: 'ruby-gemspec',
  version: 1,
  wants: (path) => isInstalledGemspec(path),
  analyze: parseGemspec,
};
