/** Shared domain types. `core` imports nothing else of ours. */

export const SEVERITIES = ['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** Operating system of the scanned filesystem, as read from os-release and friends. */
export interface OsInfo {
  /** Lower-case family: debian, ubuntu, alpine, rhel, centos, rocky, almalinux, fedora, amzn, opensuse-leap, sles, wolfi, chainguard, cbl-mariner, azurelinux, distroless ... */
  family: string;
  /** Version as the distro writes it: "12", "12.5", "3.19.1", "22.04", "9.3". */
  version: string;
  /** Human name, e.g. "Debian GNU/Linux 12 (bookworm)". */
  prettyName?: string;
  codename?: string;
}

/**
 * The package-URL type of a package (https://github.com/package-url/purl-spec).
 * The analyzer knows the type; the OSV ecosystem and the final purl depend on the OS
 * and are computed after all layers are merged.
 */
export type PackageType =
  | 'deb'
  | 'apk'
  | 'rpm'
  | 'npm'
  | 'pypi'
  | 'golang'
  | 'maven'
  | 'gem'
  | 'cargo'
  | 'composer'
  | 'nuget'
  | 'generic';

/** A package as one analyzer found it in one file. */
export interface FoundPackage {
  type: PackageType;
  /** purl namespace where the ecosystem has one: npm scope ("@babel"), maven groupId, golang module path prefix. */
  namespace?: string;
  name: string;
  version: string;
  /** The source package (dpkg `Source:`, apk `origin`, rpm source rpm name) and its version when it differs. */
  source?: { name: string; version?: string };
  /** rpm epoch, kept separately because OSV/rpm comparisons need it. */
  epoch?: number;
  arch?: string;
  licenses?: string[];
  /** A development-only dependency (npm devDependencies, poetry dev group, ...). */
  dev?: boolean;
  /** Files this (OS) package installed, normalised like entry paths. Used to let OS packages own language packages. */
  files?: string[];
  /** Which file inside the image recorded the package; set by the walker when missing. */
  path?: string;
}

/** A package as Palisade reports it: merged across layers, with ecosystem, purl and layer. */
export interface Package {
  /** OSV ecosystem: "Debian:12", "Alpine:v3.19", "npm", "PyPI", "Go", "Maven", ... */
  ecosystem: string;
  type: PackageType;
  namespace?: string;
  name: string;
  version: string;
  purl: string;
  source?: { name: string; version?: string };
  epoch?: number;
  arch?: string;
  licenses?: string[];
  dev?: boolean;
  /** Digest of the layer that introduced this package (the first layer where it appears unchanged). */
  layer?: string;
  /** File the package was read from, without a leading slash. */
  path: string;
  /** Name of the analyzer that found it. */
  analyzer: string;
  /** For language packages: the purl of the OS package that owns the files, if any. */
  ownedBy?: string;
}

/** The kinds of finding the scan stage produces. */
export type FindingKind = 'vulnerability' | 'malware' | 'secret' | 'misconfiguration' | 'not-scanned';

/** Every finding carries its NIST SP 800-190 risk id and PCI DSS v4 requirement ids (DESIGN.md, "Contracts"). */
export interface Finding {
  kind: FindingKind;
  id: string;
  severity: Severity;
  title: string;
  /** NIST SP 800-190 risk id, e.g. "3.1.1". */
  nist: string;
  /** PCI DSS v4 requirement ids, e.g. ["6.3.1", "6.3.3"]. */
  pci: string[];
  package?: string;
  ecosystem?: string;
  installedVersion?: string;
  fixedVersion?: string;
  path?: string;
  layer?: string;
  description?: string;
  [extra: string]: unknown;
}
