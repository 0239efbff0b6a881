import { copyFile, open, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserInputError } from '../../../src/core/errors.js';
import { defaultDbPath, importInputs, openVulnDb, SCHEMA_VERSION } from '../../../src/vuln/db/index.js';
import { FIX, tempDir } from './helpers.js';

const HINT = 'run `palisade db update` or `palisade db import`';

/** The tables of schema version 1, as palisade wrote them before version 2 moved record fields into `affected`. */
const SCHEMA_V1 = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE records (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, modified TEXT NOT NULL, published TEXT,
  summary TEXT, aliases TEXT NOT NULL, upstream TEXT NOT NULL, severity TEXT NOT NULL, db_severity TEXT,
  refs TEXT NOT NULL, origin TEXT NOT NULL);
CREATE TABLE affected (record INTEGER NOT NULL REFERENCES records(rowid), eco_base TEXT NOT NULL, name TEXT NOT NULL,
  ecosystem TEXT NOT NULL, entries TEXT NOT NULL);
CREATE TABLE aliases (alias TEXT NOT NULL, record INTEGER NOT NULL REFERENCES records(rowid));
CREATE TABLE ecosystems (ecosystem TEXT PRIMARY KEY, records INTEGER NOT NULL, newest_modified TEXT) WITHOUT ROWID;
`;

describe('opening a bad DB gives one clear UserInputError naming the fix', () => {
  let dir: string;
  let good: string;

  beforeAll(async () => {
    dir = await tempDir();
    good = join(dir, 'good.db');
    await importInputs(good, [`${FIX}ghsa-npm`]);
  });

  async function variant(name: string, damage: (path: string) => Promise<void>): Promise<string> {
    const p = join(dir, name);
    await copyFile(good, p);
    await damage(p);
    return p;
  }

  const cases: Array<[string, (p: string) => Promise<void>, RegExp]> = [
    [
      'a missing file',
      async (p) => writeFile(p, '').then(() => import('node:fs/promises').then((f) => f.rm(p))),
      /no vulnerability DB at/,
    ],
    [
      'a file that is not SQLite',
      async (p) => writeFile(p, 'hello, not a database'.repeat(10)),
      /not a vulnerability DB \(not an SQLite file\)/,
    ],
    ['an empty file', async (p) => writeFile(p, ''), /not a vulnerability DB/],
    [
      'a half-written copy (truncated)',
      async (p) => truncate(p, Math.floor((await stat(p)).size / 2)),
      /truncated .*half-written/,
    ],
    [
      'a wrong schema version',
      async (p) => {
        const db = new Database(p);
        db.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
        db.close();
      },
      new RegExp(`schema version 99, this palisade reads ${SCHEMA_VERSION}`),
    ],
    [
      'a DB written by the previous schema (version 1: record fields in "records", no "head")',
      async (p) => {
        await writeFile(p, '');
        const db = new Database(p);
        db.exec(SCHEMA_V1);
        db.exec(`INSERT INTO meta VALUES ('format', 'palisade-vulndb'), ('schema_version', '1'), ('complete', '1')`);
        db.close();
      },
      new RegExp(`schema version 1, this palisade reads ${SCHEMA_VERSION}`),
    ],
    [
      'an import that never completed',
      async (p) => {
        const db = new Database(p);
        db.prepare("UPDATE meta SET value = '0' WHERE key = 'complete'").run();
        db.close();
      },
      /not completely written/,
    ],
    [
      'another SQLite file',
      async (p) => {
        await writeFile(p, '');
        const db = new Database(p);
        db.exec('CREATE TABLE t (x)');
        db.close();
      },
      /unreadable|not a palisade vulnerability DB/,
    ],
  ];

  it.each(cases)('%s', async (name, damage, message) => {
    const p = await variant(name.replace(/\W+/g, '-'), damage);
    let err: unknown;
    try {
      openVulnDb(p).close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserInputError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toContain(HINT);
  });

  it('a page of garbage inside the file is reported as damage at lookup time, not as an empty result', async () => {
    const p = await variant('garbage-pages', async (path) => {
      const size = (await stat(path)).size;
      const fh = await open(path, 'r+');
      // Overwrite everything after the first two pages (meta stays readable) with noise.
      const noise = Buffer.alloc(size - 8192, 0xa5);
      await fh.write(noise, 0, noise.length, 8192);
      await fh.close();
    });
    let err: unknown;
    try {
      const db = openVulnDb(p);
      db.lookup('npm', 'lodash');
      db.close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserInputError);
    expect((err as Error).message).toContain(HINT);
  });

  it('the shipped file is a rollback-journal DB (WAL off) and opens read-only', async () => {
    const bytes = await readFile(good);
    // Header bytes 18/19: file format write/read version, 1 = legacy (rollback journal), 2 = WAL.
    expect([bytes[18], bytes[19]]).toEqual([1, 1]);
    const db = openVulnDb(good);
    expect(db.lookup('npm', 'lodash').length).toBeGreaterThan(0);
    db.close();
  });
});

describe('default DB path', () => {
  it.each([
    [{ PALISADE_DB: '/x/y.db', XDG_CACHE_HOME: '/c' }, '/x/y.db'],
    [{ XDG_CACHE_HOME: '/c' }, '/c/palisade/vuln.db'],
    [{ HOME: '/h' }, /\/\.cache\/palisade\/vuln\.db$/],
  ])('%j -> %s', (env, want) => {
    const got = defaultDbPath(env as NodeJS.ProcessEnv);
    if (typeof want === 'string') expect(got).toBe(want);
    else expect(got).toMatch(want);
  });
});
