/**
 * Bundler's Gemfile.lock: the `specs:` lists of the GEM, GIT and PATH sections, one gem per line at
 * four spaces, "name (version[-platform])"; deeper lines are that gem's requirements.
 */
import type { FoundPackage } from '../../core/types.js';
import type { Analyzer, AnalyzerResult, FileInput } from '../analyzer.js';
import { dedupe, isBase, skipped } from './common.js';

const SPEC = /^ {4}([^\s(]+) \(([^)\s]+)\)$/;

export function parseGemfileLock(file: FileInput): AnalyzerResult {
  if (file.truncated) return skipped(file, 'file larger than the analyzer read limit');
  const out: FoundPackage[] = [];
  let inSpecs = false;
  for (const raw of file.content.toString('utf8').split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line !== '' && !line.startsWith(' ')) {
      inSpecs = false; // a new section (GEM, PLATFORMS, DEPENDENCIES, ...)
      continue;
    }
    if (line === '  specs:') {
      inSpecs = true;
      continue;
    }
    if (!inSpecs) continue;
    const m = SPEC.exec(line);
    if (!m) continue;
    // Gem versions have no "-": what follows one is the platform ("1.13.6-x86_64-linux").
    out.push({ type: 'gem', name: m[1]!, version: m[2]!.split('-')[0]! });
  }
  return { packages: dedupe(out) };
}

export const gemfileLockAnalyzer: Analyzer = {
  name: 'gemfile-lock',
  version: 1,
  wants: (path) => isBase(path, 'Gemfile.lock') || isBase(path, 'gems.locked'),
  analyze: parseGemfileLock,
};
