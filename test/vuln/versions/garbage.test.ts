import { describe, expect, it } from 'vitest';
import { comparators } from '../../../src/vuln/versions/index.js';

/** A small deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = '0123456789012345.....--__~~^+:abcdefghprvxzABRC !é\u0000';

function randomVersion(next: () => number): string {
  const n = Math.floor(next() * 14);
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(next() * ALPHABET.length)];
  return s;
}

describe('comparators on arbitrary input', () => {
  it.each(comparators.map((c) => [c.name, c] as const))(
    '%s never throws from parse/valid and orders what it parses antisymmetrically',
    (_name, c) => {
      const next = rng(0x5eed);
      const parsed: string[] = [];
      for (let i = 0; i < 3000; i++) {
        const v = randomVersion(next);
        expect(() => c.parse(v)).not.toThrow();
        expect(typeof c.valid(v)).toBe('boolean');
        if (c.parse(v) !== null) parsed.push(v);
      }
      for (let i = 1; i < parsed.length; i++) {
        const a = parsed[i - 1]!;
        const b = parsed[i]!;
        expect(c.compare(a, a), a).toBe(0);
        expect(c.compare(a, b), `${a} vs ${b}`).toBe(-c.compare(b, a) || 0);
      }
    },
  );
});
