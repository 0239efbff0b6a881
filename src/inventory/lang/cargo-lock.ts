/** Cargo.lock (TOML): every `[[package]]` with its name and version, the workspace's own crates included. */
import type { FoundPackage } from '../../core/types.js';
import type { Analyzer, AnalyzerResult, FileInput } from '../analyzer.js';
import { dedupe, hasSegment, isBase, isObject, skipped, str } from './common.js';

export async function parseCargoLock(file: FileInput): Promise<AnalyzerResult> {
  if (file.truncated) return skipped(file, 'file larger than the analyzer read limit');
  let doc: unknown;
  // Loaded on first use: most images hold no such file, and every scan pays for what it loads at start-up.
  const { parse: parseToml } = await import('smol-toml');
  try {
    doc = parseToml(file.content.toString('utf8'));
  } catch (err) {
    return skipped(file, `malformed TOML (${(err as Error).message.split('\n')[0]})`);
  }
  const list = isObject(doc) && Array.isArray(doc.package) ? doc.package : [];
  const out: FoundPackage[] = [];
  for (const p of list) {
    if (!isObject(p)) continue;
    const name = str(p.name);
    const version = str(p.version);
    if (name && version) out.push({ type: 'cargo', name, version });
  }
  return { packages: dedupe(out) };
}

export const cargoLockAnalyzer: Analyzer = {
  name: 'cargo-lock',
  version: 1,
  // Vendored crates under a cargo registry cache carry their own lock files: not what was built.
  wants: (path) => isBase(path, 'Cargo.lock') && !hasSegment(path, '.cargo'),
  analyze: parseCargoLock,
};
