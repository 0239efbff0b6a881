import nodeSemver from 'semver';
import { orderKeys } from './order-key.js';
import { compareSemverLike, parseSemverLike, type SemverLike } from './semver.js';
import { makeComparator } from './util.js';

const PLAIN = /^(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)$/;

/**
 * npm versions. Ordering is SemVer 2 precedence over the lenient reading OSV uses (advisories
 * carry strings like `2.0.0rc2` or `0.0.0.1` that node-semver rejects); strings node-semver
 * accepts in loose mode (`=1.2.3`, `v 1.2.3`, `1.2.3beta`) are first normalised by it, so npm's
 * own spellings compare as npm compares them. Ranges are npm's: node-semver is the reference
 * implementation and we use it as is.
 */
function parseNpm(v: string): SemverLike | null {
  // Plain `X.Y.Z` (most versions) is what node-semver would give back unchanged, or reject only
  // for numbers too big for it, which then reach the same lenient parse: skip it.
  if (PLAIN.test(v)) return parseSemverLike(v, 3);
  const clean = nodeSemver.valid(v, { loose: true });
  return parseSemverLike(clean ?? v.trim(), 3);
}

export const npm = makeComparator<SemverLike>('npm', parseNpm, compareSemverLike, undefined, orderKeys.semverLike);

export type NpmRangeOptions = { loose?: boolean; includePrerelease?: boolean };

/** npm range membership (`^1.2.3 || >=2.0.0-rc.1 <3`); an invalid range matches nothing. */
export function npmSatisfies(version: string, range: string, options: NpmRangeOptions = {}): boolean {
  return nodeSemver.satisfies(version, range, options);
}
/** True when the version is above every version the range allows. */
export function npmGtr(version: string, range: string, options: NpmRangeOptions = {}): boolean {
  return nodeSemver.gtr(version, range, options);
}
/** True when the version is below every version the range allows. */
export function npmLtr(version: string, range: string, options: NpmRangeOptions = {}): boolean {
  return nodeSemver.ltr(version, range, options);
}
/** The canonical form of a range, or null when it is not one. */
export function npmValidRange(range: string, options: NpmRangeOptions = {}): string | null {
  return nodeSemver.validRange(range, options);
}
/** node-semver itself, for callers that need the rest of its API. */
export { nodeSemver };
