import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import semver from 'semver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/core/types.js';
import { palisade } from '../helpers/cli.js';
import { errorsOf, schemas } from '../helpers/schemas.js';
import { testImage } from '../helpers/test-images.js';

const fixtures = new URL('../fixtures/vuln/db/', import.meta.url).pathname;
let work: string;
let db: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'palisade-vulnscan-'));
  db = join(work, 'vuln.db');
  const r = await palisade(['db', 'import', '--db', db, join(fixtures, 'ghsa-npm'), join(fixtures, 'debian-osv')]);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function scan(target: string, ...flags: string[]) {
  const r = await palisade(['scan', target, '--scanners', 'vuln', '--format', 'json', '-q', ...flags]);
  return {
    code: r.code,
    stderr: r.stderr,
    json: r.stdout ? (JSON.parse(r.stdout) as { findings: Finding[] }) : undefined,
  };
}

interface OsvRecord {
  id: string;
  withdrawn?: string;
  aliases?: string[];
  affected: {
    package: { ecosystem: string; name: string };
    ranges?: { type: string; events: Record<string, string>[] }[];
    versions?: string[];
  }[];
}

/** An independent oracle: node-semver over the OSV events (introduced/fixed/last_affected) and version lists. */
function affectedBySemver(record: OsvRecord, name: string, version: string): boolean {
  return record.affected.some((a) => {
    if (a.package.ecosystem !== 'npm' || a.package.name !== name) return false;
    if (a.versions?.includes(version)) return true;
    return (a.ranges ?? []).some((r) => {
      if (r.type !== 'SEMVER' && r.type !== 'ECOSYSTEM') return false;
      const events = r.events;
      const parts: string[] = [];
      let lower: string | undefined;
      for (const e of events) {
        if (e.introduced !== undefined) lower = e.introduced === '0' ? '0.0.0-0' : e.introduced;
        else if (e.fixed !== undefined && lower) {
          parts.push(`>=${lower} <${e.fixed}`);
          lower = undefined;
        } else if (e.last_affected !== undefined && lower) {
          parts.push(`>=${lower} <=${e.last_affected}`);
          lower = undefined;
        }
      }
      if (lower) parts.push(`>=${lower}`);
      return parts.some((range) => semver.satisfies(version, range, { includePrerelease: true }));
    });
  });
}

describe('palisade scan: vulnerabilities from real GHSA records', () => {
  it('the npm test image: every advisory covering an installed version is reported, none outside the ranges', async () => {
    const sbom = JSON.parse(
      (await palisade(['sbom', `oci:${testImage('npm-app')}/oci:app`, '--format', 'json', '-q'])).stdout,
    ) as {
      packages: { ecosystem: string; name: string; version: string }[];
    };
    const installed = sbom.packages.filter((p) => p.ecosystem === 'npm');
    const records: OsvRecord[] = [];
    for (const dir of readdirSync(join(fixtures, 'ghsa-npm'))) {
      for (const f of readdirSync(join(fixtures, 'ghsa-npm', dir))) {
        records.push(JSON.parse(readFileSync(join(fixtures, 'ghsa-npm', dir, f), 'utf8')));
      }
    }
    const expected = new Set<string>();
    for (const rec of records.filter((r) => !r.withdrawn)) {
      for (const p of installed)
        if (affectedBySemver(rec, p.name, p.version)) expected.add(`${p.name}@${p.version} ${rec.id}`);
    }
    expect(expected.size).toBeGreaterThan(15);
    const { code, json } = await scan(`oci:${testImage('npm-app')}/oci:app`, '--db', db);
    expect(code).toBe(0);
    const reported = new Set<string>();
    for (const f of json!.findings) {
      for (const id of [f.id, ...((f.aliases as string[]) ?? [])])
        reported.add(`${f.package}@${f.installedVersion} ${id}`);
    }
    for (const e of expected) expect(reported, e).toContain(e);
    // Nothing beyond the oracle: every finding's own id is an expected advisory.
    for (const f of json!.findings)
      expect(expected, `${f.package}@${f.installedVersion} ${f.id}`).toContain(
        `${f.package}@${f.installedVersion} ${f.id}`,
      );
    // The examples, with their fixes.
    const lodash = json!.findings.filter((f) => f.package === 'lodash').map((f) => f.id);
    expect(lodash).toContain('GHSA-35jh-r3h4-6jhm');
    expect(json!.findings.find((f) => f.id === 'GHSA-xvch-5gv4-984h')).toMatchObject({
      package: 'minimist',
      installedVersion: '1.2.0',
      fixedVersion: '1.2.6',
      severity: 'CRITICAL',
      nist: '3.1.1',
    });
    // Withdrawn records never appear.
    for (const id of ['GHSA-8p5q-j9m2-g8wr', 'GHSA-27h2-hvpr-p74q', 'GHSA-pj86-cfqh-vqx6'])
      expect(reported).not.toContain(id);
  });

  it('--fail-on high fails the scan (exit 1); CycloneDX with vulnerabilities and SARIF validate', async () => {
    const target = `oci:${testImage('npm-app')}/oci:app`;
    expect((await scan(target, '--db', db, '--fail-on', 'high')).code).toBe(1);
    const cdx = JSON.parse(
      (await palisade(['scan', target, '--db', db, '--scanners', 'vuln', '--format', 'cyclonedx', '-q'])).stdout,
    );
    const vc = schemas.cyclonedx();
    expect(vc(cdx), errorsOf(vc)).toBe(true);
    expect(cdx.vulnerabilities.length).toBeGreaterThan(15);
    const refs = new Set(cdx.components.map((c: { 'bom-ref': string }) => c['bom-ref']));
    for (const v of cdx.vulnerabilities) for (const a of v.affects) expect(refs).toContain(a.ref);
    const sarif = JSON.parse(
      (await palisade(['scan', target, '--db', db, '--scanners', 'vuln', '--format', 'sarif', '-q'])).stdout,
    );
    const vs = schemas.sarif();
    expect(vs(sarif), errorsOf(vs)).toBe(true);
  });
});

describe('palisade scan: Debian backports are matched by source package and source version', () => {
  it('a fixed version equal to the installed (backported) one: no finding; a higher one: a finding', async () => {
    const dir = testImage('debian');
    const status = readFileSync(join(dir, 'rootfs/var/lib/dpkg/status'), 'utf8');
    const stanza = status.split('\n\n').find((s) => s.startsWith('Package: bash\n'))!;
    const source = /^Source: (\S+)(?: \((.+)\))?$/m.exec(stanza);
    const version = /^Version: (.+)$/m.exec(stanza)![1]!;
    const srcName = source?.[1] ?? 'bash';
    const srcVersion = source?.[2] ?? version;
    const record = (id: string, fixed: string) => ({
      schema_version: '1.6.0',
      id,
      modified: '2026-11-01T00:00:00Z',
      summary: `${srcName} test advisory`,
      affected: [
        {
          package: { ecosystem: 'Debian:12', name: srcName },
          ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }],
        },
      ],
    });
    const recs = join(work, 'debian');
    await import('node:fs/promises').then((fs) => fs.mkdir(recs));
    await writeFile(join(recs, 'a.json'), JSON.stringify(record('DEBIAN-TEST-BACKPORTED', srcVersion)));
    await writeFile(join(recs, 'b.json'), JSON.stringify(record('DEBIAN-TEST-NEWER', `${srcVersion}+deb12u1`)));
    const dbPath = join(work, 'debian.db');
    expect((await palisade(['db', 'import', '--db', dbPath, recs])).code).toBe(0);
    const { json } = await scan(`oci:${dir}/oci:bookworm`, '--db', dbPath);
    expect(json!.findings.map((f) => [f.id, f.package, f.installedVersion, f.fixedVersion])).toEqual([
      ['DEBIAN-TEST-NEWER', 'bash', version, `${srcVersion}+deb12u1`],
    ]);
  });
});

describe('palisade scan: SBOM input, ignore files and VEX', () => {
  it('scanning our CycloneDX SBOM gives the same findings as scanning the image', async () => {
    const target = `oci:${testImage('npm-app')}/oci:app`;
    const sbomFile = join(work, 'app.cdx.json');
    expect((await palisade(['sbom', target, '-q', '-o', sbomFile])).code).toBe(0);
    const fromImage = (await scan(target, '--db', db)).json!.findings.map((f) => `${f.package} ${f.id}`).sort();
    const fromSbom = (await scan(`sbom:${sbomFile}`, '--db', db))
      .json!.findings.map((f) => `${f.package} ${f.id}`)
      .sort();
    expect(fromSbom.length).toBeGreaterThan(15);
    expect(fromSbom).toEqual(fromImage);
  });

  it('an ignore file and OpenVEX suppress with their reasons; an expired entry warns and stops suppressing', async () => {
    const target = `oci:${testImage('npm-app')}/oci:app`;
    const supp = new URL('../fixtures/vuln/suppress/', import.meta.url).pathname;
    const all = (await scan(target, '--db', db)).json!.findings;
    const r = await palisade([
      'scan',
      target,
      '--db',
      db,
      '--scanners',
      'vuln',
      '--format',
      'json',
      '--ignore-file',
      join(supp, 'ignore-npm-app.yaml'),
      '--vex',
      join(supp, 'openvex-npm-app.json'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      findings: Finding[];
      suppressed: { id: string; by: string; reason: string }[];
      warnings: string[];
    };
    expect(out.suppressed.length).toBeGreaterThan(0);
    expect(out.findings.length + out.suppressed.length).toBe(all.length);
    for (const s of out.suppressed) expect(s.reason.length).toBeGreaterThan(0);
    expect(out.suppressed.some((s) => s.by === 'vex')).toBe(true);
    expect(out.suppressed.some((s) => s.by === 'ignore')).toBe(true);
    expect(out.warnings.join('\n')).toMatch(/expired/);
  });
});

describe('palisade scan: the vulnerability DB', () => {
  it('no DB: exit 2 with the two commands that fix it', async () => {
    const r = await palisade([
      'scan',
      `oci:${testImage('debian')}/oci:bookworm`,
      '--db',
      join(work, 'missing.db'),
      '-q',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('palisade db update');
    expect(r.stderr).toContain('palisade db import');
  });
});
