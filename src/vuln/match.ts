import { KIND_MAPPING } from '../core/checks.js';
import type { Finding, Package, Severity } from '../core/types.js';
import { matchAffected, matchReason, orderKeyOf, type PackageQuery, queryVersion } from './affected.js';
import { recordSeverity } from './cvss.js';
import type { OsvCandidate, StoredCandidate, VulnDb } from './db/index.js';
import type { RowSeverity } from './row-severity.js';
import { comparatorFor } from './versions/index.js';

/** The package name as OSV spells it in the package's ecosystem. */
export function osvName(pkg: Pick<Package, 'type' | 'namespace' | 'name'>): string {
  if (!pkg.namespace) return pkg.name;
  switch (pkg.type) {
    case 'maven':
      return `${pkg.namespace}:${pkg.name}`;
    case 'npm':
    case 'golang':
    case 'composer':
      return `${pkg.namespace}/${pkg.name}`;
    default:
      return pkg.name;
  }
}

/**
 * How one package is looked up: Debian and Ubuntu advisories name the source package and its version
 * (a binary rebuilt with +bN still carries the source's fix); Alpine's name the origin.
 */
function queryOf(pkg: Package): PackageQuery {
  const q: PackageQuery = { ecosystem: pkg.ecosystem, name: osvName(pkg), version: pkg.version };
  if (pkg.type === 'deb' && pkg.source) {
    q.name = pkg.source.name;
    q.version = pkg.source.version ?? pkg.version;
  } else if (pkg.type === 'apk' && pkg.source) {
    q.name = pkg.source.name;
  } else if (pkg.type === 'rpm' && pkg.source) {
    q.sourceName = pkg.source.name;
  }
  if (pkg.epoch !== undefined) q.epoch = pkg.epoch;
  return q;
}

const SEVERITY_MAP: Record<string, Severity> = {
  CRITICAL: 'CRITICAL',
  HIGH: 'HIGH',
  MEDIUM: 'MEDIUM',
  LOW: 'LOW',
  NONE: 'LOW',
  UNKNOWN: 'UNKNOWN',
};

/** Prefer the id people search for: CVE, then GHSA, then the distro's or database's own. */
function idRank(id: string): number {
  return id.startsWith('CVE-') ? 0 : id.startsWith('GHSA-') ? 1 : 2;
}

/** The hit whose id names the group: the best-ranked id, then the lowest (locale-independent). */
function preferred(group: readonly Hit[]): Hit {
  let best = group[0]!;
  for (const h of group) {
    const d = idRank(h.id) - idRank(best.id);
    if (d < 0 || (d === 0 && h.id < best.id)) best = h;
  }
  return best;
}

interface Hit {
  id: string;
  title: string | undefined;
  fixed: string[];
  reason: string;
  ids: Set<string>;
  /** The stored severity when the hit came from a row's summary, else how to work it out. */
  severity: RowSeverity | { candidate: OsvCandidate; entryIndex: number };
}

/**
 * Records that share an id or alias describe one vulnerability: report it once per package.
 * Union-find over the ids (linear; a popular package can have hundreds of hits). Groups come in
 * the order of their first hit, hits in their own order.
 */
function groupByAlias(hits: Hit[]): Hit[][] {
  if (hits.length < 2) return hits.length === 0 ? [] : [hits];
  const parent = hits.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const owner = new Map<string, number>();
  for (let i = 0; i < hits.length; i++) {
    for (const id of hits[i]!.ids) {
      const j = owner.get(id);
      if (j === undefined) owner.set(id, i);
      else {
        const a = root(i);
        const b = root(j);
        if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
      }
    }
  }
  const groups = new Map<number, Hit[]>();
  for (let i = 0; i < hits.length; i++) {
    const hit = hits[i]!;
    const r = root(i);
    const g = groups.get(r);
    if (g) g.push(hit);
    else groups.set(r, [hit]);
  }
  return [...groups.values()];
}

/**
 * Hits per query, kept per DB handle: a handle reads one immutable file (imports swap in a new
 * file), so a later scan with the same handle reuses them; closing the handle ends its use, and
 * the entry goes with the handle. Bounded: emptied when full.
 */
const hitsByDb = new WeakMap<VulnDb, Map<string, Hit[][]>>();
const MAX_CACHED_QUERIES = 50_000;

/** Distinct fixed versions, lowest first (each hit's own list is already sorted this way). */
function lowestFirst(versions: string[], ecosystem: string): string[] {
  const cmp = comparatorFor(ecosystem);
  return [...new Set(versions)].sort((a, b) => (cmp ? cmp.compare(a, b) : a.localeCompare(b)));
}

/** The installed version in order-key space (versions/order-key.ts), when it has one. */
function installedKeyOf(q: PackageQuery): string | null {
  const version = queryVersion(q);
  const cmp = version === '' ? undefined : comparatorFor(q.ecosystem);
  return cmp ? orderKeyOf(cmp, version) : null;
}

/**
 * The records that cover one query's version, with what the evaluator says about each. With the
 * installed version's order key, records whose import-time summaries rule it out are skipped
 * unparsed, and those that prove a hit are answered from them (prefilter.ts); the rest are
 * evaluated in full.
 */
function hitsOf(q: PackageQuery, orderKey: string | null, db: VulnDb, stats: MatchStats): Hit[] {
  const hits: Hit[] = [];
  const version = queryVersion(q);
  const cmp = orderKey === null ? undefined : comparatorFor(q.ecosystem);
  const names = q.sourceName && q.sourceName !== q.name ? [q.name, q.sourceName] : [q.name];
  const seen = new Set<string>();
  for (const name of names) {
    for (const stored of db.candidates(q.ecosystem, name, orderKey)) {
      if (seen.has(stored.id)) continue;
      seen.add(stored.id);
      stats.candidates++;
      const answer = orderKey === null ? undefined : stored.assess(orderKey);
      if (answer === null) {
        stats.prefiltered++;
        continue;
      }
      if (answer !== undefined) {
        stats.summarized++;
        hits.push(hitOf(stored, answer.fixed, matchReason(cmp!.name, version, answer.fixed), answer.severity));
        continue;
      }
      const m = matchAffected(stored.affected, q);
      if (!m) continue;
      const c = stored.full();
      // biome-ignore lint/complexity/useIndexOf: the DB and the evaluator type affected[] entries differently
      const entryIndex = c.affected.findIndex((a) => a === m.entries[0]);
      hits.push(hitOf(stored, m.fixed, m.reason, { candidate: c, entryIndex }));
    }
  }
  return hits;
}

function hitOf(stored: StoredCandidate, fixed: string[], reason: string, severity: Hit['severity']): Hit {
  const head = stored.head();
  return {
    id: head.id,
    title: head.summary,
    fixed,
    reason,
    ids: new Set([head.id, ...head.aliases, ...head.upstream]),
    severity,
  };
}

/** The severity a finding shows: the row's, or the record's for the entry that matched. */
function severityOf(hit: Hit): RowSeverity {
  if (!('candidate' in hit.severity)) return hit.severity;
  const { candidate: c, entryIndex } = hit.severity;
  const s = recordSeverity(
    {
      severity: c.severity,
      database_specific: c.databaseSeverity ? { severity: c.databaseSeverity } : undefined,
      affected: c.affected,
    },
    entryIndex >= 0 ? entryIndex : undefined,
  );
  return { severity: s.severity, cvss: s.cvss };
}

/** One finding for a group of hits that are one vulnerability. */
function findingOf(pkg: Package, q: PackageQuery, group: readonly Hit[]): Finding {
  const mapping = KIND_MAPPING.vulnerability;
  const best = group.length === 1 ? group[0]! : preferred(group);
  const sev = severityOf(best);
  // The group's fix: the lowest fixed version any of its records knows.
  const fixed =
    group.length === 1
      ? best.fixed
      : lowestFirst(
          group.flatMap((h) => h.fixed),
          q.ecosystem,
        );
  const aliases = [...new Set(group.flatMap((h) => [...h.ids]))].filter((id) => id !== best.id).sort();
  const finding: Finding = {
    kind: 'vulnerability',
    id: best.id,
    aliases,
    severity: SEVERITY_MAP[sev.severity] ?? 'UNKNOWN',
    title: best.title ?? best.id,
    nist: mapping.nist,
    pci: mapping.pci,
    package: osvName(pkg),
    ecosystem: pkg.ecosystem,
    installedVersion: pkg.version,
    purl: pkg.purl,
    path: pkg.path,
    reason: best.reason,
  };
  if (fixed.length) finding.fixedVersion = fixed[0];
  if (pkg.source && pkg.source.name !== pkg.name) finding.sourcePackage = pkg.source.name;
  if (sev.cvss) finding.cvss = { version: sev.cvss.version, vector: sev.cvss.vector, score: sev.cvss.baseScore };
  if (pkg.layer) finding.layer = pkg.layer;
  return finding;
}

export interface MatchStats {
  packages: number;
  queried: number;
  /** Language packages matched through the OS package that owns their files. */
  ownedSkipped: number;
  /** Records read for the queries this call evaluated (not those answered from the handle's cache). */
  candidates: number;
  /** Of those, records the import-time summaries ruled out without evaluating them (prefilter.ts). */
  prefiltered: number;
  /** Of those, hits the summaries answered (fix and severity included) without evaluating them. */
  summarized: number;
}

/**
 * Turns an inventory into vulnerability findings (DESIGN.md step 4). Language packages whose files an OS
 * package installed are matched through the OS package only, so a distro's backported fix raises no false
 * alarm; the same package found at several paths is reported once per path.
 */
export function matchPackages(packages: readonly Package[], db: VulnDb): { findings: Finding[]; stats: MatchStats } {
  const findings: Finding[] = [];
  const stats: MatchStats = {
    packages: packages.length,
    queried: 0,
    ownedSkipped: 0,
    candidates: 0,
    prefiltered: 0,
    summarized: 0,
  };
  let cache = hitsByDb.get(db);
  if (!cache) {
    cache = new Map();
    hitsByDb.set(db, cache);
  }
  const queries = packages.map((pkg) => {
    if (pkg.ownedBy) return undefined;
    const q = queryOf(pkg);
    return {
      q,
      key: `${q.ecosystem}\0${q.name}\0${q.version}\0${q.sourceName ?? ''}\0${q.epoch ?? ''}`,
      installedKey: installedKeyOf(q),
    };
  });
  // The DB answers all the names of an ecosystem in one query: far cheaper than one per package.
  db.prefetch(
    (function* () {
      for (const x of queries) {
        if (!x || cache.has(x.key)) continue;
        yield [x.q.ecosystem, x.q.name, x.installedKey] as const;
        if (x.q.sourceName && x.q.sourceName !== x.q.name)
          yield [x.q.ecosystem, x.q.sourceName, x.installedKey] as const;
      }
    })(),
  );
  const queried = new Set<string>();
  // The loop body lives in small functions: V8 optimises a function after a few calls, while one
  // long loop in one call runs unoptimised for most of a first scan.
  for (let i = 0; i < packages.length; i++) {
    const x = queries[i];
    if (!x) {
      stats.ownedSkipped++;
      continue;
    }
    const { q, key, installedKey } = x;
    if (!queried.has(key)) {
      queried.add(key);
      stats.queried++;
    }
    let groups = cache.get(key);
    if (!groups) {
      groups = groupByAlias(hitsOf(q, installedKey, db, stats));
      if (cache.size >= MAX_CACHED_QUERIES) cache.clear();
      cache.set(key, groups);
    }
    for (const group of groups) findings.push(findingOf(packages[i]!, q, group));
  }
  return { findings, stats };
}
