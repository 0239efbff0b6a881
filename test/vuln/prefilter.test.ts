import { describe, expect, it } from 'vitest';
import { matchAffected, type OsvAffected, queryVersion } from '../../src/vuln/affected.js';
import { summarize, summaryAssess } from '../../src/vuln/prefilter.js';
import { comparatorFor } from '../../src/vuln/versions/index.js';
import { prng } from '../helpers/prng.js';
import { type Json, readJsonFiles } from './db/helpers.js';

const FIX = new URL('../fixtures/vuln/db/', import.meta.url).pathname;

/**
 * The prefilter may only ever say "not affected" where the evaluator says so too, and when it says
 * "affected" it gives the evaluator's fixed versions. For one package's entries (what a DB row holds)
 * the two must agree exactly whenever there is a summary: checked on real advisories and on random
 * ranges, lists and versions.
 */
/** Probes the bounds ruled out (each checked unaffected): a bound that never bounds proves nothing. */
let bounded = 0;

function agree(ecosystem: string, name: string, entries: OsvAffected[], versions: readonly string[]): number {
  const made = summarize(ecosystem, entries);
  if (made === null) return 0;
  const { text: summary, low, high } = made;
  const key = comparatorFor(ecosystem)!.orderKey!;
  let checked = 0;
  for (const version of versions) {
    const k = key(queryVersion({ ecosystem, name, version }));
    if (k === null) continue;
    const m = matchAffected(entries, { ecosystem, name, version });
    const fixed = summaryAssess(summary, k);
    if (JSON.stringify(fixed) !== JSON.stringify(m ? m.fixed : null))
      expect.fail(
        `${ecosystem} ${name} ${version}: summary ${summary} says ${JSON.stringify(fixed)}, evaluator ${JSON.stringify(m?.fixed ?? null)}`,
      );
    // The bounds the lookup index filters on may only ever rule out what the evaluator rules out.
    if ((high !== null && k >= high) || (low !== null && k < low)) {
      if (m !== null)
        expect.fail(`${ecosystem} ${name} ${version}: outside [${low}, ${high}) of ${summary}, yet affected`);
      bounded++;
    }
    checked++;
  }
  return checked;
}

/** Versions around the ones a record names: each, and one step below and above in its last number. */
function around(entries: OsvAffected[]): string[] {
  const out = new Set(['0', '0.0.1', '1.0.0', '999.0.0']);
  for (const a of entries) {
    const named = [
      ...(a.versions ?? []),
      ...(a.ranges ?? []).flatMap((r) => (r.events ?? []).flatMap((e) => Object.values(e) as string[])),
    ];
    for (const v of named) {
      out.add(v);
      const m = /^(.*?)(\d+)$/.exec(v);
      if (m) {
        out.add(`${m[1]}${Number(m[2]) + 1}`);
        if (Number(m[2]) > 0) out.add(`${m[1]}${Number(m[2]) - 1}`);
        out.add(`${v}.1`);
      }
    }
  }
  return [...out];
}

describe('prefilter summaries', () => {
  it('agree with the evaluator on the real GHSA, PyPA and Debian advisories', async () => {
    let checked = 0;
    let summarized = 0;
    for (const d of ['ghsa-npm', 'pypa', 'debian-osv'])
      for (const { data } of await readJsonFiles(FIX + d)) {
        const groups = new Map<string, OsvAffected[]>();
        for (const a of (data.affected ?? []) as Json[]) {
          if (!a.package) continue;
          const k = `${a.package.ecosystem}\0${a.package.name}`;
          groups.set(k, [...(groups.get(k) ?? []), a]);
        }
        for (const [k, entries] of groups) {
          const [eco, name] = k.split('\0') as [string, string];
          const n = agree(eco, name, entries, around(entries));
          if (n > 0) summarized++;
          checked += n;
        }
      }
    expect(summarized).toBeGreaterThan(20);
    expect(checked).toBeGreaterThan(500);
  });

  it('agree with the evaluator on random ranges, lists and versions, for every scheme with keys in the bench mix', () => {
    const rand = prng(11);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    const plain = () =>
      Array.from({ length: 1 + Math.floor(rand() * 4) }, () => pick(['0', '1', '2', '3', '10', '01', '00'])).join('.');
    let checked = 0;
    // Debian versions get keys with epochs, revisions, `~` and letters too: draw those as well.
    const debian = () =>
      `${pick(['', '', '1:'])}${plain()}${pick(['', '', '~rc1', 'a', '+dfsg'])}${pick(['', '-1', '-1+deb12u1', '-0ubuntu1', '-1~'])}`;
    for (const ecosystem of ['Debian:12', 'PyPI', 'npm', 'crates.io', 'Maven', 'RubyGems', 'Packagist', 'Go'])
      for (let i = 0; i < 150; i++) {
        const version = ecosystem === 'Debian:12' && i % 2 === 0 ? debian : plain;
        const ranges = Array.from({ length: 1 + Math.floor(rand() * 2) }, () => ({
          type: pick(['ECOSYSTEM', 'SEMVER', 'GIT']),
          events: Array.from({ length: 1 + Math.floor(rand() * 4) }, () => {
            const kind = pick(['introduced', 'introduced', 'fixed', 'fixed', 'last_affected', 'limit']);
            const v = kind === 'introduced' && rand() < 0.3 ? '0' : kind === 'limit' && rand() < 0.3 ? '*' : version();
            return { [kind]: v };
          }),
        }));
        const versions = rand() < 0.4 ? Array.from({ length: Math.floor(rand() * 4) }, version) : undefined;
        const entries: OsvAffected[] = [
          { package: { ecosystem, name: 'p' }, ranges, ...(versions ? { versions } : {}) },
        ];
        // Random versions, and the listed ones spelled another way (a version only a list names).
        const probes = [...Array.from({ length: 12 }, version), ...(versions ?? []).map((v) => `0${v}`)];
        checked += agree(ecosystem, 'p', entries, probes);
      }
    expect(checked).toBeGreaterThan(3000);
    expect(bounded).toBeGreaterThan(500);
  });

  it('finds a version only a list names, in any spelling the scheme calls equal', () => {
    for (const ecosystem of ['Debian:12', 'PyPI', 'npm']) {
      const entries: OsvAffected[] = [
        {
          package: { ecosystem, name: 'p' },
          ranges: [{ type: 'GIT', events: [{ introduced: '0' }] }],
          versions: ['1.0', '2.0.1'],
        },
      ];
      const summary = summarize(ecosystem, entries)!.text;
      const key = comparatorFor(ecosystem)!.orderKey!;
      expect(summaryAssess(summary, key('1.0')!)).toEqual([]);
      expect(summaryAssess(summary, key('01.00')!)).toEqual([]);
      expect(summaryAssess(summary, key('2.0.1')!)).toEqual([]);
      expect(summaryAssess(summary, key('3')!)).toBeNull();
      expect(agree(ecosystem, 'p', entries, ['1.0', '01.00', '1.0.0', '1', '2.0.1', '2.0.10', '3'])).toBe(7);
    }
  });

  it('gives each fixed version once, lowest first, equal spellings in the order the record has them', () => {
    for (const ecosystem of ['PyPI', 'Debian:12', 'npm']) {
      const range = (...events: object[]) => ({ type: 'ECOSYSTEM', events });
      const entries: OsvAffected[] = [
        {
          package: { ecosystem, name: 'p' },
          ranges: [range({ introduced: '0' }, { fixed: '2.0' }), range({ introduced: '1.0' }, { fixed: '2.0' })],
        },
        {
          package: { ecosystem, name: 'p' },
          ranges: [range({ introduced: '0' }, { fixed: '02.0' }), range({ introduced: '0' }, { fixed: '1.5' })],
        },
      ];
      const summary = summarize(ecosystem, entries)!.text;
      const k = comparatorFor(ecosystem)!.orderKey!('1.2')!;
      // dpkg orders 02.0 and 2.0 as equal too (numbers compare as numbers).
      expect(summaryAssess(summary, k)).toEqual(['1.5', '2.0', '02.0']);
      expect(agree(ecosystem, 'p', entries, ['1.2', '1.0', '1.5', '2.0', '0.1'])).toBe(5);
    }
  });

  it('writes no summary it could not make exact', () => {
    const entries = (v: string): OsvAffected[] => [
      {
        package: { ecosystem: 'npm', name: 'p' },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: v }] }],
      },
    ];
    expect(summarize('npm', entries('1.2.3'))).not.toBeNull();
    // A pre-release, a fourth number, or a scheme without order keys (apk): no summary, full evaluation.
    expect(summarize('npm', entries('1.2.3-rc.1'))).toBeNull();
    expect(summarize('npm', entries('1.2.3.4'))).toBeNull();
    expect(summarize('Alpine:v3.19', entries('1.2.3'))).toBeNull();
    expect(
      summarize('npm', [{ package: { ecosystem: 'npm', name: 'p' }, versions: ['1.0.0', '2.0.0-beta'] }]),
    ).toBeNull();
  });
});
