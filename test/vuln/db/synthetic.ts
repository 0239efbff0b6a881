/**
 * Realistic synthetic OSV records for load tests and the benchmark: the ecosystem mix, range
 * shapes, alias sets and sizes of real feeds (GHSA, PyPA, Debian, Alpine, Go, Maven), generated
 * deterministically from a seed.
 */

import { prng } from '../../helpers/prng.js';

const ECOSYSTEMS: Array<{ eco: string; weight: number; prefix: string; releases?: string[] }> = [
  { eco: 'npm', weight: 18, prefix: 'GHSA' },
  { eco: 'PyPI', weight: 12, prefix: 'PYSEC' },
  { eco: 'Maven', weight: 10, prefix: 'GHSA' },
  { eco: 'Go', weight: 8, prefix: 'GO' },
  { eco: 'Debian', weight: 22, prefix: 'DEBIAN-CVE', releases: ['10', '11', '12', '13'] },
  { eco: 'Ubuntu', weight: 14, prefix: 'UBUNTU-CVE', releases: ['20.04:LTS', '22.04:LTS', '24.04:LTS'] },
  { eco: 'Alpine', weight: 8, prefix: 'ALPINE-CVE', releases: ['v3.18', 'v3.19', 'v3.20'] },
  { eco: 'crates.io', weight: 3, prefix: 'RUSTSEC' },
  { eco: 'RubyGems', weight: 3, prefix: 'GHSA' },
  { eco: 'Packagist', weight: 2, prefix: 'GHSA' },
];
const TOTAL_WEIGHT = ECOSYSTEMS.reduce((s, e) => s + e.weight, 0);
const WORDS = 'lib core http json xml yaml auth crypto parse util net server client data image zip log test web'.split(
  ' ',
);

export interface Synthetic {
  id: string;
  [k: string]: unknown;
}

/** Package names are drawn from a pool so that popular packages collect many advisories, as in real data. */
export function packageName(eco: string, i: number): string {
  const w = WORDS[i % WORDS.length]!;
  const v = WORDS[Math.floor(i / WORDS.length) % WORDS.length]!;
  const n = Math.floor(i / (WORDS.length * WORDS.length));
  if (eco === 'Maven') return `org.${w}:${v}-${n}`;
  if (eco === 'Go') return `github.com/${w}/${v}${n}`;
  return `${w}-${v}${n ? `-${n}` : ''}`;
}

export function* syntheticRecords(count: number, seed = 1, packagesPerEcosystem = 20_000): Generator<Synthetic> {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const ver = () => `${Math.floor(r() * 10)}.${Math.floor(r() * 20)}.${Math.floor(r() * 30)}`;
  for (let i = 0; i < count; i++) {
    let x = r() * TOTAL_WEIGHT;
    let e = ECOSYSTEMS[0]!;
    for (const k of ECOSYSTEMS) {
      e = k;
      x -= k.weight;
      if (x < 0) break;
    }
    const year = 2015 + Math.floor(r() * 11);
    const cve = `CVE-${year}-${10000 + i}`;
    const id =
      e.prefix === 'GHSA' ? `GHSA-${i.toString(36).padStart(4, '0')}-synt-${seed}` : `${e.prefix}-${year}-${i}`;
    // Zipf-like skew: low package indices are hit far more often.
    const pkg = packageName(e.eco, Math.floor(packagesPerEcosystem * r() ** 3));
    const affected = [];
    const releases = e.releases ? e.releases.filter(() => r() < 0.6) : [undefined];
    for (const rel of releases.length ? releases : [e.releases![0]]) {
      const events: Array<Record<string, string>> = [{ introduced: r() < 0.5 ? '0' : ver() }];
      const roll = r();
      if (roll < 0.75) events.push({ fixed: ver() });
      else if (roll < 0.85) events.push({ last_affected: ver() });
      const entry: Record<string, unknown> = {
        package: { ecosystem: rel ? `${e.eco}:${rel}` : e.eco, name: pkg, purl: `pkg:generic/${pkg}` },
        ranges: [{ type: e.eco === 'Go' || e.eco === 'crates.io' ? 'SEMVER' : 'ECOSYSTEM', events }],
      };
      // PyPA and Debian records enumerate affected versions, which makes them large.
      if (e.eco === 'PyPI' || e.eco === 'Debian') entry.versions = Array.from({ length: Math.floor(r() * 40) }, ver);
      if (e.prefix === 'GHSA') entry.database_specific = { source: 'synthetic' };
      affected.push(entry);
    }
    const rec: Synthetic = {
      schema_version: '1.6.0',
      id,
      modified: new Date(Date.UTC(year, Math.floor(r() * 12), 1 + Math.floor(r() * 28))).toISOString(),
      published: new Date(Date.UTC(year, 0, 1)).toISOString(),
      aliases: e.prefix.startsWith('GHSA') || e.prefix === 'PYSEC' ? [cve] : [],
      upstream: e.releases ? [cve] : undefined,
      summary: `${pick(WORDS)} ${pick(WORDS)} vulnerability in ${pkg}`,
      details: `A ${pick(WORDS)} issue in ${pkg} allows attackers to ${pick(WORDS)} ${pick(WORDS)}. `.repeat(
        1 + Math.floor(r() * 8),
      ),
      severity: r() < 0.7 ? [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }] : undefined,
      affected,
      references: Array.from({ length: 1 + Math.floor(r() * 6) }, (_, k) => ({
        type: k === 0 ? 'ADVISORY' : 'WEB',
        url: `https://example.invalid/${id}/${k}`,
      })),
      database_specific: e.prefix === 'GHSA' ? { severity: pick(['LOW', 'MODERATE', 'HIGH', 'CRITICAL']) } : undefined,
    };
    if (r() < 0.01) rec.withdrawn = rec.modified;
    yield rec;
  }
}
