import semver from 'semver';
import type { OsvAffected, OsvEvent, OsvRange, OsvRecord } from './osv.js';

/**
 * The nodejs security-wg's legacy npm advisory format (`module_name`, `vulnerable_versions` as a
 * node-semver range) converted to an OSV record `NSWG-ECO-<id>` in ecosystem `npm`. node-semver
 * normalises the range into comparator sets (`^1.2.3` -> `>=1.2.3 <2.0.0-0`); each set becomes one
 * OSV range (`>=` introduced, `<` fixed, `<=` last_affected) and an exact version joins
 * `versions`; `>1.2.3` becomes `introduced 1.2.4-0`, the least SemVer above it. A set OSV cannot
 * express (two lower bounds) rejects the record rather than guess.
 */

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function looksLikeNodejsWg(raw: unknown): boolean {
  return isObject(raw) && typeof raw.module_name === 'string' && 'vulnerable_versions' in raw;
}

export type Converted = { ok: true; record: OsvRecord } | { ok: false; reason: string };

export function convertNodejsWg(raw: Record<string, unknown>): Converted {
  const { id, module_name: name, vulnerable_versions: vulnerable } = raw;
  if (typeof id !== 'number' && typeof id !== 'string') return { ok: false, reason: 'missing "id"' };
  if (typeof name !== 'string' || !name) return { ok: false, reason: 'missing "module_name"' };
  if (typeof vulnerable !== 'string' || !vulnerable.trim())
    return { ok: false, reason: 'missing "vulnerable_versions"' };
  const date = (v: unknown): string | undefined =>
    typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? new Date(v).toISOString() : undefined;
  const modified = date(raw.updated_at) ?? date(raw.created_at);
  if (!modified) return { ok: false, reason: 'missing "updated_at"' };

  let range: semver.Range;
  try {
    range = new semver.Range(vulnerable);
  } catch {
    return { ok: false, reason: `"vulnerable_versions" ${JSON.stringify(vulnerable)} is not a node-semver range` };
  }
  const ranges: OsvRange[] = [];
  const versions: string[] = [];
  for (const set of range.set) {
    const out = convertSet(set);
    if (out === null) return { ok: false, reason: `range ${JSON.stringify(vulnerable)} has no OSV form` };
    if (typeof out === 'string') versions.push(out);
    else ranges.push({ type: 'SEMVER', events: out });
  }
  const affected: OsvAffected = { package: { ecosystem: 'npm', name } };
  if (ranges.length) affected.ranges = ranges;
  if (versions.length) affected.versions = versions;

  const cves = Array.isArray(raw.cves) ? raw.cves.filter((c): c is string => typeof c === 'string') : [];
  const vector = typeof raw.cvss_vector === 'string' ? raw.cvss_vector : '';
  const record: OsvRecord = {
    id: `NSWG-ECO-${id}`,
    modified,
    aliases: cves,
    affected: [affected],
  };
  const published = date(raw.publish_date) ?? date(raw.created_at);
  if (published) record.published = published;
  if (typeof raw.title === 'string') record.summary = raw.title;
  if (/^CVSS:3\.[01]\//.test(vector)) record.severity = [{ type: 'CVSS_V3', score: vector }];
  if (Array.isArray(raw.references))
    record.references = raw.references
      .filter((u): u is string => typeof u === 'string')
      .map((url) => ({ type: 'WEB', url }));
  return { ok: true, record };
}

/** One comparator set -> OSV events, an exact version (string), or null when OSV cannot say it. */
function convertSet(set: readonly semver.Comparator[]): OsvEvent[] | string | null {
  let introduced = '0';
  let upper: OsvEvent | undefined;
  let lowers = 0;
  for (const c of set) {
    if (c.value === '') continue; // `*`: no bound
    const v = c.semver.version;
    switch (c.operator) {
      case '':
      case '=':
        if (set.length !== 1) return null;
        return v;
      case '>=':
        if (lowers++) return null;
        introduced = v;
        break;
      case '<':
      case '<=':
        if (upper) return null;
        upper = c.operator === '<' ? { fixed: v } : { last_affected: v };
        break;
      case '>':
        if (lowers++) return null;
        introduced = successor(c.semver);
        break;
      default:
        return null;
    }
  }
  return upper ? [{ introduced }, upper] : [{ introduced }];
}

/**
 * The least SemVer version greater than `v`: for a release `x.y.(z+1)-0` (its lowest
 * pre-release), for a pre-release the same one with a `.0` identifier appended.
 */
function successor(v: semver.SemVer): string {
  if (v.prerelease.length) return `${v.version}.0`;
  return `${v.major}.${v.minor}.${v.patch + 1}-0`;
}
