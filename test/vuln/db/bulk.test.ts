import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { importInputs, openVulnDb } from '../../../src/vuln/db/index.js';
import { FIX, type Json, readJsonFiles, tempDir } from './helpers.js';

/**
 * A new DB is written in bulk mode (no indexes until commit, per-ecosystem counts kept as rows
 * go in); a record that must change a row already written in that import ends bulk mode early.
 * Either way the result must be the DB a row-by-row import builds.
 */
describe('db import: bulk mode (a new DB) builds the same DB as row-by-row updates', () => {
  const base = {
    id: 'GHSA-test-bulk-0001',
    modified: '2024-05-01T00:00:00Z',
    summary: 'first',
    aliases: ['CVE-2024-0001'],
    affected: [
      {
        package: { ecosystem: 'npm', name: 'bulky' },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.0' }] }],
      },
      {
        package: { ecosystem: 'npm', name: 'other' },
        versions: ['0.1.0'],
      },
    ],
  };
  const filler = (i: number) => ({
    ...base,
    id: `GHSA-test-fill-${String(i).padStart(4, '0')}`,
    aliases: [`CVE-2024-1${String(i).padStart(3, '0')}`],
    affected: [{ package: { ecosystem: 'npm', name: `pkg-${i % 7}` }, versions: [`1.${i}.0`] }],
  });

  it.each([
    ['the same record again', {}, { unchanged: 1 }, ['first']],
    ['an older version', { modified: '2023-01-01T00:00:00Z', summary: 'older' }, { unchanged: 1 }, ['first']],
    ['a newer version', { modified: '2024-06-01T00:00:00Z', summary: 'newer' }, { replaced: 1 }, ['newer']],
    [
      'a newer withdrawn version',
      { modified: '2024-07-01T00:00:00Z', withdrawn: '2024-07-01T00:00:00Z' },
      { withdrawn: 1 },
      [],
    ],
  ])('a record followed by %s in one import of a new DB', async (_what, change, counts, summaries) => {
    const dir = await tempDir();
    const path = join(dir, 'vuln.db');
    // Records before and after the pair, so rows written in bulk mode and after it must both survive.
    await writeFile(join(dir, 'a.json'), JSON.stringify([filler(1), filler(2), base, filler(3)]));
    await writeFile(join(dir, 'b.json'), JSON.stringify([{ ...base, ...change }, filler(4), filler(5)]));
    const r = await importInputs(path, [join(dir, 'a.json'), join(dir, 'b.json')]);
    expect(r).toMatchObject({ inserted: 6, skipped: 0, ...counts });
    const gone = summaries.length === 0;
    expect(r.records).toBe(gone ? 5 : 6);
    const db = openVulnDb(path);
    expect(db.lookup('npm', 'bulky').map((c) => c.summary)).toEqual(summaries);
    expect(db.lookup('npm', 'other').map((c) => c.id)).toEqual(gone ? [] : [base.id]);
    expect(db.recordsWithAlias('CVE-2024-0001')).toEqual(gone ? [] : [base.id]);
    for (const i of [1, 2, 3, 4, 5]) {
      expect(db.lookup('npm', `pkg-${i % 7}`).map((c) => c.id)).toEqual([filler(i).id]);
      expect(db.recordsWithAlias(filler(i).aliases[0]!)).toEqual([filler(i).id]);
    }
    db.close();
  });

  it('the real fixtures give the same lookups, aliases and counts imported at once or one file at a time', async () => {
    const dir = await tempDir();
    const sets = await Promise.all(['ghsa-npm', 'pypa', 'debian-osv'].map((d) => readJsonFiles(FIX + d)));
    const files = sets.flat();
    const bulk = join(dir, 'bulk.db');
    await importInputs(
      bulk,
      files.map((f) => f.path),
    );
    // The first file makes a new DB; every later import extends it in place (indexes live).
    const stepwise = join(dir, 'step.db');
    for (const f of files) await importInputs(stepwise, [f.path], { workers: 0 });
    const a = openVulnDb(bulk);
    const b = openVulnDb(stepwise);
    const packages = new Set<string>();
    const aliases = new Set<string>();
    for (const { data } of files) {
      if (data.withdrawn) continue;
      for (const x of (data.affected ?? []) as Json[])
        if (x.package) packages.add(`${x.package.ecosystem}\0${x.package.name}`);
      for (const x of (data.aliases ?? []) as string[]) aliases.add(x);
    }
    expect(packages.size).toBeGreaterThan(30);
    expect(aliases.size).toBeGreaterThan(300);
    for (const p of packages) {
      const [eco, name] = p.split('\0') as [string, string];
      expect(a.lookup(eco, name), p).toEqual(b.lookup(eco, name));
      expect(a.lookup(eco, name).length, p).toBeGreaterThan(0);
    }
    for (const x of aliases) expect(a.recordsWithAlias(x), x).toEqual(b.recordsWithAlias(x));
    const { updatedAt: _a, path: _p, ...sa } = a.status();
    const { updatedAt: _b, path: _q, ...sb } = b.status();
    expect(sa).toEqual(sb);
    a.close();
    b.close();
    // Every index exists in the bulk-built file.
    const raw = new Database(bulk, { readonly: true });
    const indexes = raw
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all()
      .map((r) => (r as { name: string }).name);
    expect(indexes).toEqual(['affected_lookup', 'affected_record', 'aliases_alias', 'aliases_record', 'records_id']);
    raw.close();
  });

  it('references are read on demand, advisories first, at most 5', async () => {
    const dir = await tempDir();
    const path = join(dir, 'vuln.db');
    const refs = [
      ...Array.from({ length: 4 }, (_, i) => ({ type: 'WEB', url: `https://example.invalid/web/${i}` })),
      { type: 'ADVISORY', url: 'https://example.invalid/advisory' },
      { type: 'PACKAGE', url: 'https://example.invalid/package' },
    ];
    await writeFile(join(dir, 'a.json'), JSON.stringify({ ...base, references: refs }));
    await importInputs(path, [join(dir, 'a.json')]);
    const db = openVulnDb(path);
    expect(db.references(base.id)).toEqual([refs[4], ...refs.slice(0, 4)]);
    expect(db.references('GHSA-none-such')).toEqual([]);
    db.close();
  });
});
