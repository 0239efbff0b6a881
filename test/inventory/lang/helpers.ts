import { readFileSync } from 'node:fs';
import type { FoundPackage } from '../../../src/core/types.js';
import type { Analyzer, AnalyzerResult, FileInput } from '../../../src/inventory/analyzer.js';
import { npmFullName } from '../../../src/inventory/lang/common.js';

export const FIXTURES = new URL('../../fixtures/inventory/lang/', import.meta.url);

export function fixture(rel: string): Buffer {
  return readFileSync(new URL(rel, FIXTURES));
}

export function input(path: string, content: Buffer | string, truncated = false): FileInput {
  const buf = typeof content === 'string' ? Buffer.from(content) : content;
  return { path, mode: 0o100644, size: buf.length, content: buf, truncated };
}

export async function run(analyzer: Analyzer, path: string, content: Buffer | string): Promise<AnalyzerResult> {
  if (!analyzer.wants(path, 0o100644, typeof content === 'string' ? content.length : content.length)) {
    throw new Error(`${analyzer.name} does not want ${path}`);
  }
  return analyzer.analyze(input(path, content));
}

/** "name@version" with the full (scoped) name, sorted, for set comparisons. */
export function ids(pkgs: FoundPackage[] | undefined, filter: (p: FoundPackage) => boolean = () => true): string[] {
  return (pkgs ?? [])
    .filter(filter)
    .map((p) => `${p.type === 'npm' ? npmFullName(p) : p.namespace ? `${p.namespace}/${p.name}` : p.name}@${p.version}`)
    .sort();
}

/** A Trivy expected-output case (converted from its Go test table). */
export interface TrivyCase {
  name?: string;
  file?: string;
  want?: TrivyPkg[] | null;
  wantPkgs?: TrivyPkg[] | null;
}
export interface TrivyPkg {
  Name?: string;
  Version?: string;
  Dev?: boolean;
  Licenses?: string[];
}

export function trivyCases(rel: string): TrivyCase[] {
  const cases = JSON.parse(fixture(rel).toString('utf8')) as TrivyCase[];
  // Some Trivy tables name the expected list `wantPkgs`.
  return cases.map((c) => ({ ...c, want: c.want ?? c.wantPkgs ?? null }));
}

export function trivyIds(pkgs: TrivyPkg[] | null | undefined, filter: (p: TrivyPkg) => boolean = () => true): string[] {
  return (pkgs ?? [])
    .filter(filter)
    .map((p) => `${p.Name ?? ''}@${p.Version ?? ''}`)
    .sort();
}
