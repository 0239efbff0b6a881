/**
 * The slice of an OSV record (https://ossf.github.io/osv-schema/) the DB keeps, and the checks a
 * record must pass before it is stored. Checks cover the fields the DB and the matcher rely on;
 * anything else in the record is carried through untouched inside `affected` entries.
 */

import type { OsvEvent } from '../affected.js';

export type { OsvEvent };

export interface OsvRange {
  type: string;
  repo?: string;
  events: OsvEvent[];
  database_specific?: unknown;
}

export interface OsvAffected {
  package?: { ecosystem: string; name: string; purl?: string };
  severity?: OsvSeverity[];
  ranges?: OsvRange[];
  versions?: string[];
  ecosystem_specific?: unknown;
  database_specific?: unknown;
}

export interface OsvSeverity {
  type: string;
  score: string;
}

export interface OsvReference {
  type: string;
  url: string;
}

export interface OsvRecord {
  id: string;
  modified: string;
  published?: string;
  withdrawn?: string;
  aliases?: string[];
  upstream?: string[];
  related?: string[];
  summary?: string;
  details?: string;
  severity?: OsvSeverity[];
  affected?: OsvAffected[];
  references?: OsvReference[];
  database_specific?: Record<string, unknown>;
}

export type Checked = { ok: true; record: OsvRecord } | { ok: false; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const EVENT_KEYS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;
/** OSV ids are short and plain (`GHSA-xxxx`, `PYSEC-2021-1`); anything else is not an id we want to print. */
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$/;

/** Whether `raw` looks like an OSV record at all (used to tell formats apart before checking). */
export function looksLikeOsv(raw: unknown): boolean {
  return isObject(raw) && typeof raw.id === 'string' && ('modified' in raw || 'affected' in raw);
}

/**
 * Validates the fields the DB depends on. A record failing here is skipped with `reason`;
 * it never reaches the store half-understood.
 */
export function checkOsv(raw: unknown): Checked {
  if (!isObject(raw)) return { ok: false, reason: 'not a JSON object' };
  const { id, modified } = raw;
  if (typeof id !== 'string' || !ID_RE.test(id)) return { ok: false, reason: 'missing or malformed "id"' };
  if (typeof modified !== 'string' || Number.isNaN(Date.parse(modified)))
    return { ok: false, reason: 'missing or malformed "modified"' };
  for (const key of ['published', 'withdrawn', 'summary', 'details'] as const) {
    if (raw[key] !== undefined && typeof raw[key] !== 'string')
      return { ok: false, reason: `"${key}" is not a string` };
  }
  for (const key of ['aliases', 'upstream', 'related'] as const) {
    if (raw[key] !== undefined && raw[key] !== null && !isStringArray(raw[key]))
      return { ok: false, reason: `"${key}" is not a list of strings` };
  }
  const sev = checkSeverity(raw.severity, 'severity');
  if (sev) return { ok: false, reason: sev };
  if (raw.affected !== undefined && raw.affected !== null) {
    if (!Array.isArray(raw.affected)) return { ok: false, reason: '"affected" is not a list' };
    for (const [i, a] of raw.affected.entries()) {
      const why = checkAffected(a);
      if (why) return { ok: false, reason: `affected[${i}]: ${why}` };
    }
  }
  if (raw.references !== undefined && raw.references !== null) {
    if (!Array.isArray(raw.references)) return { ok: false, reason: '"references" is not a list' };
  }
  if (raw.database_specific !== undefined && raw.database_specific !== null && !isObject(raw.database_specific))
    return { ok: false, reason: '"database_specific" is not an object' };
  return { ok: true, record: raw as unknown as OsvRecord };
}

function checkSeverity(v: unknown, where: string): string | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v)) return `"${where}" is not a list`;
  for (const s of v) {
    if (!isObject(s) || typeof s.type !== 'string' || typeof s.score !== 'string')
      return `"${where}" entries need string "type" and "score"`;
  }
  return null;
}

function checkAffected(a: unknown): string | null {
  if (!isObject(a)) return 'not an object';
  if (a.package !== undefined) {
    const p = a.package;
    if (!isObject(p) || typeof p.ecosystem !== 'string' || typeof p.name !== 'string' || !p.ecosystem || !p.name)
      return '"package" needs non-empty "ecosystem" and "name"';
  }
  if (a.versions !== undefined && !isStringArray(a.versions)) return '"versions" is not a list of strings';
  const sev = checkSeverity(a.severity, 'severity');
  if (sev) return sev;
  if (a.ranges !== undefined) {
    if (!Array.isArray(a.ranges)) return '"ranges" is not a list';
    for (const r of a.ranges) {
      if (!isObject(r) || typeof r.type !== 'string') return 'a range needs a string "type"';
      if (!Array.isArray(r.events) || r.events.length === 0) return 'a range needs a non-empty "events" list';
      for (const e of r.events) {
        if (!isObject(e)) return 'an event is not an object';
        const keys = EVENT_KEYS.filter((k) => e[k] !== undefined);
        if (keys.length !== 1 || typeof e[keys[0]!] !== 'string')
          return 'an event needs exactly one of introduced/fixed/last_affected/limit as a string';
      }
    }
  }
  return null;
}

/** `Debian:12` -> `debian`, `npm` -> `npm`: the key lookups by ecosystem family use (case-insensitive). */
export function ecosystemBaseKey(ecosystem: string): string {
  const i = ecosystem.indexOf(':');
  return (i >= 0 ? ecosystem.slice(0, i) : ecosystem).trim().toLowerCase();
}

/** The stored name key: PyPI names compare after PEP 503 normalisation, every other ecosystem exactly. */
export function nameKey(ecosystem: string, name: string): string {
  return ecosystemBaseKey(ecosystem) === 'pypi' ? name.toLowerCase().replace(/[-_.]+/g, '-') : name;
}
