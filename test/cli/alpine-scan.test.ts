import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/core/types.js';
import { apk } from '../../src/vuln/versions/index.js';
import { palisade } from '../helpers/cli.js';

const fixtures = new URL('../fixtures/', import.meta.url).pathname;
const installed = join(fixtures, 'inventory/os/trivy/apk/happy-path/rootfs/lib/apk/db/installed');
const secdb = join(fixtures, 'vuln/db/alpine-secdb');
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'palisade-alpine-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

interface SecdbFile {
  packages: { pkg: { name: string; secfixes: Record<string, string[] | null> } }[];
}

describe('Alpine: secdb records against an apk inventory', () => {
  it('an Alpine 3.4 root filesystem gets exactly the secfixes newer than each installed origin version', async () => {
    // A real apk database (Trivy's analyzer fixture, Alpine 3.4-era packages) in a root filesystem that says 3.4.
    const root = join(work, 'rootfs');
    mkdirSync(join(root, 'lib/apk/db'), { recursive: true });
    mkdirSync(join(root, 'etc'));
    copyFileSync(installed, join(root, 'lib/apk/db/installed'));
    writeFileSync(
      join(root, 'etc/os-release'),
      'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.4.6\nPRETTY_NAME="Alpine Linux v3.4"\n',
    );
    writeFileSync(join(root, 'etc/alpine-release'), '3.4.6\n');
    const db = join(work, 'alpine.db');
    expect((await palisade(['db', 'import', '--db', db, secdb, '--quiet'])).code).toBe(0);

    // The expected set, straight from the secdb files of v3.4: installed < fixed, per origin.
    const pkgs: { name: string; version: string; origin: string }[] = [];
    for (const stanza of readFileSync(installed, 'utf8').split(/\n\s*\n/)) {
      const f = Object.fromEntries(
        stanza
          .split('\n')
          .filter((l) => l[1] === ':')
          .map((l) => [l[0], l.slice(2)]),
      );
      if (f.P && f.V) pkgs.push({ name: f.P, version: f.V, origin: f.o ?? f.P });
    }
    const fixes = new Map<string, { fixed: string; ids: string[] }[]>();
    for (const repo of ['main', 'community']) {
      let doc: SecdbFile;
      try {
        doc = JSON.parse(readFileSync(join(secdb, 'v3.4', `${repo}.json`), 'utf8'));
      } catch {
        continue;
      }
      for (const { pkg } of doc.packages) {
        for (const [fixed, ids] of Object.entries(pkg.secfixes ?? {})) {
          const list = fixes.get(pkg.name) ?? [];
          list.push({ fixed, ids: (ids ?? []).map((id) => id.split(' ')[0]!) });
          fixes.set(pkg.name, list);
        }
      }
    }
    const expected = new Set<string>();
    for (const p of pkgs) {
      for (const { fixed, ids } of fixes.get(p.origin) ?? []) {
        if (fixed !== '0' && apk.valid(p.version) && apk.compare(p.version, fixed) < 0)
          for (const id of ids) expected.add(`${p.name} ${id}`);
      }
    }
    expect(expected.size).toBeGreaterThan(10);

    const r = await palisade(['scan', `dir:${root}`, '--db', db, '--scanners', 'vuln', '--format', 'json', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const findings = (JSON.parse(r.stdout) as { findings: Finding[] }).findings;
    const reported = new Set<string>();
    for (const f of findings) {
      expect(f.ecosystem).toBe('Alpine:v3.4');
      const pkgName = String(f.package);
      for (const id of [f.id, ...((f.aliases as string[]) ?? [])])
        if (/^CVE-/.test(id)) reported.add(`${pkgName} ${id}`);
    }
    expect([...reported].sort()).toEqual([...expected].sort());
  });
});
