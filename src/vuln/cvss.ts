import cvssLib from 'ae-cvss-calculator';

/**
 * Severity of an OSV record: scores from its CVSS vectors (v2, v3.0, v3.1, v4.0, computed by
 * the ae-cvss-calculator library), else the record's own severity text
 * (`database_specific.severity`, `ecosystem_specific.severity`, distro urgency words).
 */

export type Severity = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'NONE' | 'UNKNOWN';
export type CvssVersion = '2.0' | '3.0' | '3.1' | '4.0';

export interface CvssScore {
  version: CvssVersion;
  /** The vector as the library normalised it. */
  vector: string;
  /** Base score (v4: from the base metrics only, CVSS-B). */
  baseScore: number;
  /** The score of the vector as written (v3 base; v4 including threat/environmental metrics). */
  score: number;
  severity: Severity;
}

const { fromVector } = cvssLib as unknown as { fromVector: (v: string) => LibVector | null };
interface LibVector {
  getVectorName(): string;
  calculateScores(): { overall: number; base?: number; baseMetricsOnly?: number; vector: string };
}

/** Base metrics a vector must set (the library silently scores incomplete vectors as 0). */
const REQUIRED: Record<CvssVersion, readonly string[]> = {
  '2.0': ['AV', 'AC', 'Au', 'C', 'I', 'A'],
  '3.0': ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'],
  '3.1': ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'],
  '4.0': ['AV', 'AC', 'AT', 'PR', 'UI', 'VC', 'VI', 'VA', 'SC', 'SI', 'SA'],
};

const MAX_VECTOR_LENGTH = 512;

/** The qualitative rating of a score: v3/v4 bands, v2 has no NONE/CRITICAL. */
export function severityFromScore(score: number, version: CvssVersion): Severity {
  if (version === '2.0') return score < 4 ? 'LOW' : score < 7 ? 'MEDIUM' : 'HIGH';
  if (score === 0) return 'NONE';
  if (score < 4) return 'LOW';
  if (score < 7) return 'MEDIUM';
  if (score < 9) return 'HIGH';
  return 'CRITICAL';
}

/**
 * Scores already computed, by vector text: advisories repeat a few hundred distinct vectors, and
 * scoring one costs far more than a lookup. Bounded; the scores are frozen, as they are shared.
 */
const scored = new Map<string, Readonly<CvssScore> | null>();
const MAX_SCORED = 10_000;

/** Parses and scores one vector; null when it is not a complete, valid CVSS vector. */
export function parseCvss(vector: string): Readonly<CvssScore> | null {
  if (typeof vector !== 'string' || vector.length === 0 || vector.length > MAX_VECTOR_LENGTH) return null;
  const hit = scored.get(vector);
  if (hit !== undefined) return hit;
  const s = score(vector);
  if (scored.size >= MAX_SCORED) scored.clear();
  scored.set(vector, s ? Object.freeze(s) : null);
  return s;
}

function score(vector: string): CvssScore | null {
  const text = vector.trim();
  const prefix = /^CVSS:(\d\.\d)\//.exec(text);
  const version = (prefix ? prefix[1] : '2.0') as CvssVersion;
  if (!(version in REQUIRED)) return null;
  const metrics = new Map<string, string>();
  for (const part of (prefix ? text.slice(prefix[0].length) : text).split('/')) {
    const m = /^([A-Za-z]+):([A-Za-z]+)$/.exec(part);
    if (!m || metrics.has(m[1]!)) return null;
    metrics.set(m[1]!, m[2]!);
  }
  for (const k of REQUIRED[version]) {
    const v = metrics.get(k);
    if (v === undefined || v === 'X') return null;
  }
  let lib: LibVector | null;
  try {
    lib = fromVector(text);
  } catch {
    return null;
  }
  if (!lib || lib.getVectorName() !== `CVSS:${version}`) return null;
  const s = lib.calculateScores();
  const baseScore = version === '4.0' ? s.baseMetricsOnly : s.base;
  const score = version === '4.0' ? s.overall : s.base;
  if (typeof baseScore !== 'number' || typeof score !== 'number' || Number.isNaN(score)) return null;
  return { version, vector: s.vector, baseScore, score, severity: severityFromScore(score, version) };
}

/** Severity words found in OSV data (GitHub, Red Hat, Debian/Ubuntu urgencies, ...). */
const WORDS: Record<string, Severity> = {
  critical: 'CRITICAL',
  high: 'HIGH',
  important: 'HIGH',
  moderate: 'MEDIUM',
  medium: 'MEDIUM',
  low: 'LOW',
  negligible: 'LOW',
  unimportant: 'LOW',
  none: 'NONE',
};

/** A severity word as our band, or null when the text is not one (`untriaged`, `not yet assigned`). */
export function severityFromText(text: unknown): Severity | null {
  if (typeof text !== 'string') return null;
  return WORDS[text.trim().toLowerCase()] ?? null;
}

interface OsvSeverityEntry {
  type?: string;
  score?: string;
}
export interface OsvSeveritySource {
  severity?: OsvSeverityEntry[];
  database_specific?: unknown;
  affected?: { severity?: OsvSeverityEntry[]; ecosystem_specific?: unknown; database_specific?: unknown }[];
}

export interface RecordSeverity {
  severity: Severity;
  /** The vector the severity came from, when it came from one. */
  cvss: CvssScore | null;
  /** Every valid vector of the record, for reports. */
  vectors: CvssScore[];
  source: 'cvss' | 'severity' | 'database_specific' | 'ecosystem_specific' | 'none';
}

/** Severities from most to least severe; where UNKNOWN stands in a gate is policy's call. */
export const SEVERITY_ORDER: readonly Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'NONE', 'UNKNOWN'];

/** Orders severities, most severe first (for sorting findings). */
export function compareSeverity(a: Severity, b: Severity): number {
  return SEVERITY_ORDER.indexOf(a) - SEVERITY_ORDER.indexOf(b);
}

/** Vector preference: v3.1, v3.0 (the ratings advisories publish), then v4.0, then v2. */
const PREFERENCE: readonly CvssVersion[] = ['3.1', '3.0', '4.0', '2.0'];

function severityField(obj: unknown): Severity | null {
  if (obj === null || typeof obj !== 'object') return null;
  const o = obj as Record<string, unknown>;
  return severityFromText(o.severity) ?? severityFromText(o.urgency) ?? severityFromText(o.priority);
}

/** The severity of an OSV record (optionally of one of its `affected[]` entries). */
export function recordSeverity(record: OsvSeveritySource, affectedIndex?: number): RecordSeverity {
  const entry = affectedIndex === undefined ? undefined : record.affected?.[affectedIndex];
  const vectors: CvssScore[] = [];
  for (const s of [...(entry?.severity ?? []), ...(record.severity ?? [])]) {
    if (typeof s?.score !== 'string' || !/^CVSS_V[234]$/.test(s.type ?? '')) continue;
    const c = parseCvss(s.score);
    if (c) vectors.push(c);
  }
  for (const v of PREFERENCE) {
    const c = vectors.find((x) => x.version === v);
    if (c) return { severity: c.severity, cvss: c, vectors, source: 'cvss' };
  }
  // OSV's qualitative severity type: the Ubuntu priority word.
  for (const s of [...(entry?.severity ?? []), ...(record.severity ?? [])]) {
    const word = s?.type === 'Ubuntu' ? severityFromText(s.score) : null;
    if (word) return { severity: word, cvss: null, vectors, source: 'severity' };
  }
  const db = severityField(record.database_specific) ?? severityField(entry?.database_specific);
  if (db) return { severity: db, cvss: null, vectors, source: 'database_specific' };
  const eco =
    severityField(entry?.ecosystem_specific) ??
    (record.affected ?? []).map((a) => severityField(a.ecosystem_specific)).find((x) => x !== null) ??
    null;
  if (eco) return { severity: eco, cvss: null, vectors, source: 'ecosystem_specific' };
  return { severity: 'UNKNOWN', cvss: null, vectors, source: 'none' };
}
