/** -1: a < b, 0: equal, 1: a > b. */
export type Cmp = -1 | 0 | 1;

/**
 * One version scheme (dpkg, apk, rpm, PEP 440, ...). `parse` never throws: a string the scheme
 * cannot read gives null. `compare` works on strings and parses through a bounded cache, so a
 * matcher comparing one installed version against many ranges parses each string once.
 */
export interface Comparator<P = unknown> {
  readonly name: string;
  parse(v: string): P | null;
  /** Orders two parsed versions. */
  compareParsed(a: P, b: P): Cmp;
  /** Orders two version strings; throws UserInputError when either is not a version of this scheme. */
  compare(a: string, b: string): Cmp;
  valid(v: string): boolean;
  /**
   * For the plainest spellings only (dotted numbers: `1.02.0`), a string whose code-unit order is
   * this scheme's order (equal exactly when the versions are); null for anything else. See
   * order-key.ts. Schemes without one leave it out.
   */
  orderKey?(v: string): string | null;
}
