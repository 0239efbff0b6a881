import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LimitExceededError, UserInputError } from '../../../src/core/errors.js';
import { DEFAULT_LIMITS, importInputs, openVulnDb } from '../../../src/vuln/db/index.js';
import { FIX, type Json, readJsonFiles, tempDir, zipOfRecords } from './helpers.js';

/** Decoding on a worker thread (large imports) must give exactly what decoding in-thread gives. */
describe('db import: decoding on a worker thread', () => {
  const dirs = ['ghsa-npm', 'pypa', 'debian-osv', 'alpine-secdb', 'nodejs-wg-npm', 'bad'].map((d) => FIX + d);

  it('every fixture format (OSV, Alpine secdb, nodejs security-wg, bad records) gives the same report and DB', async () => {
    const dir = await tempDir();
    const seen: Record<string, string[]> = { inline: [], worker: [] };
    const inline = await importInputs(join(dir, 'inline.db'), dirs, {
      thread: false,
      onWarning: (m) => seen.inline!.push(m),
    });
    const worker = await importInputs(join(dir, 'worker.db'), dirs, {
      thread: true,
      onWarning: (m) => seen.worker!.push(m),
    });
    const { seconds: _a, ...ri } = inline;
    const { seconds: _b, ...rw } = worker;
    expect(rw).toEqual(ri);
    expect(seen.worker).toEqual(seen.inline);
    expect(ri.converted.alpineSecdb).toBeGreaterThan(0);
    expect(ri.converted.nodejsWg).toBeGreaterThan(0);
    expect(ri.skipped).toBeGreaterThan(0);
    const a = openVulnDb(join(dir, 'inline.db'));
    const b = openVulnDb(join(dir, 'worker.db'));
    const { updatedAt: _u, path: _p, ...sa } = a.status();
    const { updatedAt: _v, path: _q, ...sb } = b.status();
    // Converted secdb records are stamped with their import's start time; everything else must match.
    const unstamp = <T extends { ecosystem: string; newestModified: string | null }>(e: T) =>
      e.ecosystem.startsWith('Alpine') ? { ...e, newestModified: null } : e;
    expect({ ...sb, newestModified: null, ecosystems: sb.ecosystems.map(unstamp) }).toEqual({
      ...sa,
      newestModified: null,
      ecosystems: sa.ecosystems.map(unstamp),
    });
    const packages = new Set<string>();
    for (const d of ['ghsa-npm', 'pypa', 'debian-osv'])
      for (const { data } of await readJsonFiles(FIX + d))
        for (const x of (data.affected ?? []) as Json[])
          if (x.package) packages.add(`${x.package.ecosystem}\0${x.package.name}`);
    for (const p of [...packages, 'Alpine:v3.10\0openssl', 'Alpine:v3.10\0ansible', 'npm\0qs']) {
      const [eco, name] = p.split('\0') as [string, string];
      const strip = (cs: ReturnType<typeof a.lookup>) =>
        cs.map((c) => (c.origin === 'alpine-secdb' ? { ...c, modified: '' } : c));
      expect(strip(b.lookup(eco, name)), p).toEqual(strip(a.lookup(eco, name)));
      if (eco.startsWith('Alpine')) expect(a.lookup(eco, name).length, p).toBeGreaterThan(0);
    }
    a.close();
    b.close();
  });

  it.each([
    ['a missing input', async (_d: string) => ['/nonexistent/osv'], {}, UserInputError, /import input not found/],
    [
      'a zip over the inflated-size bound',
      async (d: string) => {
        const records = (await readJsonFiles(`${FIX}ghsa-npm`)).map((f) => f.data as { id: string });
        await writeFile(join(d, 'big.zip'), zipOfRecords(records));
        return [join(d, 'big.zip')];
      },
      { limits: { ...DEFAULT_LIMITS, maxZipBytes: 20_000 } },
      LimitExceededError,
      /inflates to more than 20000 bytes/,
    ],
    [
      'a truncated zip',
      async (d: string) => {
        const records = (await readJsonFiles(`${FIX}ghsa-npm`)).map((f) => f.data as { id: string });
        const z = zipOfRecords(records);
        await writeFile(join(d, 'cut.zip'), z.subarray(0, Math.floor(z.length * 0.6)));
        return [join(d, 'cut.zip')];
      },
      {},
      UserInputError,
      /not a readable zip/,
    ],
  ])('%s: the worker error keeps its class and the old DB stays', async (_what, make, opts, Cls, message) => {
    const dir = await tempDir();
    const path = join(dir, 'v.db');
    await importInputs(path, [`${FIX}debian-osv`], { thread: false });
    const err = await importInputs(path, await make(dir), { ...opts, thread: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Cls);
    expect((err as Error).message).toMatch(message);
    const db = openVulnDb(path);
    expect(db.status().records).toBe(5);
    expect(db.lookup('npm', 'lodash')).toEqual([]);
    db.close();
  });
});
