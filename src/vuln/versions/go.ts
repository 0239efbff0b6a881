import { orderKeys } from './order-key.js';
import { compareSemverLike, parseSemverLike, type SemverLike } from './semver.js';
import { makeComparator } from './util.js';

/**
 * Go module versions: SemVer with a leading `v` (optional in OSV data). Pseudo-versions
 * (`v0.0.0-20191109021931-daa7c04131f5`, `v1.2.4-0.20191109021931-daa7c04131f5`) are
 * pre-releases by construction, so SemVer precedence orders them correctly; `+incompatible`
 * is build metadata and does not count. Toolchain versions (`go1.21.5`) read as `1.21.5`.
 */
export const go = makeComparator<SemverLike>(
  'go',
  // The toolchain reports itself as `go1.21.5` / `go1.22rc1`; OSV's stdlib entries say `1.21.5`.
  (v) => parseSemverLike(v.trim().replace(/^go(?=\d)/, ''), 3),
  compareSemverLike,
  undefined,
  orderKeys.semverLike,
);

const PSEUDO_RE = /^v?\d+\.\d+\.\d+-(?:(?:0\.|.*\.0\.)?\d{14}-[0-9a-f]{12})(?:\+incompatible)?$/;

/** Whether the version is a Go pseudo-version (a commit, not a tagged release). */
export function isGoPseudoVersion(v: string): boolean {
  return PSEUDO_RE.test(v);
}
