import { PackageURL } from 'packageurl-js';

/** A package URL reduced to what suppression compares. */
export interface Purl {
  type: string;
  namespace?: string;
  name: string;
  version?: string;
  qualifiers: Record<string, string>;
  /** `pkg:type/namespace/name`, normalised and encoded as the purl spec writes it. */
  base: string;
}

/**
 * Parses a purl (normalised by packageurl-js: type and, per type, name case), or returns undefined. A Debian
 * purl may carry its epoch as a qualifier (Trivy) or inline in the version (our scan); it is folded into the
 * version so both spellings compare equal. The subpath is dropped: it never names a different package.
 * Qualifier keys are case-insensitive (purl spec) and come back lower-cased.
 */
export function parsePurl(text: string): Purl | undefined {
  let p: PackageURL;
  try {
    p = PackageURL.fromString(text);
  } catch {
    return undefined;
  }
  const qualifiers: Record<string, string> = { ...(p.qualifiers ?? {}) };
  let version = p.version ?? undefined;
  if (p.type === 'deb' && qualifiers.epoch !== undefined) {
    if (version && !version.includes(':') && qualifiers.epoch !== '0') version = `${qualifiers.epoch}:${version}`;
    delete qualifiers.epoch;
  }
  const base = new PackageURL(p.type, p.namespace, p.name, undefined, undefined, undefined).toString();
  return {
    type: p.type,
    ...(p.namespace ? { namespace: p.namespace } : {}),
    name: p.name,
    ...(version ? { version } : {}),
    qualifiers,
    base,
  };
}

/**
 * Whether a statement's purl covers a package's purl: same type, namespace and name; the same version when the
 * statement names one; and every qualifier the statement gives present with the same value on the package.
 */
export function purlCovers(statement: Purl, pkg: Purl): boolean {
  if (statement.base !== pkg.base) return false;
  if (statement.version !== undefined && statement.version !== pkg.version) return false;
  for (const [k, v] of Object.entries(statement.qualifiers)) {
    if (pkg.qualifiers[k] !== v) return false;
  }
  return true;
}

/**
 * Prefix match without version, on whole path segments: `pkg:deb/debian` covers every Debian package and
 * `pkg:npm/lodash` covers lodash but not lodash.merge.
 */
export function purlPrefixCovers(prefix: Purl, pkg: Purl): boolean {
  return pkg.base === prefix.base || pkg.base.startsWith(`${prefix.base}/`);
}

/** The same purl naming another package of the same type and namespace (a distro's source package). */
export function renamed(purl: Purl, name: string, version: string | undefined): Purl | undefined {
  try {
    const base = new PackageURL(purl.type, purl.namespace, name, undefined, undefined, undefined).toString();
    const { upstream: _upstream, ...qualifiers } = purl.qualifiers;
    return { ...purl, name, base, qualifiers, ...(version ? { version } : { version: undefined }) };
  } catch {
    return undefined;
  }
}
