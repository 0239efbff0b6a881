import { readFile, stat } from 'node:fs/promises';
import { PackageURL } from 'packageurl-js';
import { LimitExceededError, UserInputError } from '../core/errors.js';
import type { OsInfo, Package, PackageType } from '../core/types.js';
import type { ImageInventory } from '../scan/index.js';
import { ecosystemOf } from './ecosystem.js';

/**
 * An SBOM read back into the inventory the image scan would have produced, so that `palisade scan sbom:FILE`
 * matches without the image. CycloneDX JSON 1.4–1.6 and SPDX JSON 2.2/2.3; packages come from purls, the OS
 * from an operating-system component or the purl `distro` qualifier, source packages from our own
 * `palisade:*` properties, Trivy's `aquasecurity:trivy:Src*` properties or the purl `upstream` qualifier.
 */

/** The whole document is parsed in memory; larger SBOMs are refused rather than exhausting the process. */
export const MAX_SBOM_BYTES = 32 * 1024 * 1024;
/** A bound on nesting (CycloneDX components hold components) so a hostile file cannot recurse deeply. */
const MAX_DEPTH = 32;

const CDX_VERSIONS = new Set(['1.4', '1.5', '1.6']);
const SPDX_VERSIONS = new Set(['SPDX-2.2', 'SPDX-2.3']);

/** purl types we model; anything else is kept as `generic` so it stays in the inventory but matches nothing. */
const KNOWN_TYPES = new Set<PackageType>([
  'deb',
  'apk',
  'rpm',
  'npm',
  'pypi',
  'golang',
  'maven',
  'gem',
  'cargo',
  'composer',
  'nuget',
]);
const OS_TYPES = new Set<PackageType>(['deb', 'apk', 'rpm']);

type Json = Record<string, unknown>;

export async function readSbom(path: string): Promise<ImageInventory> {
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new UserInputError(`SBOM ${path}: not a regular file`);
    size = st.size;
  } catch (err) {
    if (err instanceof UserInputError) throw err;
    throw new UserInputError(`SBOM ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (size > MAX_SBOM_BYTES) {
    throw new LimitExceededError(`SBOM ${path}: ${size} bytes is more than the limit of ${MAX_SBOM_BYTES}`);
  }
  return parseSbom(await readFile(path, 'utf8'), path);
}

/** Parses SBOM text; `name` is used in messages and as the inventory's target. */
export function parseSbom(text: string, name: string): ImageInventory {
  if (text.length > MAX_SBOM_BYTES) {
    throw new LimitExceededError(`SBOM ${name}: more than the limit of ${MAX_SBOM_BYTES} bytes`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UserInputError(`SBOM ${name}: not JSON (${(err as Error).message})`);
  }
  if (!isObject(doc)) throw new UserInputError(`SBOM ${name}: not a CycloneDX or SPDX JSON document`);
  if (doc.bomFormat === 'CycloneDX') {
    const v = String(doc.specVersion ?? '');
    if (!CDX_VERSIONS.has(v)) {
      throw new UserInputError(`SBOM ${name}: CycloneDX specVersion "${v}" is not supported (1.4, 1.5, 1.6)`);
    }
    return fromCycloneDx(doc, name);
  }
  if (typeof doc.spdxVersion === 'string') {
    if (!SPDX_VERSIONS.has(doc.spdxVersion)) {
      throw new UserInputError(`SBOM ${name}: ${doc.spdxVersion} is not supported (SPDX-2.2, SPDX-2.3)`);
    }
    return fromSpdx(doc, name);
  }
  throw new UserInputError(`SBOM ${name}: unknown format (neither CycloneDX "bomFormat" nor SPDX "spdxVersion")`);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function arrayOf(v: unknown): Json[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** What a component/package says about itself besides its purl. */
interface Hints {
  path?: string;
  layer?: string;
  sourceName?: string;
  sourceVersion?: string;
  arch?: string;
  dev?: boolean;
  ownedBy?: string;
  licenses?: string[];
}

interface Candidate {
  purl: string;
  hints: Hints;
}

/** Splits a purl `distro` qualifier: "debian-12" → debian/12, "opensuse-leap-15.5" → opensuse-leap/15.5. */
export function osFromDistro(distro: string): OsInfo | undefined {
  const m = /^(.+?)-(\d[^-]*)$/.exec(distro);
  if (m) return { family: m[1]!.toLowerCase(), version: m[2]! };
  return undefined;
}

function buildInventory(
  name: string,
  sourceKind: string,
  candidates: Candidate[],
  osComponent: OsInfo | undefined,
  meta: { names: string[]; digest?: string; layers: string[] },
): ImageInventory {
  const warnings: string[] = [];
  const parsed: { p: PackageURL; c: Candidate }[] = [];
  let bad = 0;
  for (const c of candidates) {
    try {
      parsed.push({ p: PackageURL.fromString(c.purl), c });
    } catch {
      bad++;
    }
  }
  if (bad) warnings.push(`SBOM ${name}: ${bad} package(s) with an unreadable purl were skipped`);
  let os = osComponent;
  if (!os) {
    for (const { p } of parsed) {
      const distro = p.qualifiers?.distro;
      if (distro && OS_TYPES.has(p.type as PackageType)) {
        os = osFromDistro(distro);
        if (os) break;
      }
    }
  }
  const packages: Package[] = [];
  for (const { p, c } of parsed) {
    if (!p.version) continue; // a package without a version cannot be matched or reported as installed
    const pkg = packageOf(p, c, os);
    packages.push(pkg);
  }
  const noVersion = parsed.length - packages.length;
  if (noVersion) warnings.push(`SBOM ${name}: ${noVersion} package(s) without a version were skipped`);
  packages.sort(
    (a, b) =>
      cmp(a.type, b.type) ||
      cmp(a.namespace ?? '', b.namespace ?? '') ||
      cmp(a.name, b.name) ||
      cmp(a.version, b.version) ||
      cmp(a.path, b.path),
  );
  return {
    target: `sbom:${name}`,
    sourceKind,
    names: meta.names,
    ...(meta.digest ? { digest: meta.digest } : {}),
    ...(os ? { os } : {}),
    layers: meta.layers.map((digest) => ({ digest })),
    packages,
    warnings,
  };
}

function packageOf(p: PackageURL, c: Candidate, os: OsInfo | undefined): Package {
  const type: PackageType = KNOWN_TYPES.has(p.type as PackageType) ? (p.type as PackageType) : 'generic';
  const q = p.qualifiers ?? {};
  const isOs = OS_TYPES.has(type);
  let version = p.version!;
  let epoch: number | undefined;
  if (q.epoch && /^\d+$/.test(q.epoch)) {
    // dpkg versions carry their epoch inline ("1:2.38.1-5"); rpm keeps it apart, as our analyzers do.
    if (type === 'deb' && !version.includes(':')) version = `${q.epoch}:${version}`;
    else if (type === 'rpm') epoch = Number(q.epoch);
  }
  const pkg: Package = {
    // A type we do not model keeps its purl type as ecosystem: it must never fall into the distro's ecosystem.
    ecosystem: type === 'generic' ? p.type : ecosystemOf(type, os),
    type,
    name: p.name,
    version,
    purl: c.purl,
    path: c.hints.path ?? '',
    analyzer: 'sbom',
  };
  // OS package purls use the distro id as namespace; the inventory keeps namespace for language packages only.
  if (p.namespace && !isOs) pkg.namespace = p.namespace;
  // The upstream qualifier is "name" or, as Syft writes it when the versions differ, "name@version".
  const [upName, upVersion] = isOs && q.upstream ? splitUpstream(q.upstream) : [undefined, undefined];
  const sourceName = c.hints.sourceName ?? upName;
  const sourceVersion = c.hints.sourceName ? c.hints.sourceVersion : upVersion;
  if (sourceName) {
    pkg.source = { name: sourceName, ...(sourceVersion ? { version: sourceVersion } : {}) };
  } else if (isOs && type !== 'rpm') {
    // dpkg and apk name the package itself as its source when no other is recorded (see dpkg.ts parseSource).
    pkg.source = { name: p.name, version };
  }
  if (epoch !== undefined) pkg.epoch = epoch;
  const arch = c.hints.arch ?? (isOs ? q.arch : undefined);
  if (arch) pkg.arch = arch;
  if (c.hints.licenses?.length) pkg.licenses = c.hints.licenses;
  if (c.hints.dev) pkg.dev = true;
  if (c.hints.layer) pkg.layer = c.hints.layer;
  if (c.hints.ownedBy) pkg.ownedBy = c.hints.ownedBy;
  return pkg;
}

function splitUpstream(upstream: string): [string, string | undefined] {
  const at = upstream.indexOf('@');
  return at > 0 ? [upstream.slice(0, at), upstream.slice(at + 1) || undefined] : [upstream, undefined];
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- CycloneDX ----

function propertiesOf(c: Json): Map<string, string> {
  const m = new Map<string, string>();
  for (const p of arrayOf(c.properties)) {
    const n = str(p.name);
    const v = typeof p.value === 'string' ? p.value : undefined;
    if (n && v !== undefined && !m.has(n)) m.set(n, v);
  }
  return m;
}

function cdxLicenses(c: Json): string[] {
  const out: string[] = [];
  for (const l of arrayOf(c.licenses)) {
    const expr = str(l.expression);
    if (expr) out.push(expr);
    const lic = isObject(l.license) ? l.license : undefined;
    const v = lic ? (str(lic.id) ?? str(lic.name)) : undefined;
    if (v) out.push(v);
  }
  return out;
}

/** Trivy splits a source version into epoch, version and release. */
function trivySourceVersion(props: Map<string, string>): string | undefined {
  const v = props.get('aquasecurity:trivy:SrcVersion');
  if (!v) return undefined;
  const rel = props.get('aquasecurity:trivy:SrcRelease');
  const epoch = props.get('aquasecurity:trivy:SrcEpoch');
  return `${epoch && epoch !== '0' ? `${epoch}:` : ''}${v}${rel ? `-${rel}` : ''}`;
}

function cdxHints(c: Json): Hints {
  const props = propertiesOf(c);
  const hints: Hints = {};
  hints.path = props.get('palisade:package:path') ?? props.get('aquasecurity:trivy:FilePath');
  // Trivy records the layer by digest when it knows it, else by diff id (uncompressed digest).
  hints.layer =
    props.get('palisade:layer:digest') ??
    props.get('aquasecurity:trivy:LayerDigest') ??
    props.get('aquasecurity:trivy:LayerDiffID');
  hints.sourceName = props.get('palisade:package:source-name') ?? props.get('aquasecurity:trivy:SrcName');
  hints.sourceVersion = props.get('palisade:package:source-version') ?? trivySourceVersion(props);
  hints.arch = props.get('palisade:package:arch');
  hints.dev = props.get('palisade:package:dev') === 'true';
  hints.ownedBy = props.get('palisade:package:owned-by');
  hints.licenses = cdxLicenses(c);
  for (const k of Object.keys(hints) as (keyof Hints)[]) if (hints[k] === undefined) delete hints[k];
  return hints;
}

function fromCycloneDx(doc: Json, name: string): ImageInventory {
  const candidates: Candidate[] = [];
  let os: OsInfo | undefined;
  const metadata = isObject(doc.metadata) ? doc.metadata : {};
  const main = isObject(metadata.component) ? metadata.component : undefined;
  const mainProps = main ? propertiesOf(main) : new Map<string, string>();
  const layers: string[] = [];
  if (main) {
    for (const p of arrayOf(main.properties))
      if (p.name === 'palisade:image:layer' && str(p.value)) layers.push(String(p.value));
  }
  const visit = (list: unknown, depth: number): void => {
    if (depth > MAX_DEPTH) throw new UserInputError(`SBOM ${name}: components nested deeper than ${MAX_DEPTH}`);
    for (const c of arrayOf(list)) {
      if (c.type === 'operating-system' && !os) {
        const family = str(c.name);
        const version = str(c.version);
        if (family && version) {
          os = { family: family.toLowerCase(), version };
          const description = str(c.description);
          if (description) os.prettyName = description;
        }
      }
      const purl = str(c.purl);
      if (purl) candidates.push({ purl, hints: cdxHints(c) });
      visit(c.components, depth + 1);
    }
  };
  visit(doc.components, 0);
  const imageName = main ? str(main.name) : undefined;
  const version = main ? str(main.version) : undefined;
  return buildInventory(name, 'sbom-cyclonedx', candidates, os, {
    names: imageName ? [imageName] : [],
    // Our own SBOM puts the image digest in the container component's version.
    ...(version?.startsWith('sha256:') ? { digest: version } : {}),
    layers: layers.length ? layers : (mainProps.get('aquasecurity:trivy:DiffID')?.split(',') ?? []),
  });
}

// ---- SPDX ----

/** Our writer says "built from NAME VERSION", Trivy "built package from: NAME VERSION". */
function spdxSource(info: string | undefined): { name?: string; version?: string } {
  if (!info) return {};
  const m = /^built (?:package )?from:?\s+(\S+)(?:\s+(\S+))?\s*$/.exec(info);
  return m ? { name: m[1], version: m[2] } : {};
}

function spdxComment(comment: string | undefined): { path?: string; layer?: string } {
  if (!comment) return {};
  const path = /(?:^|;\s*)path: ([^;]+)/.exec(comment)?.[1]?.trim();
  const layer = /(?:^|;\s*)layer: ([^;\s]+)/.exec(comment)?.[1];
  return { ...(path ? { path } : {}), ...(layer ? { layer } : {}) };
}

/** Trivy writes "LayerDiffID: sha256:…" and "FilePath: …" as attribution texts. */
function spdxAttributions(texts: unknown): { path?: string; layer?: string } {
  const out: { path?: string; layer?: string } = {};
  if (!Array.isArray(texts)) return out;
  for (const t of texts) {
    if (typeof t !== 'string') continue;
    const m = /^(LayerDigest|LayerDiffID|FilePath): (\S.*)$/.exec(t);
    if (!m) continue;
    if (m[1] === 'FilePath') out.path ??= m[2];
    else if (m[1] === 'LayerDigest' || !out.layer) out.layer = m[2];
  }
  return out;
}

function fromSpdx(doc: Json, name: string): ImageInventory {
  const candidates: Candidate[] = [];
  let os: OsInfo | undefined;
  let container: Json | undefined;
  for (const p of arrayOf(doc.packages)) {
    // The SPDX 2.3 schema spells it OPERATING_SYSTEM; Trivy writes OPERATING-SYSTEM.
    const purpose = typeof p.primaryPackagePurpose === 'string' ? p.primaryPackagePurpose.replace('-', '_') : '';
    if (purpose === 'OPERATING_SYSTEM') {
      if (os) continue;
      const family = str(p.name);
      const version = str(p.versionInfo);
      if (family && version) os = { family: family.toLowerCase(), version };
      continue;
    }
    if (purpose === 'CONTAINER' && !container) container = p;
    const ref = arrayOf(p.externalRefs).find(
      (r) =>
        (r.referenceCategory === 'PACKAGE-MANAGER' || r.referenceCategory === 'PACKAGE_MANAGER') &&
        r.referenceType === 'purl',
    );
    const purl = ref ? str(ref.referenceLocator) : undefined;
    if (!purl) continue;
    const src = spdxSource(str(p.sourceInfo));
    const where = { ...spdxAttributions(p.attributionTexts), ...spdxComment(str(p.comment)) };
    const declared = str(p.licenseDeclared);
    const hints: Hints = { ...where };
    if (src.name) hints.sourceName = src.name;
    if (src.version) hints.sourceVersion = src.version;
    if (declared && declared !== 'NOASSERTION' && declared !== 'NONE') hints.licenses = [declared];
    candidates.push({ purl, hints });
  }
  const imageName = container ? str(container.name) : str(doc.name);
  const version = container ? str(container.versionInfo) : undefined;
  return buildInventory(name, 'sbom-spdx', candidates, os, {
    names: imageName ? [imageName] : [],
    ...(version?.startsWith('sha256:') ? { digest: version } : {}),
    layers: [],
  });
}
