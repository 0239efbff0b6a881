import { join } from 'node:path';
import semver from 'semver';
import { beforeAll, describe, expect, it } from 'vitest';
import { SecdbConverter } from '../../../src/vuln/db/alpine-secdb.js';
import { importInputs, type OsvAffected, openVulnDb, type VulnDb } from '../../../src/vuln/db/index.js';
import { convertNodejsWg } from '../../../src/vuln/db/nodejs-wg.js';
import { FIX, osvValidator, readJsonFiles, tempDir } from './helpers.js';

interface Secdb {
  distroversion: string;
  reponame: string;
  packages: Array<{ pkg: { name: string; secfixes?: Record<string, string[] | null> } }> | null;
}

describe('Alpine secdb converted on import', () => {
  let docs: Secdb[];
  let db: VulnDb;
  let warnings: string[];

  beforeAll(async () => {
    docs = (await readJsonFiles(`${FIX}alpine-secdb`)).map((f) => f.data as Secdb);
    const path = join(await tempDir(), 'vuln.db');
    const report = await importInputs(path, [`${FIX}alpine-secdb`]);
    warnings = report.warnings;
    db = openVulnDb(path);
    return () => db.close();
  });

  /** Every (release, package, fixed version, plain CVE id) the fixture lists. */
  function plainFixes() {
    const out: Array<{ release: string; name: string; fixed: string; cve: string }> = [];
    for (const d of docs)
      for (const p of d.packages ?? [])
        for (const [fixed, ids] of Object.entries(p.pkg.secfixes ?? {}))
          for (const id of ids ?? [])
            if (/^CVE-\d{4}-\d+$/.test(id) && fixed !== '0')
              out.push({ release: d.distroversion, name: p.pkg.name, fixed, cve: id });
    return out;
  }

  it('gives each listed fix a fixed event under Alpine:<release> for the origin package', () => {
    const fixes = plainFixes();
    expect(fixes.length).toBeGreaterThan(4000);
    const cache = new Map<string, ReturnType<VulnDb['lookup']>>();
    for (const f of fixes) {
      const eco = `Alpine:${f.release}`;
      const key = `${eco} ${f.name}`;
      if (!cache.has(key)) cache.set(key, db.lookup(eco, f.name));
      const c = cache.get(key)!.find((x) => x.id === `ALPINE-${f.cve}`);
      expect(c, `${eco} ${f.name} ${f.cve}`).toBeDefined();
      expect(c!.aliases).toContain(f.cve);
      const events = c!.affected
        .filter((a) => a.package?.ecosystem === eco)
        .flatMap((a) => a.ranges?.[0]?.events ?? []);
      expect(events[0]).toEqual({ introduced: '0' });
      expect(events).toContainEqual({ fixed: f.fixed });
    }
  });

  it('keeps releases apart: a lookup for one release returns only its entries', () => {
    // A (package, CVE) the fixture lists in several releases.
    const releases = new Map<string, string[]>();
    for (const f of plainFixes())
      releases.set(`${f.name} ${f.cve}`, [...(releases.get(`${f.name} ${f.cve}`) ?? []), f.release]);
    const [key, rels] = [...releases].find(([, r]) => new Set(r).size >= 3)!;
    const [name, cve] = key.split(' ') as [string, string];
    for (const rel of new Set(rels)) {
      const c = db.lookup(`Alpine:${rel}`, name).find((x) => x.id === `ALPINE-${cve}`)!;
      expect(c.affected.map((a) => a.package?.ecosystem)).toEqual([`Alpine:${rel}`]);
    }
    const all = db.lookup('Alpine', name).find((x) => x.id === `ALPINE-${cve}`)!;
    expect(new Set(all.affected.map((a) => a.package?.ecosystem))).toEqual(
      new Set([...rels].map((r) => `Alpine:${r}`)),
    );
  });

  it('merges a CVE fixed in main and community of one release into one record', () => {
    const where = new Map<string, Set<string>>();
    for (const d of docs)
      for (const p of d.packages ?? [])
        for (const ids of Object.values(p.pkg.secfixes ?? {}))
          for (const id of ids ?? []) {
            if (!/^CVE-\d{4}-\d+$/.test(id)) continue;
            const k = `${d.distroversion} ${id}`;
            where.set(k, (where.get(k) ?? new Set()).add(`${d.reponame}/${p.pkg.name}`));
          }
    const both = [...where].find(
      ([, s]) => [...s].some((x) => x.startsWith('main/')) && [...s].some((x) => x.startsWith('community/')),
    )!;
    expect(both).toBeDefined();
    const [release, cve] = both[0].split(' ') as [string, string];
    for (const pkg of both[1]) {
      const name = pkg.split('/')[1]!;
      expect(
        db.lookup(`Alpine:${release}`, name).map((c) => c.id),
        pkg,
      ).toContain(`ALPINE-${cve}`);
    }
  });

  it('reads "CVE-x TALOS-y" as id plus alias and drops notes and placeholders', () => {
    expect(db.recordsWithAlias('TALOS-2017-0394')).toEqual(['ALPINE-CVE-2017-2887']);
    expect(db.lookup('Alpine:v3.10', 'tcpdump').map((c) => c.id)).toContain('ALPINE-CVE-2017-16808');
    expect(db.lookup('Alpine:v3.10', 'xen').map((c) => c.id)).toContain('ALPINE-XSA-295');
  });

  it('treats a fixed version of 0 as "never affected in this release"', () => {
    const zero = docs.flatMap((d) =>
      (d.packages ?? []).flatMap((p) =>
        Object.entries(p.pkg.secfixes ?? {})
          .filter(([v]) => v === '0')
          .map(([, ids]) => ({ d, p, ids: ids ?? [] })),
      ),
    );
    expect(zero.length).toBeGreaterThan(0);
    for (const { d, p, ids } of zero)
      for (const id of ids)
        expect(db.lookup(`Alpine:${d.distroversion}`, p.pkg.name).map((c) => c.id)).not.toContain(`ALPINE-${id}`);
  });

  it('warns about the entries it cannot read instead of inventing ids', () => {
    expect(warnings.some((w) => /heimdal .*fixed ids are not a list/.test(w))).toBe(true);
    expect(warnings.every((w) => /secdb|unreadable id|not a list/.test(w))).toBe(true);
  });

  it('produces records the OSV schema accepts', async () => {
    const validate = await osvValidator();
    const conv = new SecdbConverter();
    for (const d of docs) conv.add(d as unknown as Record<string, unknown>, 'fixture');
    const recs = conv.records('2024-01-01T00:00:00.000Z');
    expect(recs.length).toBeGreaterThan(2000);
    for (const r of recs) expect(validate(r), `${r.id} ${JSON.stringify(validate.errors)}`).toBe(true);
  });

  it('importing one repo later keeps the packages another repo contributed', async () => {
    const path = join(await tempDir(), 'vuln.db');
    await importInputs(path, [`${FIX}alpine-secdb/v3.11/main.json`, `${FIX}alpine-secdb/v3.11/community.json`]);
    const before = openVulnDb(path);
    const want = before.lookup('Alpine:v3.11', 'ansible').map((c) => c.id);
    before.close();
    await importInputs(path, [`${FIX}alpine-secdb/v3.11/community.json`]);
    const after = openVulnDb(path);
    expect(after.lookup('Alpine:v3.11', 'ansible').map((c) => c.id)).toEqual(want);
    after.close();
  });
});

/** OSV evaluation of one SEMVER/ECOSYSTEM entry with node-semver ordering (the test's own oracle). */
function osvAffects(a: OsvAffected, v: string): boolean {
  if (a.versions?.includes(v)) return true;
  return (a.ranges ?? []).some((r) => {
    const e = r.events;
    const lo = e.find((x) => x.introduced)?.introduced ?? '0';
    if (lo !== '0' && semver.lt(v, lo)) return false;
    const fixed = e.find((x) => x.fixed)?.fixed;
    const last = e.find((x) => x.last_affected)?.last_affected;
    if (fixed && !semver.lt(v, fixed)) return false;
    if (last && semver.gt(v, last)) return false;
    return true;
  });
}

describe('nodejs security-wg npm advisories converted on import', () => {
  it('covers exactly the versions node-semver says vulnerable_versions covers', async () => {
    const files = await readJsonFiles(`${FIX}nodejs-wg-npm`);
    let converted = 0;
    let probes = 0;
    for (const { path, data } of files) {
      const c = convertNodejsWg(data);
      if (!c.ok) continue;
      converted++;
      const range = data.vulnerable_versions as string;
      // Probe at and around every version the advisory names.
      const named = [...`${range} ${data.patched_versions ?? ''}`.matchAll(/\d+\.\d+\.\d+/g)].map((m) => m[0]);
      const vs = new Set<string>(['0.0.1', '99.0.0']);
      for (const n of named)
        for (const v of [n, semver.inc(n, 'patch')!, semver.inc(n, 'minor')!, semver.inc(n, 'major')!]) vs.add(v);
      for (const n of named) {
        const p = semver.parse(n)!;
        if (p.patch > 0) vs.add(`${p.major}.${p.minor}.${p.patch - 1}`);
      }
      for (const v of vs) {
        probes++;
        expect(osvAffects(c.record.affected![0]!, v), `${path} ${range} @ ${v}`).toBe(semver.satisfies(v, range));
      }
    }
    expect(converted).toBeGreaterThan(110);
    expect(probes).toBeGreaterThan(1000);
  });

  it('converts the exact forms: > as the least version above, exact versions as a list', () => {
    const c = convertNodejsWg({
      id: 9,
      module_name: 'm',
      updated_at: '2020-01-01',
      vulnerable_versions: '>2.51.0 <=2.67.0 || 1.0.3',
    });
    expect(c.ok && c.record.affected).toEqual([
      {
        package: { ecosystem: 'npm', name: 'm' },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '2.51.1-0' }, { last_affected: '2.67.0' }] }],
        versions: ['1.0.3'],
      },
    ]);
  });

  it('imports them as NSWG-ECO records with CVE aliases and skips unreadable ranges with a warning', async () => {
    const path = join(await tempDir(), 'vuln.db');
    const r = await importInputs(path, [`${FIX}nodejs-wg-npm`]);
    expect(r.converted.nodejsWg).toBe(r.inserted);
    expect(r.inserted).toBeGreaterThan(110);
    const db = openVulnDb(path);
    const c = db.lookup('npm', 'bassmaster').find((x) => x.id === 'NSWG-ECO-1')!;
    expect(c.aliases).toEqual(['CVE-2014-7205']);
    expect(c.severity).toEqual([{ type: 'CVSS_V3', score: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N' }]);
    expect(c.affected[0]!.ranges).toEqual([
      { type: 'SEMVER', events: [{ introduced: '0' }, { last_affected: '1.5.1' }] },
    ]);
    db.close();
    for (const w of r.warnings) expect(w).toMatch(/nodejs-wg-npm\/\d+\.json: nodejs security-wg record skipped/);
  });

  it('produces records the OSV schema accepts', async () => {
    const validate = await osvValidator();
    for (const { path, data } of await readJsonFiles(`${FIX}nodejs-wg-npm`)) {
      const c = convertNodejsWg(data);
      // NSWG-ECO is the security-wg's own id scheme but not a registered OSV prefix: everything else must conform.
      if (c.ok)
        expect(validate({ ...c.record, id: `OSV-${c.record.id}` }), `${path} ${JSON.stringify(validate.errors)}`).toBe(
          true,
        );
    }
  });
});
