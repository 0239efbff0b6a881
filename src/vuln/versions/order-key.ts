/**
 * Order keys: for the plainest spellings of a scheme (dotted numbers, `1.02.0`), a string whose
 * code-unit order is the scheme's order, equal exactly when the versions compare equal. They let
 * an advisory's ranges be written down at import in a form a matcher checks with string
 * comparisons alone (see prefilter.ts), and a version be found in a long `versions` list without
 * parsing every entry. Null for every other spelling: the caller then parses.
 *
 * Each number is its digits without leading zeros behind one length character (`A` for one
 * digit, `B` for two ...), so a longer number sorts higher; a version that is a prefix of another
 * sorts first. Where schemes differ is trailing zeros: PEP 440, Maven and RubyGems pad releases
 * with zeros (`1.0` = `1`); the SemVer-like schemes (npm, crates.io, Go, NuGet, Pub) read up to
 * three numbers padded with zeros (`1.2` = `1.2.0`); Composer, CRAN and Hackage count every
 * component (`1.0` > `1`). dpkg carries a key of its own for every version Debian allows
 * (versions/dpkg.ts: epochs, revisions, `~`, letters). Which reading a comparator carries is
 * checked against the comparator itself (test/vuln/versions/order-key.test.ts); apk and rpm carry
 * none.
 */
export type OrderKey = (version: string) => string | null;

const DOTTED = /^\d+(?:\.\d+)*$/;
/** Numbers longer than this get no key (the length character stays a letter, A-h: never a summary separator). */
export const MAX_DIGITS = 40;
const MAX_COMPONENTS = 32;

function numbers(v: string): string[] | null {
  if (v.length > 256 || !DOTTED.test(v)) return null;
  const parts = v.split('.');
  if (parts.length > MAX_COMPONENTS) return null;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    let z = 0;
    while (z < p.length - 1 && p.charCodeAt(z) === 48) z++;
    const n = z === 0 ? p : p.slice(z);
    if (n.length > MAX_DIGITS) return null;
    parts[i] = n;
  }
  return parts;
}

/** A number's digits (no leading zeros) behind one character for their count, so longer sorts higher. */
export function numberKey(digits: string): string {
  return String.fromCharCode(64 + digits.length) + digits;
}

function encode(parts: readonly string[]): string {
  let out = '';
  for (const n of parts) out += numberKey(n);
  return out;
}

/** Trailing zeros do not count (`1.0` = `1`). */
const padded: OrderKey = (v) => {
  const parts = numbers(v);
  if (!parts) return null;
  while (parts.length > 1 && parts[parts.length - 1] === '0') parts.pop();
  return encode(parts);
};

/** Every component counts (`1.0` > `1`), as in dpkg. */
const exact: OrderKey = (v) => {
  const parts = numbers(v);
  return parts ? encode(parts) : null;
};

/** SemVer-like: at most three numbers, missing ones are zero (more make a pre-release tail). */
const semverLike: OrderKey = (v) => {
  const parts = numbers(v);
  if (!parts || parts.length > 3) return null;
  while (parts.length > 1 && parts[parts.length - 1] === '0') parts.pop();
  return encode(parts);
};

/** The three readings above, for the comparators to carry (`Comparator.orderKey`). */
export const orderKeys = { padded, exact, semverLike } as const;
