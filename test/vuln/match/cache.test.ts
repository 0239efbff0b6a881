import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Package } from '../../../src/core/types.js';
import { importInputs } from '../../../src/vuln/db/index.js';
import { matchPackages, openVulnDb } from '../../../src/vuln/index.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'palisade-match-cache-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const rec = (id: string, aliases: string[], fixed: string, modified = '2024-01-01T00:00:00Z') => ({
  id,
  modified,
  aliases,
  summary: `${id} summary`,
  affected: [
    {
      package: { ecosystem: 'npm', name: 'chain' },
      ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed }] }],
    },
  ],
});

const chain: Package = {
  type: 'npm',
  ecosystem: 'npm',
  name: 'chain',
  version: '1.0.0',
  purl: 'pkg:npm/chain@1.0.0',
  path: 'x',
  analyzer: 'test',
};

describe('matcher: alias groups and answers cached per DB handle', () => {
  it.each([
    ['in chain order', ['A', 'B', 'C', 'D']],
    ['with the link last', ['C', 'A', 'D', 'B']],
  ])(
    'records linked only through a chain of aliases are one finding; an unrelated one stays apart (%s)',
    async (_o, order) => {
      const byName: Record<string, object> = {
        // A ~ B through CVE-1, B ~ C through CVE-2: A and C share nothing directly.
        A: rec('GHSA-aaaa-aaaa-aaaa', ['CVE-2024-0001'], '2.0.0'),
        B: rec('OSV-B', ['CVE-2024-0001', 'CVE-2024-0002'], '1.5.0'),
        C: rec('PYSEC-C', ['CVE-2024-0002'], '3.0.0'),
        D: rec('GHSA-dddd-dddd-dddd', ['CVE-2024-0009'], '4.0.0'),
      };
      const dir = join(work, order.join(''));
      const path = join(dir, 'v.db');
      await import('node:fs/promises').then((f) => f.mkdir(dir));
      await writeFile(join(dir, 'r.json'), JSON.stringify(order.map((k) => byName[k])));
      await importInputs(path, [join(dir, 'r.json')]);
      const db = openVulnDb(path);
      const { findings } = matchPackages([chain], db);
      db.close();
      expect(findings.map((f) => [f.id, f.aliases, f.fixedVersion]).sort()).toEqual([
        ['GHSA-aaaa-aaaa-aaaa', ['CVE-2024-0001', 'CVE-2024-0002', 'OSV-B', 'PYSEC-C'], '1.5.0'],
        ['GHSA-dddd-dddd-dddd', ['CVE-2024-0009'], '4.0.0'],
      ]);
    },
  );

  it('a second match on the same handle gives the same findings; a handle on the re-imported file sees the new data', async () => {
    const dir = join(work, 'reimport');
    const path = join(dir, 'v.db');
    await import('node:fs/promises').then((f) => f.mkdir(dir));
    await writeFile(join(dir, 'a.json'), JSON.stringify(rec('GHSA-xxxx-xxxx-xxxx', [], '2.0.0')));
    await importInputs(path, [join(dir, 'a.json')]);
    const old = openVulnDb(path);
    const first = matchPackages([chain], old);
    expect(first.findings.map((f) => f.fixedVersion)).toEqual(['2.0.0']);
    expect(first.stats.queried).toBe(1);
    // A newer version of the record moves the fix below the installed version: no longer affected.
    await writeFile(
      join(dir, 'b.json'),
      JSON.stringify(rec('GHSA-xxxx-xxxx-xxxx', [], '0.5.0', '2024-02-01T00:00:00Z')),
    );
    await importInputs(path, [join(dir, 'b.json')]);
    const again = matchPackages([chain, chain], old);
    expect(again.findings).toEqual([...first.findings, ...first.findings]);
    expect(again.stats.queried).toBe(1);
    old.close();
    const fresh = openVulnDb(path);
    expect(matchPackages([chain], fresh).findings).toEqual([]);
    fresh.close();
  });
});
