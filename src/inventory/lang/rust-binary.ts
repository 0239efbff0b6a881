/**
 * Rust executables built with cargo-auditable: the `.dep-v0` ELF section holds zlib-compressed JSON,
 * `{"packages": [{name, version, source, kind?, root?}]}`. Build-time dependencies (`kind: "build"`)
 * are not linked into the binary and are marked dev.
 */
import { inflateSync } from 'node:zlib';
import type { FoundPackage } from '../../core/types.js';
import type { Analyzer, AnalyzerResult, FileInput } from '../analyzer.js';
import { isExecutableFile, isObject, str } from './common.js';
import { findSection, isElf, parseElf, sectionBytes } from './elf.js';

const MAX_JSON = 8 * 1024 * 1024; // real lists are a few KiB; the cap keeps a hostile section bounded

export function analyzeRustBinary(file: FileInput): AnalyzerResult {
  if (!isElf(file.content)) return {};
  const elf = parseElf(file.content);
  const section = elf ? findSection(elf, '.dep-v0') : undefined;
  if (!section) return {};
  const bytes = sectionBytes(file.content, section);
  const warn = (why: string): AnalyzerResult => ({ warnings: [`cargo-auditable data ${why}; skipped`] });
  if (!bytes) return warn(file.truncated ? 'beyond the analyzer read limit' : 'outside the file');
  let doc: unknown;
  try {
    doc = JSON.parse(inflateSync(bytes, { maxOutputLength: MAX_JSON }).toString('utf8'));
  } catch (err) {
    return warn(`unreadable (${(err as Error).message})`);
  }
  if (!isObject(doc) || !Array.isArray(doc.packages)) return warn('without a "packages" list');
  const out: FoundPackage[] = [];
  for (const p of doc.packages) {
    if (!isObject(p)) continue;
    const name = str(p.name);
    const version = str(p.version);
    if (!name || !version) continue;
    out.push({ type: 'cargo', name, version, ...(p.kind === 'build' ? { dev: true } : {}) });
  }
  return { packages: out };
}

export const rustBinaryAnalyzer: Analyzer = {
  name: 'rust-binary',
  version: 1,
  wants: (_path, mode, size) => isExecutableFile(mode, size),
  analyze: analyzeRustBinary,
};
