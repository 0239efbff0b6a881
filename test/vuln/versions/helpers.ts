import { readFileSync } from 'node:fs';
import type { Comparator } from '../../../src/vuln/versions/index.js';

const root = new URL('../../fixtures/vuln/versions/', import.meta.url);

export function load<T = unknown>(rel: string): T {
  return JSON.parse(readFileSync(new URL(rel, root), 'utf8')) as T;
}

export interface CompareRecord {
  a: string;
  b: string;
  cmp: number;
}

/**
 * Runs every compare record through `compare`, in both directions (a < b must mean b > a), and
 * returns the failures as readable lines so a failing test shows what broke.
 */
export function compareFailures(
  records: readonly CompareRecord[],
  compare: (a: string, b: string) => number,
): string[] {
  const failures: string[] = [];
  for (const r of records) {
    const got = compare(r.a, r.b);
    const back = compare(r.b, r.a);
    if (got !== r.cmp || back !== -r.cmp + 0)
      failures.push(`${r.a} vs ${r.b}: want ${r.cmp}, got ${got} / reverse ${back}`);
  }
  return failures;
}

export function compareFile(c: Comparator, rel: string, expectedCount: number): void {
  const records = load<CompareRecord[]>(rel);
  // The count guards against a truncated fixture silently testing less.
  if (records.length !== expectedCount) throw new Error(`${rel}: ${records.length} records, expected ${expectedCount}`);
  const failures = compareFailures(records, (a, b) => c.compare(a, b));
  if (failures.length > 0)
    throw new Error(`${c.name} ${rel}: ${failures.length} failures\n${failures.slice(0, 20).join('\n')}`);
}
