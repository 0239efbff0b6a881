import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Package } from '../../../src/core/types.js';
import { matchAffected } from '../../../src/vuln/affected.js';
import { importInputs } from '../../../src/vuln/db/index.js';
import { matchPackages, openVulnDb, type VulnDb } from '../../../src/vuln/index.js';
import { type Json, readJsonFiles, tempDir } from '../db/helpers.js';

const FIX = new URL('../../fixtures/vuln/db/', import.meta.url).pathname;
const TYPES: Record<string, Package['type']> = { npm: 'npm', PyPI: 'pypi', Debian: 'deb' };

/** The same DB with its summaries unused: every record goes through the evaluator and `recordSeverity`. */
function withoutSummaries(db: VulnDb): VulnDb {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'candidates')
        return (ecosystem: string, name: string) =>
          target.candidates(ecosystem, name).map((c) => ({
            id: c.id,
            get affected() {
              return c.affected;
            },
            full: () => c.full(),
            head: () => c.head(),
            assess: () => undefined,
          }));
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/**
 * End to end through a real DB: the records the import-time summaries rule out are exactly records
 * the evaluator would not have reported, and the hits they answer are the findings the evaluator
 * gives, fixed version, severity and CVSS included. One reference evaluates every record `lookup`
 * returns; the other is the matcher itself with the summaries unused.
 */
describe('matcher: the prefilter changes no finding', () => {
  let db: string;
  const packages: Package[] = [];

  beforeAll(async () => {
    db = join(await tempDir(), 'v.db');
    await importInputs(
      db,
      ['ghsa-npm', 'pypa', 'debian-osv'].map((d) => FIX + d),
    );
    const seen = new Set<string>();
    for (const d of ['ghsa-npm', 'pypa', 'debian-osv'])
      for (const { data } of await readJsonFiles(FIX + d))
        for (const a of (data.affected ?? []) as Json[]) {
          const ecosystem = a.package?.ecosystem as string | undefined;
          const type = ecosystem ? TYPES[ecosystem.split(':')[0]!] : undefined;
          if (!ecosystem || !type) continue;
          const events = (a.ranges ?? []).flatMap((r: Json) => r.events ?? []).flatMap((e: Json) => Object.values(e));
          // Each version an advisory names, and one just above it: in, out and on the edges of ranges.
          for (const v of [...events, ...(a.versions ?? [])] as string[])
            for (const version of [v, v.replace(/(\d+)$/, (n) => String(Number(n) + 1))]) {
              const k = `${ecosystem}\0${a.package.name}\0${version}`;
              if (version === '0' || seen.has(k)) continue;
              seen.add(k);
              packages.push({
                type,
                ecosystem,
                name: a.package.name,
                version,
                purl: `pkg:generic/${a.package.name}@${version}`,
                path: 'x',
                analyzer: 'test',
              });
            }
        }
  });

  it('reports exactly the records the full evaluator reports, while ruling many out unread', () => {
    const h = openVulnDb(db);
    try {
      const { findings, stats } = matchPackages(packages, h);
      expect(stats.prefiltered).toBeGreaterThan(50);
      expect(stats.candidates).toBeGreaterThan(stats.prefiltered);
      const got = new Set<string>();
      for (const f of findings)
        for (const id of [f.id, ...((f.aliases as string[] | undefined) ?? [])])
          got.add(`${f.ecosystem}\0${f.package}\0${f.installedVersion}\0${id}`);
      let want = 0;
      for (const p of packages)
        for (const c of h.lookup(p.ecosystem, p.name)) {
          const hit = matchAffected(c.affected, { ecosystem: p.ecosystem, name: p.name, version: p.version });
          const k = `${p.ecosystem}\0${p.name}\0${p.version}\0${c.id}`;
          expect(got.has(k), k).toBe(hit !== null);
          if (hit) want++;
        }
      expect(want).toBeGreaterThan(100);
    } finally {
      h.close();
    }
  });

  it('answers hits from the summaries exactly as the evaluator does, finding for finding', () => {
    const h = openVulnDb(db);
    try {
      const fast = matchPackages(packages, h);
      const slow = matchPackages(packages, withoutSummaries(h));
      expect(slow.stats.summarized).toBe(0);
      expect(fast.stats.summarized).toBeGreaterThan(100);
      expect(fast.findings.filter((f) => f.cvss).length).toBeGreaterThan(50);
      expect(fast.findings.filter((f) => f.fixedVersion).length).toBeGreaterThan(50);
      expect(fast.findings).toEqual(slow.findings);
    } finally {
      h.close();
    }
  });
});
