import { readFileSync } from 'node:fs';
import type { FileInput } from '../../../src/inventory/analyzer.js';

/** The OS inventory fixtures, copied from the peer conformance data (see test/fixtures/PROVENANCE.md). */
export const FIXTURES = new URL('../../fixtures/inventory/os/', import.meta.url);

export function fixtureBytes(rel: string): Buffer {
  return readFileSync(new URL(rel, FIXTURES));
}

export function fixtureJson<T = unknown>(rel: string): T {
  return JSON.parse(fixtureBytes(rel).toString('utf8')) as T;
}

/** What the walker would hand an analyzer for a whole regular file at `path` in the image. */
export function input(path: string, content: Buffer | string): FileInput {
  const buf = typeof content === 'string' ? Buffer.from(content) : content;
  return { path, mode: 0o100644, size: buf.length, content: buf, truncated: false };
}
