import { LimitExceededError, UserInputError } from '../core/errors.js';
import type { FileInput } from './analyzer.js';

/** Small helpers shared by the OS package-database analyzers (dpkg, apk, rpm, os-release). */

/**
 * A package database cut short by the per-file limit would silently drop packages, and a scanner that
 * misses packages misses vulnerabilities: refuse instead of guessing.
 */
export function requireWhole(file: FileInput): void {
  if (file.truncated) {
    throw new LimitExceededError(
      `${file.path}: file is larger than the per-file read limit (${file.content.length} of ${file.size} bytes read); raise the limit to inventory it`,
    );
  }
}

/** Text databases (dpkg status, apk installed) never contain NUL bytes; a file that does is not one. */
export function requireText(file: FileInput, what: string): string {
  if (file.content.includes(0)) throw new UserInputError(`${file.path}: not a ${what}: contains binary data`);
  return file.content.toString('utf8');
}

/**
 * A package's file path as entry paths are normalised: no leading slash, no "." or empty segments.
 * Returns undefined for the root itself and for paths that climb out of the root ("..").
 */
export function normaliseOwnedPath(p: string): string | undefined {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') return undefined;
    parts.push(seg);
  }
  return parts.length > 0 ? parts.join('/') : undefined;
}

/** Collects warnings but keeps only the first few: a hostile file must not turn into a huge warning list. */
export class Warnings {
  private readonly list: string[] = [];
  private dropped = 0;
  constructor(private readonly max = 20) {}
  add(message: string): void {
    if (this.list.length < this.max) this.list.push(message);
    else this.dropped++;
  }
  result(): string[] | undefined {
    if (this.list.length === 0) return undefined;
    return this.dropped > 0 ? [...this.list, `... and ${this.dropped} more warnings`] : [...this.list];
  }
}
