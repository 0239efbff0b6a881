import type { FoundPackage, OsInfo } from '../core/types.js';

/** What the walker hands an analyzer: one file's bytes (bounded by Limits.maxFileBytes). */
export interface FileInput {
  /** Normalised path inside the image, no leading slash: "var/lib/dpkg/status". */
  path: string;
  mode: number;
  size: number;
  content: Buffer;
  /** True when the file was longer than the bytes given. */
  truncated: boolean;
}

export interface AnalyzerResult {
  packages?: FoundPackage[];
  os?: OsInfo;
  /**
   * Files owned by OS packages, keyed by "<type>/<name>" (e.g. "deb/python3-yaml"). Lets the
   * merge step mark language packages whose files an OS package installed (dpkg info/*.list).
   */
  ownedFiles?: Record<string, string[]>;
  /** Non-fatal problems (a malformed record that was skipped), shown as warnings. */
  warnings?: string[];
}

/**
 * One file format (STYLE.md §1). Adding a format = one new file + one line in `analyzers` in ./index.ts.
 * `wants` is called for every entry of every layer: keep it cheap (string tests only, no I/O, no regex
 * compilation per call).
 */
export interface Analyzer {
  readonly name: string;
  /** Bump when the output for the same input changes (cache key). */
  readonly version: number;
  wants(path: string, mode: number, size: number): boolean;
  analyze(file: FileInput): AnalyzerResult | Promise<AnalyzerResult>;
}
