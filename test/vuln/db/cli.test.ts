import { execFile, spawn } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { importInputs, openVulnDb } from '../../../src/vuln/db/index.js';
import { FIX, REPO, tempDir, zipOfRecords } from './helpers.js';
import { syntheticRecords } from './synthetic.js';

const run = promisify(execFile);
const CLI = ['--import', 'tsx', join(REPO, 'src/cli/main.ts')];

async function palisade(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...CLI, ...args], {
      cwd: REPO,
      env: { ...process.env, PALISADE_DB: '', ...env },
      maxBuffer: 1 << 26,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('palisade db (CLI)', () => {
  it('status without a DB exits 2 naming both commands that fix it', async () => {
    const dir = await tempDir();
    const r = await palisade(['db', 'status'], { XDG_CACHE_HOME: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(join(dir, 'palisade', 'vuln.db'));
    expect(r.stderr).toContain('palisade db update');
    expect(r.stderr).toContain('palisade db import');
  });

  it('import reports counts and warnings; status prints per-ecosystem counts as JSON', async () => {
    const db = join(await tempDir(), 'v.db');
    const imp = await palisade(['db', 'import', '--db', db, `${FIX}ghsa-npm`, `${FIX}bad`]);
    expect(imp.code).toBe(0);
    expect(imp.stdout).toMatch(/inserted 44, replaced 0, unchanged 0, withdrawn \(dropped\) 3, skipped 6/);
    expect(imp.stderr.match(/^palisade: warning: /gm)).toHaveLength(6);
    const st = await palisade(['db', 'status', '--format', 'json'], { PALISADE_DB: db });
    expect(st.code).toBe(0);
    const s = JSON.parse(st.stdout);
    expect(s.records).toBe(44);
    expect(s.ecosystems.find((e: { ecosystem: string }) => e.ecosystem === 'npm').records).toBe(44); // 43 GHSA + OSV-GOOD-1
    expect(s.ageDays).toBe(0);
    const text = await palisade(['db', 'status', '--db', db]);
    expect(text.stdout).toMatch(/^npm\s+44\s+\d{4}-/m);
  });

  it.each([
    [['db', 'import', '--db', '/nonexistent-dir-x/v.db', '/nonexistent-input'], /import input not found/],
    [['db', 'update', '--db', 'x.db'], /no mirror/],
    [['db', 'status', '--format', 'yaml', '--db', 'x.db'], /--format must be text or json/],
    [['db', 'import', '--db', 'x.db'], /nothing to import/],
  ])('%j exits 2 with one line', async (args, message) => {
    const r = await palisade(args, { PALISADE_DB_MIRROR: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('export and import --bundle round-trip through the CLI', async () => {
    const dir = await tempDir();
    await importInputs(join(dir, 'a.db'), [`${FIX}debian-osv`]);
    expect((await palisade(['db', 'export', '--db', join(dir, 'a.db'), '--bundle', join(dir, 'b.tar')])).code).toBe(0);
    const r = await palisade(['db', 'import', '--db', join(dir, 'c.db'), '--bundle', join(dir, 'b.tar')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/5 records, sha256 [0-9a-f]{64} verified/);
  });
});

describe('an interrupted import leaves the old DB usable', () => {
  it('kill -9 of a child import mid-way: the old DB still opens and answers the same', async () => {
    const dir = await tempDir();
    const db = join(dir, 'vuln.db');
    await importInputs(db, [`${FIX}ghsa-npm`, `${FIX}debian-osv`]);
    const before = openVulnDb(db);
    const want = before.lookup('npm', 'lodash');
    const status = before.status();
    before.close();
    const big = join(dir, 'big.zip');
    await writeFile(big, zipOfRecords([...syntheticRecords(50_000, 7)]));

    const child = spawn(process.execPath, [...CLI, 'db', 'import', '--db', db, '--quiet', big], {
      cwd: REPO,
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code, signal) => r(signal ? null : code)));
    // Wait until the new generation exists beside the DB (the import is under way), give it a moment, then kill.
    const deadline = Date.now() + 120_000;
    while (!(await readdir(dir)).some((n) => n.startsWith('.vuln.db.') && n.endsWith('.tmp'))) {
      if (Date.now() > deadline) throw new Error('import never started writing');
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 1000));
    child.kill('SIGKILL');
    expect(await exited).toBeNull(); // killed, not finished

    const after = openVulnDb(db);
    expect(after.lookup('npm', 'lodash')).toEqual(want);
    expect(after.status()).toEqual(status);
    after.close();
    // And the next import still works on top of it.
    const again = await importInputs(db, [`${FIX}bad/good.json`]);
    expect(again.records).toBe(status.records + 1);
  }, 300_000);
});
