import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserInputError } from '../../../src/core/errors.js';
import { importInputs, openVulnDb } from '../../../src/vuln/db/index.js';
import { comparatorFor } from '../../../src/vuln/versions/index.js';
import { FIX, type Json, readJsonFiles, tempDir } from './helpers.js';

/**
 * `candidates` is `lookup` parsed lazily; `prefetch` answers many lookups with one query per ecosystem; `lookup` must then give exactly what
 * it gives on a handle that never prefetched: same records, same order, same merged `affected`.
 */
describe('vulnerability DB: candidates and prefetch', () => {
  let db: string;
  const queries: Array<[string, string]> = [];

  beforeAll(async () => {
    const dir = await tempDir();
    db = join(dir, 'v.db');
    const dirs = ['ghsa-npm', 'pypa', 'debian-osv', 'alpine-secdb'].map((d) => FIX + d);
    await importInputs(db, dirs);
    const seen = new Set<string>();
    for (const d of ['ghsa-npm', 'pypa', 'debian-osv'])
      for (const { data } of await readJsonFiles(FIX + d))
        for (const x of (data.affected ?? []) as Json[]) {
          if (!x.package) continue;
          const eco = x.package.ecosystem as string;
          const name = x.package.name as string;
          // The record's own ecosystem, its family without the release, another release, and
          // (for PyPI) a spelling that only matches after PEP 503 normalisation.
          const family = eco.split(':')[0]!;
          const variants: Array<[string, string]> = [
            [eco, name],
            [family, name],
            [`${family}:99`, name],
          ];
          if (family === 'PyPI') variants.push([eco, name.toUpperCase().replace(/-/g, '_')]);
          for (const v of variants)
            if (!seen.has(v.join('\0'))) {
              seen.add(v.join('\0'));
              queries.push(v);
            }
        }
    queries.push(['Alpine:v3.10', 'openssl'], ['Alpine', 'ansible'], ['npm', 'no-such-package'], ['Hex', 'plug']);
  });

  it('gives the same answers as lookup alone, for releases, families, normalised names and misses', () => {
    const plain = openVulnDb(db);
    const batched = openVulnDb(db);
    try {
      batched.prefetch(queries);
      let hits = 0;
      for (const [eco, name] of queries) {
        const want = plain.lookup(eco, name);
        hits += want.length;
        expect(batched.lookup(eco, name), `${eco} ${name}`).toEqual(want);
      }
      // The comparison above means something only if the fixtures give answers.
      expect(hits).toBeGreaterThan(100);
      expect(batched.lookup('npm', 'no-such-package')).toEqual([]);
    } finally {
      plain.close();
      batched.close();
    }
  });

  it('candidates give the records of lookup, in its order, and full() is the candidate lookup returns', () => {
    const h = openVulnDb(db);
    try {
      let n = 0;
      for (const [eco, name] of queries) {
        const stored = h.candidates(eco, name);
        const want = h.lookup(eco, name);
        expect(stored.map((c) => c.id)).toEqual(want.map((c) => c.id));
        expect(stored.map((c) => c.affected)).toEqual(want.map((c) => c.affected));
        expect(stored.map((c) => c.full())).toEqual(want);
        n += stored.length;
      }
      expect(n).toBeGreaterThan(100);
    } finally {
      h.close();
    }
  });

  it('with the installed version, leaves out only records the summaries rule out, prefetched or not', () => {
    const plain = openVulnDb(db);
    const batched = openVulnDb(db);
    try {
      // Each query that has records, at versions below, among and above those its records name.
      const keyed: Array<[string, string, string]> = [];
      for (const [eco, name] of queries) {
        const key = comparatorFor(eco)?.orderKey;
        if (!key || plain.lookup(eco, name).length === 0) continue;
        for (const v of ['0.0.1', '1.0', '2.9.4+dfsg1-2.2', '4.17.15', '999']) {
          const k = key(v);
          if (k !== null) keyed.push([eco, name, k]);
        }
      }
      batched.prefetch(keyed);
      let left = 0;
      let kept = 0;
      for (const [eco, name, k] of keyed) {
        const all = plain.candidates(eco, name);
        const got = plain.candidates(eco, name, k).map((c) => c.id);
        for (const id of got) expect(all.map((c) => c.id)).toContain(id);
        // Every record the summaries do not rule out is there.
        for (const c of all) if (c.assess(k) !== null) expect(got, `${eco} ${name} ${k}`).toContain(c.id);
        expect(batched.candidates(eco, name, k).map((c) => c.id)).toEqual(got);
        left += all.length - got.length;
        kept += got.length;
      }
      expect(left).toBeGreaterThan(50);
      expect(kept).toBeGreaterThan(50);
    } finally {
      plain.close();
      batched.close();
    }
  });

  it('returns fresh objects on every lookup, so a caller changing one cannot change the next answer', () => {
    const h = openVulnDb(db);
    try {
      h.prefetch(queries);
      const [eco, name] = queries.find(([e, n]) => h.lookup(e, n).length > 0)!;
      const first = h.lookup(eco, name);
      const snapshot = structuredClone(first);
      first[0]!.affected.length = 0;
      first[0]!.aliases.push('CHANGED');
      expect(h.lookup(eco, name)).toEqual(snapshot);
    } finally {
      h.close();
    }
  });

  it('reads a record detail only for a whole candidate, and names a record whose detail vanished', async () => {
    const copy = join(await tempDir(), 'damaged.db');
    await copyFile(db, copy);
    const [eco, name] = queries.find(([e, n]) => {
      const h = openVulnDb(db);
      try {
        return h.lookup(e, n).length > 0;
      } finally {
        h.close();
      }
    })!;
    const w = new Database(copy);
    const id = (w.prepare('SELECT id FROM affected WHERE name = ? LIMIT 1').pluck().get(name) as string) ?? '';
    w.prepare('DELETE FROM records WHERE id = ?').run(id);
    w.close();
    const h = openVulnDb(copy);
    try {
      // A matcher prefetches: rows come without their record's detail, read when full() asks.
      h.prefetch([[eco, name]]);
      const c = h.candidates(eco, name).find((x) => x.id === id)!;
      expect(c.head().id).toBe(id);
      expect(() => c.full()).toThrow(UserInputError);
      expect(() => c.full()).toThrow(/is damaged \(record \d+ vanished\)/);
    } finally {
      h.close();
    }
  });
});
