import type { OsvAffected } from './affected.js';
import { type CvssVersion, type OsvSeveritySource, recordSeverity, type Severity } from './cvss.js';

/**
 * A record's severity for one package, worked out at import and stored with that package's row,
 * so that a matcher answering a hit from the row's summary (prefilter.ts) needs neither the
 * record's JSON nor the CVSS library. What `recordSeverity` says, reduced to what a finding shows.
 */
export interface RowSeverity {
  severity: Severity;
  cvss: { version: CvssVersion; vector: string; baseScore: number } | null;
}

/** The record-level fields a row severity is worked out from. */
export type RowSeveritySource = Omit<OsvSeveritySource, 'affected'>;

/**
 * The severity every entry of a package's row gives (`recordSeverity` of the record with that
 * entry's index), as text: `HIGH`, or `HIGH 3.1 9.8 CVSS:3.1/AV:N/...`. Null when the entries
 * disagree (then the matcher works it out for the entry that matched).
 */
export function rowSeverity(record: RowSeveritySource, entries: readonly OsvAffected[]): string | null {
  const source: OsvSeveritySource = { ...record, affected: entries as OsvSeveritySource['affected'] };
  let text: string | null = null;
  for (let i = 0; i < entries.length; i++) {
    const s = recordSeverity(source, i);
    const t = s.cvss ? `${s.severity} ${s.cvss.version} ${s.cvss.baseScore} ${s.cvss.vector}` : s.severity;
    if (text !== null && t !== text) return null;
    text = t;
  }
  return text;
}

/** The stored text back as a severity; null when it is not one this version writes. */
export function parseRowSeverity(text: string): RowSeverity | null {
  const parts = text.split(' ');
  const severity = parts[0] as Severity;
  if (parts.length === 1) return { severity, cvss: null };
  if (parts.length !== 4) return null;
  const baseScore = Number(parts[2]);
  if (Number.isNaN(baseScore)) return null;
  return { severity, cvss: { version: parts[1] as CvssVersion, vector: parts[3]!, baseScore } };
}
