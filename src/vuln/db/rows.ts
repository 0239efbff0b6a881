import { summarize } from '../prefilter.js';
import { type RowSeveritySource, rowSeverity } from '../row-severity.js';
import { ecosystemBaseKey, nameKey, type OsvAffected, type OsvRecord, type OsvReference } from './osv.js';
import type { CandidateDetail, CandidateHead } from './read.js';

/**
 * A checked OSV record turned into the values the DB stores, apart from the writer: this is most
 * of an import's JavaScript work, and it runs on the decoding threads (see decode.ts), where the
 * record is already parsed, leaving the writer nothing to parse.
 */
export interface PreparedRecord {
  id: string;
  /** ISO-8601 with milliseconds, so stored values compare as strings. */
  modified: string;
  withdrawn: boolean;
  /**
   * What a hit needs of the record (`CandidateHead`: id, summary, aliases, upstream ids), as JSON;
   * stored with each of its package rows.
   */
  head: string;
  /** The record's other fields (`CandidateDetail`), as JSON; stored once, with the record. */
  detail: string;
  /** The references kept (advisories first), as JSON. */
  refs: string;
  /** One per (ecosystem, package name key), with that package's raw `affected[]` entries as JSON. */
  groups: PreparedGroup[];
  /** Aliases and `upstream` ids, each once, without the record's own id. */
  aliases: string[];
}

export interface PreparedGroup {
  ecosystem: string;
  ecoBase: string;
  name: string;
  entries: string;
  /** The prefilter summary (prefilter.ts) and its bounds; null when the entries cannot be summarised. */
  summary: string | null;
  low: string | null;
  high: string | null;
  /** The row severity (row-severity.ts), kept only with a summary: without one the matcher parses anyway. */
  severity: string | null;
}

/** References kept per record: the advisory links first; the full list lives upstream. */
const MAX_REFS = 5;
const MAX_SUMMARY = 300;

export function prepareRecord(rec: OsvRecord, origin: string): PreparedRecord {
  const modified = new Date(rec.modified).toISOString();
  if (rec.withdrawn !== undefined && rec.withdrawn !== null)
    return { id: rec.id, modified, withdrawn: true, head: '', detail: '', refs: '', groups: [], aliases: [] };
  const aliases = uniq(rec.aliases ?? []);
  const upstream = uniq(rec.upstream ?? []);
  const dbSeverity = rec.database_specific?.severity;
  const head: CandidateHead = { id: rec.id, summary: summaryOf(rec) ?? undefined, aliases, upstream };
  const detail: CandidateDetail = {
    modified,
    published: rec.published ? new Date(rec.published).toISOString() : undefined,
    severity: rec.severity ?? [],
    databaseSeverity: typeof dbSeverity === 'string' && dbSeverity ? dbSeverity : undefined,
    origin,
  };
  return {
    id: rec.id,
    modified,
    withdrawn: false,
    head: JSON.stringify(head),
    detail: JSON.stringify(detail),
    refs: JSON.stringify(minimalRefs(rec.references ?? [])),
    groups: groupAffected(rec.affected ?? [], {
      // What the detail keeps, so the stored severity is what a matcher would work out from it.
      severity: rec.severity ?? [],
      database_specific: typeof dbSeverity === 'string' && dbSeverity ? { severity: dbSeverity } : undefined,
    }),
    aliases: uniq([...aliases, ...upstream]).filter((a) => a !== rec.id),
  };
}

/** One group per (ecosystem, package name key); entries without a package (GIT-only) are not indexed. */
function groupAffected(affected: readonly OsvAffected[], severitySource: RowSeveritySource): PreparedGroup[] {
  const out = new Map<string, { ecosystem: string; name: string; entries: OsvAffected[] }>();
  for (const a of affected) {
    if (!a.package) continue;
    const ecosystem = a.package.ecosystem;
    const name = nameKey(ecosystem, a.package.name);
    const key = `${ecosystem}\0${name}`;
    const g = out.get(key);
    if (g) g.entries.push(a);
    else out.set(key, { ecosystem, name, entries: [a] });
  }
  return [...out.values()].map((g) => {
    const summary = summarize(g.ecosystem, g.entries);
    return {
      ecosystem: g.ecosystem,
      ecoBase: ecosystemBaseKey(g.ecosystem),
      name: g.name,
      entries: JSON.stringify(g.entries),
      summary: summary?.text ?? null,
      low: summary?.low ?? null,
      high: summary?.high ?? null,
      severity: summary ? rowSeverity(severitySource, g.entries) : null,
    };
  });
}

function summaryOf(rec: OsvRecord): string | null {
  const text = rec.summary?.trim() || rec.details?.trim().split('\n')[0]?.trim();
  if (!text) return null;
  return text.length > MAX_SUMMARY ? `${text.slice(0, MAX_SUMMARY - 1)}…` : text;
}

function minimalRefs(refs: readonly OsvReference[]): OsvReference[] {
  const ok = refs.filter((r) => r && typeof r.url === 'string' && typeof r.type === 'string');
  const advisory = ok.filter((r) => r.type === 'ADVISORY');
  const other = ok.filter((r) => r.type !== 'ADVISORY');
  return [...advisory, ...other].slice(0, MAX_REFS).map((r) => ({ type: r.type, url: r.url }));
}

function uniq(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}
