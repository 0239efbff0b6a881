import { apk } from './apk.js';
import { dpkg } from './dpkg.js';
import { go } from './go.js';
import { maven } from './maven.js';
import { mavenSpec } from './maven-spec.js';
import { npm } from './npm.js';
import { cran, hackage } from './numeric.js';
import { packagist } from './packagist.js';
import { pep440 } from './pep440.js';
import { rpm } from './rpm.js';
import { rubygems } from './rubygems.js';
import { nuget, pub, semver } from './semver.js';
import type { Comparator } from './types.js';

export { apk, apkVersionMatch } from './apk.js';
export { checkDpkgVersion, dpkg } from './dpkg.js';
export { go, isGoPseudoVersion } from './go.js';
export { maven, mavenCanonical } from './maven.js';
export { mavenSpec } from './maven-spec.js';
export { npm, npmGtr, npmLtr, npmSatisfies, npmValidRange } from './npm.js';
export { cran, hackage } from './numeric.js';
export { packagist } from './packagist.js';
export {
  normalizePep440,
  parsePep440,
  parseSpecifier,
  parseSpecifierSet,
  pep440,
  specifierContains,
  specifierFilter,
  specifierSetContains,
  specifierSetFilter,
} from './pep440.js';
export { rpm, rpmvercmp } from './rpm.js';
export { isGemVersion, rubygems } from './rubygems.js';
export { nuget, pub, semver } from './semver.js';
export type { Cmp, Comparator } from './types.js';

/**
 * OSV ecosystem name (before any `:release` suffix, compared case-insensitively) -> comparator.
 * Maven uses the POM specification's order, as OSV does for its advisories (see maven-spec.ts).
 */
const BY_ECOSYSTEM: ReadonlyMap<string, Comparator> = new Map<string, Comparator>(
  (
    [
      ['Debian', dpkg],
      ['Ubuntu', dpkg],
      ['Alpine', apk],
      ['Alpaquita', apk],
      ['BellSoft Hardened Containers', apk],
      ['Chainguard', apk],
      ['MinimOS', apk],
      ['Wolfi', apk],
      ['AlmaLinux', rpm],
      ['Azure Linux', rpm],
      ['Mageia', rpm],
      ['openEuler', rpm],
      ['openSUSE', rpm],
      ['Photon OS', rpm],
      ['Red Hat', rpm],
      ['Rocky Linux', rpm],
      ['SUSE', rpm],
      ['npm', npm],
      ['crates.io', semver],
      ['Hex', semver],
      ['Bitnami', semver],
      ['SwiftURL', semver],
      ['Go', go],
      ['NuGet', nuget],
      ['Pub', pub],
      ['PyPI', pep440],
      ['Maven', mavenSpec],
      ['RubyGems', rubygems],
      ['Packagist', packagist],
      ['CRAN', cran],
      ['Bioconductor', cran],
      ['Hackage', hackage],
      ['GHC', hackage],
    ] as const
  ).map(([name, c]) => [name.toLowerCase(), c as Comparator]),
);

/** The ecosystem without its release suffix: `Debian:12` -> `Debian`, `Ubuntu:22.04:LTS` -> `Ubuntu`. */
export function baseEcosystem(ecosystem: string): string {
  const i = ecosystem.indexOf(':');
  return (i >= 0 ? ecosystem.slice(0, i) : ecosystem).trim();
}

/** The comparator for an OSV ecosystem name, or undefined when we do not know its scheme. */
export function comparatorFor(ecosystem: string): Comparator | undefined {
  return BY_ECOSYSTEM.get(baseEcosystem(ecosystem).toLowerCase());
}

/** Every comparator, by scheme name (for benchmarks and tests). */
export const comparators: readonly Comparator[] = [
  dpkg,
  apk,
  rpm,
  npm,
  semver,
  go,
  nuget,
  pub,
  pep440,
  maven,
  mavenSpec,
  rubygems,
  packagist,
  cran,
  hackage,
];
