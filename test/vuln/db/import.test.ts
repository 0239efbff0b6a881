import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ImportReport, importInputs, openVulnDb, type VulnDb } from '../../../src/vuln/db/index.js';
import { checkOsv } from '../../../src/vuln/db/osv.js';
import { FIX, type Json, osvValidator, readJsonFiles, tempDir } from './helpers.js';

type Rec = {
  id: string;
  modified: string;
  withdrawn?: string;
  aliases?: string[];
  affected?: Json[];
  summary?: string;
};

const pypiKey = (n: string) => n.toLowerCase().replace(/[-_.]+/g, '-');

describe('db import: real GHSA, PyPA and Debian OSV records', () => {
  let path: string;
  let report: ImportReport;
  let db: VulnDb;
  let records: Rec[];

  beforeAll(async () => {
    path = join(await tempDir(), 'vuln.db');
    const sets = await Promise.all(['ghsa-npm', 'pypa', 'debian-osv'].map((d) => readJsonFiles(FIX + d)));
    records = sets.flat().map((f) => f.data as Rec);
    report = await importInputs(path, [`${FIX}ghsa-npm`, `${FIX}pypa`, `${FIX}debian-osv`]);
    db = openVulnDb(path);
    return () => db.close();
  });

  it('reads every file and drops each withdrawn record, counting it', () => {
    const withdrawn = records.filter((r) => r.withdrawn);
    expect(withdrawn.length).toBeGreaterThanOrEqual(13); // 3 GHSA + 10 PyPA in the fixtures
    expect(report.documents).toBe(records.length);
    expect(report.withdrawn).toBe(withdrawn.length);
    expect(report.inserted).toBe(records.length - withdrawn.length);
    expect(report.skipped).toBe(0);
    expect(report.records).toBe(records.length - withdrawn.length);
  });

  it.each(['GHSA-8p5q-j9m2-g8wr', 'GHSA-27h2-hvpr-p74q', 'GHSA-pj86-cfqh-vqx6'])('withdrawn %s is not served', (id) => {
    const rec = records.find((r) => r.id === id)!;
    for (const a of rec.affected ?? []) {
      expect(db.lookup(a.package.ecosystem, a.package.name).map((c) => c.id)).not.toContain(id);
    }
    for (const alias of rec.aliases ?? []) expect(db.recordsWithAlias(alias)).not.toContain(id);
  });

  it('serves every live record under each package it names, with exactly its affected entries', () => {
    let checked = 0;
    for (const rec of records.filter((r) => !r.withdrawn)) {
      const byPkg = new Map<string, Json[]>();
      for (const a of rec.affected ?? []) {
        if (!a.package) continue;
        const key = `${a.package.ecosystem}\0${a.package.ecosystem === 'PyPI' ? pypiKey(a.package.name) : a.package.name}`;
        byPkg.set(key, [...(byPkg.get(key) ?? []), a]);
      }
      for (const [key, entries] of byPkg) {
        const [eco, name] = key.split('\0') as [string, string];
        const hits = db.lookup(eco, name).filter((c) => c.id === rec.id);
        expect(hits, `${rec.id} under ${eco}/${name}`).toHaveLength(1);
        const got = hits[0]!.affected.filter((a) => a.package?.ecosystem === eco);
        expect(got).toEqual(entries);
        expect(hits[0]!.aliases).toEqual([...new Set(rec.aliases ?? [])]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(380);
  });

  it('keeps severity vectors and the database severity of GHSA records', () => {
    const c = db.lookup('npm', 'minimist').find((x) => x.id === 'GHSA-xvch-5gv4-984h')!;
    expect(c.aliases).toEqual(['CVE-2021-44906']);
    expect(c.databaseSeverity).toBe('CRITICAL');
    expect(c.severity[0]?.type).toBe('CVSS_V3');
    expect(c.severity[0]?.score).toMatch(/^CVSS:3\.1\//);
    expect(c.summary).toBe('Prototype Pollution in minimist');
  });

  it('maps aliases back to records (CVE -> GHSA, CVE -> DLA via upstream)', () => {
    expect(db.recordsWithAlias('CVE-2020-8203')).toEqual(['GHSA-p6mc-m468-83gw']);
    expect(db.recordsWithAlias('CVE-2022-1664')).toEqual(['DLA-3022-1']);
    expect(db.recordsWithAlias('CVE-0000-0000')).toEqual([]);
  });

  it.each([
    ['Debian:9', 'dpkg', ['DLA-3022-1']],
    ['Debian', 'dpkg', ['DLA-3022-1']],
    ['Debian:12', 'dpkg', []],
    ['Debian:7', 'nginx', ['DSA-3029-1']],
    ['Ubuntu:22.04:LTS', 'dpkg', []],
    ['npm', 'no-such-package', []],
  ])('lookup(%s, %s) is release-aware', (eco, name, ids) => {
    expect(db.lookup(eco, name).map((c) => c.id)).toEqual(ids);
  });

  it('matches PyPI names after PEP 503 normalisation, other ecosystems exactly', () => {
    const rec = records.find((r) =>
      r.affected?.some((a) => a.package?.ecosystem === 'PyPI' && /[a-z]/.test(a.package.name)),
    )!;
    const name: string = rec.affected!.find((a) => a.package?.ecosystem === 'PyPI').package.name;
    const variant = name.toUpperCase().replace(/-/g, '_');
    expect(db.lookup('PyPI', variant).map((c) => c.id)).toContain(rec.id);
    expect(db.lookup('npm', 'LODASH')).toEqual([]);
    expect(db.lookup('npm', 'lodash').length).toBeGreaterThan(5);
  });

  it('reports per-ecosystem counts and the newest modified as the records say', () => {
    const want = new Map<string, { ids: Set<string>; newest: string }>();
    for (const r of records.filter((x) => !x.withdrawn)) {
      for (const a of r.affected ?? []) {
        if (!a.package) continue;
        const e = want.get(a.package.ecosystem) ?? { ids: new Set(), newest: '' };
        e.ids.add(r.id);
        const m = new Date(r.modified).toISOString();
        if (m > e.newest) e.newest = m;
        want.set(a.package.ecosystem, e);
      }
    }
    const status = db.status();
    expect(status.ecosystems.map((e) => e.ecosystem)).toEqual([...want.keys()].sort());
    for (const e of status.ecosystems) {
      expect(e.records, e.ecosystem).toBe(want.get(e.ecosystem)!.ids.size);
      expect(e.newestModified, e.ecosystem).toBe(want.get(e.ecosystem)!.newest);
    }
    expect(status.ageDays).toBe(0);
    expect(db.dbAgeDays(new Date(Date.now() + 8 * 86_400_000))).toBeGreaterThan(7.9);
  });
});

describe('db import: the OSV schema and our record checks agree', () => {
  it('accepts every fixture record that the official OSV schema accepts', async () => {
    const validate = await osvValidator();
    let valid = 0;
    for (const dir of ['ghsa-npm', 'pypa', 'debian-osv']) {
      for (const { path, data } of await readJsonFiles(FIX + dir)) {
        if (!validate(data)) continue;
        valid++;
        expect(checkOsv(data).ok, path).toBe(true);
      }
    }
    expect(valid).toBeGreaterThan(380);
  });

  it('rejects what the schema rejects among the hand-made bad records', async () => {
    const validate = await osvValidator();
    for (const id of ['OSV-NO-MODIFIED', 'OSV-BAD-EVENT', 'OSV-NO-PKG-NAME']) {
      const file = {
        'OSV-NO-MODIFIED': 'no-modified',
        'OSV-BAD-EVENT': 'two-keys-event',
        'OSV-NO-PKG-NAME': 'no-package-name',
      }[id];
      const data = JSON.parse(await readFile(`${FIX}bad/${file}.json`, 'utf8'));
      expect(validate(data), id).toBe(false);
      expect(checkOsv(data).ok, id).toBe(false);
    }
  });
});

describe('db import: bad records are skipped with a warning, never a crash', () => {
  it('skips each bad record naming its file or id and keeps the good one', async () => {
    const path = join(await tempDir(), 'vuln.db');
    const seen: string[] = [];
    const report = await importInputs(path, [`${FIX}bad`], { onWarning: (m) => seen.push(m) });
    expect(report.inserted).toBe(1);
    expect(report.skipped).toBe(6); // truncated, no modified, two-key event, no package name, 2 non-records
    expect(report.warningCount).toBe(6);
    expect(seen).toEqual(report.warnings);
    const joined = seen.join('\n');
    expect(joined).toMatch(/truncated\.json: invalid JSON/);
    expect(joined).toMatch(/OSV-NO-MODIFIED.*"modified"/);
    expect(joined).toMatch(/OSV-BAD-EVENT.*exactly one of/);
    expect(joined).toMatch(/OSV-NO-PKG-NAME.*"package"/);
    expect(joined).toMatch(/not-a-record\.json\[0\].*not a JSON object/);
    const db = openVulnDb(path);
    expect(db.lookup('npm', 'left-pad').map((c) => c.id)).toEqual(['OSV-GOOD-1']);
    db.close();
  });
});

describe('db import: idempotent, newer modified wins', () => {
  const base = {
    id: 'GHSA-test-idem-0001',
    modified: '2024-05-01T00:00:00Z',
    summary: 'first',
    aliases: ['CVE-2024-0001'],
    affected: [
      {
        package: { ecosystem: 'npm', name: 'idem' },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.0' }] }],
      },
    ],
  };

  it.each([
    ['the same record again', {}, 'unchanged', 'first'],
    ['an older version', { modified: '2023-01-01T00:00:00Z', summary: 'older' }, 'unchanged', 'first'],
    ['the same modified, other content', { summary: 'same time' }, 'unchanged', 'first'],
    ['a newer version', { modified: '2024-06-01T00:00:00Z', summary: 'newer' }, 'replaced', 'newer'],
  ])('importing %s: %s', async (_what, change, outcome, summary) => {
    const dir = await tempDir();
    const path = join(dir, 'vuln.db');
    await writeFile(join(dir, 'a.json'), JSON.stringify(base));
    await importInputs(path, [join(dir, 'a.json')]);
    await writeFile(join(dir, 'b.json'), JSON.stringify({ ...base, ...change }));
    const r = await importInputs(path, [join(dir, 'b.json')]);
    expect(r[outcome as 'unchanged' | 'replaced']).toBe(1);
    expect(r.records).toBe(1);
    const db = openVulnDb(path);
    expect(db.lookup('npm', 'idem').map((c) => c.summary)).toEqual([summary]);
    db.close();
  });

  it('a newer withdrawn version removes the stored record and its aliases', async () => {
    const dir = await tempDir();
    const path = join(dir, 'vuln.db');
    await writeFile(join(dir, 'a.json'), JSON.stringify(base));
    await importInputs(path, [join(dir, 'a.json')]);
    await writeFile(
      join(dir, 'w.json'),
      JSON.stringify({ ...base, modified: '2024-07-01T00:00:00Z', withdrawn: '2024-07-01T00:00:00Z' }),
    );
    const r = await importInputs(path, [join(dir, 'w.json')]);
    expect(r.withdrawn).toBe(1);
    expect(r.records).toBe(0);
    const db = openVulnDb(path);
    expect(db.lookup('npm', 'idem')).toEqual([]);
    expect(db.recordsWithAlias('CVE-2024-0001')).toEqual([]);
    db.close();
  });

  it('re-importing the real fixture set changes nothing', async () => {
    const path = join(await tempDir(), 'vuln.db');
    const first = await importInputs(path, [`${FIX}ghsa-npm`, `${FIX}debian-osv`]);
    const before = openVulnDb(path);
    const lodash = before.lookup('npm', 'lodash');
    before.close();
    const again = await importInputs(path, [`${FIX}ghsa-npm`, `${FIX}debian-osv`]);
    expect(again.inserted + again.replaced).toBe(0);
    expect(again.unchanged).toBe(first.inserted);
    expect(again.records).toBe(first.records);
    const after = openVulnDb(path);
    expect(after.lookup('npm', 'lodash')).toEqual(lodash);
    after.close();
  });
});
