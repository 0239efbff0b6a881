import type { OsvAffected, OsvRecord } from './osv.js';

/**
 * Alpine secdb (`{distroversion, reponame, packages:[{pkg:{name, secfixes:{version:[ids]}}}]}`)
 * converted to OSV-shaped records, one per vulnerability id like osv.dev's `ALPINE-CVE-…`:
 * each (release, package) it was fixed in becomes an `affected` entry in ecosystem
 * `Alpine:vX.Y` with `introduced 0` and a `fixed` event per secfix. The package is the aports
 * (origin) name, which is what secdb lists. A fixed version of `0` means the release was never
 * affected and yields no entry.
 */

const RELEASE_RE = /^(v\d+\.\d+|edge)$/;
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether `raw` is a secdb document. */
export function looksLikeSecdb(raw: unknown): boolean {
  return isObject(raw) && typeof raw.distroversion === 'string' && 'packages' in raw;
}

/** Collects secdb documents of one import and emits the merged records at the end. */
export class SecdbConverter {
  private readonly byId = new Map<string, { aliases: Set<string>; entries: Map<string, OsvAffected> }>();
  documents = 0;
  fixes = 0;
  notAffected = 0;

  /** Adds one document; returns warnings for the parts that were skipped. */
  add(raw: Record<string, unknown>, where: string): string[] {
    const warnings: string[] = [];
    const release = raw.distroversion as string;
    if (!RELEASE_RE.test(release)) return [`${where}: secdb "distroversion" ${JSON.stringify(release)} is not vX.Y`];
    if (raw.packages !== null && !Array.isArray(raw.packages)) return [`${where}: secdb "packages" is not a list`];
    this.documents++;
    const ecosystem = `Alpine:${release}`;
    for (const [i, p] of ((raw.packages as unknown[] | null) ?? []).entries()) {
      const pkg = isObject(p) && isObject(p.pkg) ? p.pkg : null;
      if (!pkg || typeof pkg.name !== 'string' || !pkg.name) {
        warnings.push(`${where}: packages[${i}] has no pkg.name; skipped`);
        continue;
      }
      const name = pkg.name;
      if (pkg.secfixes === undefined || pkg.secfixes === null) continue;
      if (!isObject(pkg.secfixes)) {
        warnings.push(`${where}: ${name}: "secfixes" is not a map; skipped`);
        continue;
      }
      for (const [version, ids] of Object.entries(pkg.secfixes)) {
        if (!Array.isArray(ids)) {
          warnings.push(`${where}: ${name} ${version}: fixed ids are not a list; skipped`);
          continue;
        }
        for (const entry of ids) {
          // "CVE-2017-2887 TALOS-2017-0394": the first token is the id, the rest aliases; "(AoE)" notes and placeholders like "CVE-????-?????" are dropped.
          const tokens =
            typeof entry === 'string'
              ? entry
                  .replace(/\([^)]*\)/g, ' ')
                  .trim()
                  .split(/\s+/)
                  .filter((t) => ID_RE.test(t))
              : [];
          const id = tokens[0];
          if (!id) {
            warnings.push(`${where}: ${name} ${version}: unreadable id ${JSON.stringify(entry)}; skipped`);
            continue;
          }
          if (version === '0') {
            this.notAffected++;
            continue;
          }
          this.fixes++;
          this.addFix(id, tokens.slice(1), ecosystem, name, version);
        }
      }
    }
    return warnings;
  }

  private addFix(id: string, aliases: string[], ecosystem: string, name: string, fixed: string): void {
    let rec = this.byId.get(id);
    if (!rec) {
      rec = { aliases: new Set(), entries: new Map() };
      this.byId.set(id, rec);
    }
    for (const a of aliases) rec.aliases.add(a);
    const key = `${ecosystem}\0${name}`;
    let entry = rec.entries.get(key);
    if (!entry) {
      entry = { package: { ecosystem, name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] };
      rec.entries.set(key, entry);
    }
    const events = entry.ranges![0]!.events;
    // The same fix listed twice stays one event; two different fixes both stay (the earliest ends the range).
    if (!events.some((e) => e.fixed === fixed)) events.push({ fixed });
  }

  /** The merged records, all stamped with `modified` (secdb has no timestamps of its own). */
  records(modified: string): OsvRecord[] {
    return [...this.byId.entries()].map(([id, r]) => ({
      id: `ALPINE-${id}`,
      modified,
      aliases: [id, ...r.aliases],
      summary: `${id} fixed in Alpine`,
      affected: [...r.entries.values()],
    }));
  }
}
