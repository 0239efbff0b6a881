import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePurl } from '../../../src/vuln/suppress/purl.js';

/**
 * The purl-spec test suite (test/fixtures/vuln/suppress/purl-spec, see PROVENANCE.md): every `parse` vector of
 * the core specification and of the package types Palisade reads, run through `parsePurl`.
 */
interface Vector {
  description: string;
  test_type: string;
  input: string;
  expected_output: {
    type: string;
    namespace: string | null;
    name: string;
    version: string | null;
    qualifiers: Record<string, string> | null;
  } | null;
  expected_failure: boolean;
  expected_message?: string | null;
}

const dir = new URL('../../fixtures/vuln/suppress/purl-spec/', import.meta.url);
const files = ['specification-test.json', ...readdirSync(new URL('types/', dir)).map((f) => `types/${f}`)];
const vectors = files.flatMap((f) =>
  (JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as { tests: Vector[] }).tests
    .filter((t) => t.test_type === 'parse')
    .map((t) => ({ ...t, file: f })),
);

describe('purl-spec parse vectors', () => {
  it('covers the core spec and 13 package types', () => {
    expect(files).toHaveLength(14);
    expect(vectors.length).toBe(72);
  });

  it.each(vectors)('$file: $description ($input)', (t) => {
    const got = parsePurl(t.input);
    if (t.expected_failure && /qualifier key.*lowercase/i.test(t.expected_message ?? '')) {
      // The suite contradicts itself: maven's required vector parses "repositorY_url", rpm's and gem's refuse
      // "Arch"/"Platform". We follow the specification text (keys are case-insensitive, canonically lower case).
      expect(got).toBeDefined();
      expect(Object.keys(got!.qualifiers).every((k) => k === k.toLowerCase())).toBe(true);
      expect(Object.keys(got!.qualifiers).length).toBeGreaterThan(0);
      return;
    }
    if (t.expected_failure) {
      expect(got).toBeUndefined();
      return;
    }
    const want = t.expected_output!;
    // parsePurl folds a Debian epoch qualifier into the version (see purl.ts); apply the same to the expectation.
    const q = { ...(want.qualifiers ?? {}) };
    let version = want.version ?? undefined;
    if (want.type === 'deb' && q.epoch !== undefined) {
      if (version && q.epoch !== '0') version = `${q.epoch}:${version}`;
      delete q.epoch;
    }
    expect({
      type: got?.type,
      namespace: got?.namespace,
      name: got?.name,
      version: got?.version,
      qualifiers: got?.qualifiers,
    }).toEqual({
      type: want.type,
      namespace: want.namespace ?? undefined,
      name: want.name,
      version,
      qualifiers: q,
    });
  });
});
