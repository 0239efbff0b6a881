import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LimitExceededError, UserInputError } from '../../../src/core/errors.js';
import { DEFAULT_LIMITS, importInputs, openVulnDb } from '../../../src/vuln/db/index.js';
import { FIX, jsonFiles, makeZip, tempDir } from './helpers.js';

describe('db import of OSV all.zip files', () => {
  let dir: string;
  let entries: Array<{ name: string; data: Buffer }>;

  beforeAll(async () => {
    dir = await tempDir();
    entries = await Promise.all(
      (await jsonFiles(`${FIX}ghsa-npm`)).map(async (p) => ({ name: p.split('/').pop()!, data: await readFile(p) })),
    );
  });

  it('imports a zip exactly as the same records from a directory', async () => {
    const zip = join(dir, 'all.zip');
    await writeFile(zip, makeZip(entries));
    const fromZip = await importInputs(join(dir, 'z.db'), [zip]);
    const fromDir = await importInputs(join(dir, 'd.db'), [`${FIX}ghsa-npm`]);
    expect(fromZip.documents).toBe(46);
    expect({ ...fromZip, seconds: 0, warnings: [] }).toEqual({ ...fromDir, seconds: 0, warnings: [] });
    const a = openVulnDb(join(dir, 'z.db'));
    const b = openVulnDb(join(dir, 'd.db'));
    for (const pkg of ['lodash', 'qs', 'express', 'minimist'])
      expect(a.lookup('npm', pkg)).toEqual(b.lookup('npm', pkg));
    a.close();
    b.close();
  });

  it('recognises a zip named otherwise by its magic', async () => {
    const zip = join(dir, 'download.bin');
    await writeFile(zip, makeZip(entries.slice(0, 5)));
    const r = await importInputs(join(dir, 'm.db'), [zip]);
    expect(r.documents).toBe(5);
  });

  it('reads zips found while walking a directory, next to JSON files', async () => {
    const sub = join(dir, 'mixed');
    await mkdir(join(sub, 'deeper'), { recursive: true });
    await writeFile(join(sub, 'deeper', 'npm.zip'), makeZip(entries.slice(0, 4)));
    await writeFile(join(sub, 'one.json'), entries[10]!.data);
    await writeFile(join(sub, 'notes.txt'), 'not imported');
    const r = await importInputs(join(dir, 'mixed.db'), [sub]);
    expect(r.documents).toBe(5);
    expect(r.skipped).toBe(0);
  });

  it('skips an entry that would inflate beyond the per-document bound, with a warning', async () => {
    const zip = join(dir, 'bomb-entry.zip');
    const bomb = { name: 'bomb.json', data: Buffer.alloc(2 * 1024 * 1024, 0x20) };
    await writeFile(zip, makeZip([bomb, ...entries.slice(0, 3)]));
    const r = await importInputs(join(dir, 'b1.db'), [zip], {
      limits: { ...DEFAULT_LIMITS, maxDocumentBytes: 1024 * 1024 },
    });
    expect(r.skipped).toBe(1);
    expect(r.warnings[0]).toMatch(/bomb-entry\.zip!bomb\.json: larger than 1048576 bytes; skipped/);
    expect(r.inserted).toBe(3);
  });

  it('refuses a zip whose total inflated size exceeds the bound and leaves the old DB as it was', async () => {
    const path = join(dir, 'b2.db');
    await importInputs(path, [`${FIX}debian-osv`]);
    const zip = join(dir, 'bomb-total.zip');
    await writeFile(zip, makeZip(entries));
    const limits = { ...DEFAULT_LIMITS, maxZipBytes: 20_000 };
    await expect(importInputs(path, [zip], { limits })).rejects.toBeInstanceOf(LimitExceededError);
    const db = openVulnDb(path);
    expect(db.status().records).toBe(5);
    db.close();
  });

  it.each([
    ['a truncated zip', (z: Buffer) => z.subarray(0, Math.floor(z.length * 0.6)), /not a readable zip/],
    ['a zip with a wrong CRC-32', null, /CRC-32 mismatch/],
  ])('%s is an error and the old DB stays', async (_name, cut, message) => {
    const path = join(dir, `bad-${_name.length}.db`);
    await importInputs(path, [`${FIX}debian-osv`]);
    const full = makeZip(entries.map((e, i) => ({ ...e, badCrc: cut === null && i === 7 })));
    const zip = join(dir, `bad-${_name.length}.zip`);
    await writeFile(zip, cut ? cut(full) : full);
    const err = await importInputs(path, [zip]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserInputError);
    expect((err as Error).message).toMatch(message);
    const db = openVulnDb(path);
    expect(db.status().records).toBe(5);
    expect(db.lookup('npm', 'lodash')).toEqual([]);
    db.close();
  });
});
