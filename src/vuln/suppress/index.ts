import type { Finding, Package } from '../../core/types.js';
import { type IgnoreEntry, type IgnoreFile, isExpired } from './ignore.js';
import { type Purl, parsePurl, purlCovers, purlPrefixCovers, renamed } from './purl.js';
import type { VexDocument, VexStatement, VexStatus } from './vex.js';

export { type IgnoreEntry, type IgnoreFile, loadIgnoreFile, parseIgnoreFile } from './ignore.js';
export { loadVex, parseVex, type VexDocument, type VexStatement, type VexStatus } from './vex.js';

/**
 * Ignore-file entries and VEX statements applied to findings. Every suppression keeps its reason, its
 * justification and where it came from, so reports can show why a finding is not counted (STYLE.md §2).
 */

export interface Suppressed {
  finding: Finding;
  by: 'ignore' | 'vex';
  reason: string;
  justification?: string;
  /** `FILE: entry N (line L)` or `FILE: statement N`. */
  source: string;
}

/** Added to a kept vulnerability finding that a VEX statement calls affected or under investigation. */
export interface VexAnnotation {
  status: VexStatus;
  state: string;
  justification?: string;
  detail?: string;
  source: string;
}

export interface SuppressionResult {
  kept: Finding[];
  suppressed: Suppressed[];
  warnings: string[];
}

export interface Suppressions {
  ignore?: IgnoreFile;
  vex?: VexDocument | VexDocument[];
}

const SUPPRESSING: ReadonlySet<VexStatus> = new Set(['not_affected', 'fixed']);

/** All names of a finding: its id and, for vulnerabilities, its aliases (compared case-insensitively). */
function namesOf(f: Finding): Set<string> {
  const names = new Set([f.id.toUpperCase()]);
  if (Array.isArray(f.aliases)) for (const a of f.aliases) if (typeof a === 'string') names.add(a.toUpperCase());
  return names;
}

function purlOfFinding(f: Finding): Purl | undefined {
  return typeof f.purl === 'string' ? parsePurl(f.purl) : undefined;
}

const OS_TYPES = new Set(['deb', 'apk', 'rpm']);

/**
 * The purls a finding's package answers to: its own and, for a distro binary package built from another source
 * package, the source package's (distro advisories and VEX speak of `glibc`, not `libc6`).
 */
function purlsOf(purl: Purl | undefined, pkg: Package | undefined): Purl[] {
  if (!purl || !OS_TYPES.has(purl.type)) return purl ? [purl] : [];
  // Without the package at hand, the purl's `upstream` qualifier still names the source (not its version).
  const upstream = purl.qualifiers.upstream;
  const src = pkg?.source ?? (upstream ? { name: upstream.split('@')[0]!, version: undefined } : undefined);
  if (!src || src.name === purl.name) return [purl];
  const source = renamed(purl, src.name, src.version);
  return source ? [purl, source] : [purl];
}

function ignoreMatches(
  e: IgnoreEntry,
  f: Finding,
  names: Set<string>,
  purls: Purl[],
  pkg: Package | undefined,
): boolean {
  if (!names.has(e.id.toUpperCase())) return false;
  if (e.package !== undefined) {
    const entryPurl = e.purl;
    if (entryPurl) {
      // A purl with a version or qualifiers is matched exactly; without, as a prefix.
      const exact = entryPurl.version !== undefined || Object.keys(entryPurl.qualifiers).length > 0;
      if (!purls.some((p) => (exact ? purlCovers(entryPurl, p) : purlPrefixCovers(entryPurl, p)))) return false;
    } else {
      const candidates = [f.package, pkg?.name, pkg?.namespace ? `${pkg.namespace}/${pkg.name}` : undefined];
      for (const p of purls) candidates.push(p.name, p.namespace ? `${p.namespace}/${p.name}` : undefined);
      if (!candidates.includes(e.package)) return false;
    }
  }
  if (e.pathPatterns) {
    const path = (typeof f.path === 'string' ? f.path : pkg?.path)?.replace(/^\/+/, '');
    if (!path || !e.pathPatterns.some((re) => re.test(path))) return false;
  }
  return true;
}

function where(file: IgnoreFile, e: IgnoreEntry): string {
  return `${file.source}: entry ${e.index} (line ${e.line})`;
}

/** The statement that applies to a finding: the latest one naming it and its package (file order breaks ties). */
function vexFor(
  byId: ReadonlyMap<string, VexStatement[]>,
  order: ReadonlyMap<VexStatement, number>,
  names: Set<string>,
  purls: Purl[],
): VexStatement | undefined {
  if (purls.length === 0) return undefined;
  let best: VexStatement | undefined;
  const later = (a: VexStatement, b: VexStatement) => {
    const ta = a.time ?? Number.NEGATIVE_INFINITY;
    const tb = b.time ?? Number.NEGATIVE_INFINITY;
    return ta !== tb ? ta > tb : order.get(a)! > order.get(b)!;
  };
  for (const s of new Set([...names].flatMap((n) => byId.get(n) ?? []))) {
    if (!s.purls.some((p) => purls.some((own) => purlCovers(p, own)))) continue;
    if (!best || later(s, best)) best = s;
  }
  return best;
}

function vexReason(s: VexStatement): string {
  return `${s.state}${s.justification ? ` (${s.justification})` : ''}${s.detail ? `: ${s.detail}` : ''}`;
}

/**
 * Applies an ignore file (any finding kind, by id or alias) and VEX statements (vulnerability findings, by id or
 * alias and package purl). Ignore entries are the local decision and are tried first. Expired entries no longer
 * suppress and are reported in `warnings` with their date. VEX `affected` / `under_investigation` keep the
 * finding and annotate it (`finding.vex`). Inputs are not modified.
 */
export function applySuppressions(
  findings: Finding[],
  packagesByPurl: ReadonlyMap<string, Package>,
  { ignore, vex }: Suppressions,
  now: Date,
): SuppressionResult {
  const docs = vex === undefined ? [] : Array.isArray(vex) ? vex : [vex];
  // Indexed by upper-cased id and alias: scans can carry thousands of findings and statements.
  const byId = new Map<string, VexStatement[]>();
  const order = new Map<VexStatement, number>();
  docs.forEach((d) => {
    for (const s of d.statements) {
      order.set(s, order.size);
      for (const id of new Set(s.ids.map((x) => x.toUpperCase()))) {
        const list = byId.get(id);
        if (list) list.push(s);
        else byId.set(id, [s]);
      }
    }
  });
  const warnings = docs.flatMap((d) => d.warnings);
  const active = ignore?.entries.filter((e) => !isExpired(e, now)) ?? [];
  const expired = ignore?.entries.filter((e) => isExpired(e, now)) ?? [];
  const revived = new Map<IgnoreEntry, number>();
  const kept: Finding[] = [];
  const suppressed: Suppressed[] = [];
  for (const f of findings) {
    const names = namesOf(f);
    const pkg = typeof f.purl === 'string' ? packagesByPurl.get(f.purl) : undefined;
    const purls = purlsOf(purlOfFinding(f), pkg);
    const entry = active.find((e) => ignoreMatches(e, f, names, purls, pkg));
    if (entry && ignore) {
      suppressed.push({ finding: f, by: 'ignore', reason: entry.reason, source: where(ignore, entry) });
      continue;
    }
    for (const e of expired) if (ignoreMatches(e, f, names, purls, pkg)) revived.set(e, (revived.get(e) ?? 0) + 1);
    const s = f.kind === 'vulnerability' ? vexFor(byId, order, names, purls) : undefined;
    if (s && SUPPRESSING.has(s.status)) {
      suppressed.push({
        finding: f,
        by: 'vex',
        reason: vexReason(s),
        ...(s.justification ? { justification: s.justification } : {}),
        source: s.source,
      });
    } else if (s) {
      const vexNote: VexAnnotation = {
        status: s.status,
        state: s.state,
        ...(s.justification ? { justification: s.justification } : {}),
        ...(s.detail ? { detail: s.detail } : {}),
        source: s.source,
      };
      kept.push({ ...f, vex: vexNote });
    } else {
      kept.push(f);
    }
  }
  for (const e of expired) {
    const n = revived.get(e) ?? 0;
    warnings.push(
      `${where(ignore!, e)}: ignore of ${e.id} expired on ${e.expires} and no longer suppresses` +
        (n ? ` (it matches ${n} finding${n === 1 ? '' : 's'})` : ''),
    );
  }
  return { kept, suppressed, warnings };
}
