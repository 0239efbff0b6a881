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
}
