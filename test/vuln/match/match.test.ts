import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Package } from '../../../src/core/types.js';
import { importInputs } from '../../../src/vuln/db/index.js';
import { matchPackages, openVulnDb, type VulnDb } from '../../../src/vuln/index.js';

const fixtures = new URL('../../fixtures/vuln/db/', import.meta.url).pathname;
let work: string;
let db: VulnDb;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'palisade-match-'));
  await importInputs(join(work, 'v.db'), [
    join(fixtures, 'pypa/jinja2'),
    join(fixtures, 'ghsa-npm/lodash'),
    join(fixtures, 'debian-osv'),
  ]);
  db = openVulnDb(join(work, 'v.db'));
});
afterAll(async () => {
  db?.close();
  await rm(work, { recursive: true, force: true });
});

const pkg = (p: Partial<Package> & Pick<Package, 'type' | 'name' | 'version' | 'ecosystem'>): Package => ({
  purl: `pkg:${p.type}/${p.name}@${p.version}`,
  path: 'x',
  analyzer: 'test',
  ...p,
});

describe('matcher', () => {
  it('a language package an OS package owns is matched only through the OS package (no false alarm from a backport)', () => {
    const jinja = pkg({ type: 'pypi', ecosystem: 'PyPI', name: 'jinja2', version: '2.8' });
    const owned = {
      ...jinja,
      ownedBy: 'pkg:deb/debian/python3-jinja2@2.8-1?distro=debian-9',
      path: 'usr/lib/python3/dist-packages/Jinja2-2.8.dist-info/METADATA',
    };
    const free = matchPackages([jinja], db);
    expect(free.findings.map((f) => f.id)).toEqual(['PYSEC-2019-220']);
    expect(free.findings[0]!.aliases).toEqual(['CVE-2016-10745', 'GHSA-hj2j-77xm-mc5v']);
    const o = matchPackages([owned], db);
    expect(o.findings).toEqual([]);
    expect(o.stats.ownedSkipped).toBe(1);
  });

  it('a fixed version is not affected; the finding names the lowest fix and the reason', () => {
    expect(
      matchPackages([pkg({ type: 'pypi', ecosystem: 'PyPI', name: 'Jinja2', version: '2.8.1' })], db).findings,
    ).toEqual([]);
    const [f] = matchPackages([pkg({ type: 'pypi', ecosystem: 'PyPI', name: 'Jinja2', version: '2.7' })], db).findings;
    expect(f).toMatchObject({
      id: 'PYSEC-2019-220',
      fixedVersion: '2.8.1',
      installedVersion: '2.7',
      kind: 'vulnerability',
      pci: ['6.3.1', '6.3.3', '11.3.1'],
    });
    expect(String(f!.reason)).toMatch(/fixed in 2\.8\.1/);
  });

  it('Debian records are scoped to their release and matched by source package', () => {
    const openssl9 = pkg({
      type: 'deb',
      ecosystem: 'Debian:9',
      name: 'libssl1.1',
      version: '1.1.0l-1~deb9u4',
      source: { name: 'openssl', version: '1.1.0l-1~deb9u4' },
    });
    const found = matchPackages([openssl9], db).findings;
    expect(found.length).toBeGreaterThan(0);
    for (const f of found) expect(f.sourcePackage).toBe('openssl');
    // The same package name on another release is not matched by Debian 9 records.
    expect(matchPackages([{ ...openssl9, ecosystem: 'Debian:42' }], db).findings).toEqual([]);
  });

  it('the same vulnerability from records that alias each other is reported once per package', () => {
    const lodash = pkg({ type: 'npm', ecosystem: 'npm', name: 'lodash', version: '4.17.15' });
    const { findings } = matchPackages([lodash], db);
    const ids = findings.flatMap((f) => [f.id, ...(f.aliases as string[])]);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
