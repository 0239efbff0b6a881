import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding, Package } from '../../../src/core/types.js';
import { openImage } from '../../../src/image/index.js';
import { inventoryImage } from '../../../src/scan/index.js';
import { matchAffected, type OsvAffected } from '../../../src/vuln/affected.js';
import {
  applySuppressions,
  loadIgnoreFile,
  loadVex,
  parseIgnoreFile,
  parseVex,
  type SuppressionResult,
} from '../../../src/vuln/suppress/index.js';
import { testImage } from '../../helpers/test-images.js';

const fixtures = fileURLToPath(new URL('../../fixtures/vuln/', import.meta.url));
const NOW = new Date('2026-06-01T12:00:00Z');

/**
 * Findings as the matcher makes them: every real GHSA record (test/fixtures/vuln/osv/ghsa-npm) evaluated against
 * the npm packages the scan finds in the npm-app test image, withdrawn records left out as the DB does. 23 findings; the suppressions below are about them.
 */
async function npmAppFindings(): Promise<{ findings: Finding[]; packages: Map<string, Package> }> {
  const img = await openImage(`docker-archive:${join(testImage('npm-app'), 'image.docker.tar')}`);
  const inv = await inventoryImage(img).finally(() => img.close());
  const npm = inv.packages.filter((p) => p.type === 'npm');
  const findings: Finding[] = [];
  const root = join(fixtures, 'osv/ghsa-npm');
  for (const dir of readdirSync(root).sort()) {
    for (const file of readdirSync(join(root, dir)).sort()) {
      const rec = JSON.parse(readFileSync(join(root, dir, file), 'utf8')) as {
        id: string;
        aliases?: string[];
        summary?: string;
        affected: OsvAffected[];
        withdrawn?: string;
      };
      if (rec.withdrawn) continue; // the DB drops withdrawn records
      for (const p of npm.filter((x) => x.name === dir)) {
        const m = matchAffected(rec.affected, { ecosystem: p.ecosystem, name: p.name, version: p.version });
        if (!m) continue;
        findings.push({
          kind: 'vulnerability',
          id: rec.id,
          aliases: rec.aliases ?? [],
          severity: 'HIGH',
          title: rec.summary ?? rec.id,
          nist: '3.1.1',
          pci: ['6.3.1', '6.3.3', '11.3.1'],
          package: p.name,
          purl: p.purl,
          ecosystem: p.ecosystem,
          installedVersion: p.version,
          path: p.path,
        });
      }
    }
  }
  return { findings, packages: new Map(npm.map((p) => [p.purl, p])) };
}

function outcome(r: SuppressionResult, id: string): string {
  const s = r.suppressed.find((x) => x.finding.id === id);
  if (s) return `${s.by}:${s.justification ?? '-'}`;
  const k = r.kept.find((x) => x.id === id);
  if (!k) return 'missing';
  const vex = k.vex as { status: string } | undefined;
  return vex ? `kept:${vex.status}` : 'kept';
}

describe('applySuppressions on the npm-app image findings', () => {
  let findings: Finding[];
  let packages: Map<string, Package>;
  let result: SuppressionResult;

  beforeAll(async () => {
    ({ findings, packages } = await npmAppFindings());
    const ignore = await loadIgnoreFile(join(fixtures, 'suppress/ignore-npm-app.yaml'));
    const openvex = await loadVex(join(fixtures, 'suppress/openvex-npm-app.json'));
    const cdx = await loadVex(join(fixtures, 'suppress/cyclonedx-vex-npm-app.json'));
    result = applySuppressions(findings, packages, { ignore, vex: [openvex, cdx] }, NOW);
  });

  it('starts from the 23 findings the real advisories give for the image', () => {
    expect(findings).toHaveLength(23);
  });

  it.each([
    // ignore file
    ['GHSA-8cf7-32gw-wr33', 'ignore:-', 'by CVE alias and package name, before its expiry'],
    ['GHSA-qw6h-vgh9-j6wx', 'ignore:-', 'by versionless purl prefix and path glob'],
    ['GHSA-xxjr-mmjv-4gpg', 'ignore:-', 'by exact purl with version'],
    ['GHSA-f23m-r3pf-42rh', 'kept', 'entry expired on 2026-03-31: reported again'],
    ['GHSA-jj78-5fmv-mv28', 'kept', 'pkg:npm/express-session does not cover express'],
    ['GHSA-6rw7-vpxm-498p', 'kept', 'path glob opt/** does not cover srv/app'],
    // OpenVEX
    [
      'GHSA-35jh-r3h4-6jhm',
      'vex:vulnerable_code_not_in_execute_path',
      'not_affected via a subcomponent of the image product',
    ],
    ['GHSA-p6mc-m468-83gw', 'vex:-', 'fixed, versionless product purl in identifiers'],
    ['GHSA-29mw-wpgm-hmr9', 'kept', 'statement names lodash@4.17.21, not the installed 4.17.15'],
    ['GHSA-xvch-5gv4-984h', 'kept:affected', 'affected keeps the finding, annotated'],
    ['GHSA-vh95-rmgr-6w4m', 'kept:under_investigation', 'under_investigation keeps the finding, annotated'],
    ['GHSA-9wv6-86v2-598j', 'kept:affected', 'the later statement (affected) overrides an earlier not_affected'],
    [
      'GHSA-rhx6-c78j-4q9w',
      'vex:inline_mitigations_already_exist',
      'the later not_affected overrides an earlier affected',
    ],
    ['GHSA-m6fv-jmcg-4jfg', 'kept', 'a product that is only the image names no package'],
    // CycloneDX VEX
    ['GHSA-hrpp-h998-j3pp', 'vex:code_not_reachable', 'not_affected via a bom-ref of the VEX document'],
    ['GHSA-9vvw-cc9w-f27h', 'vex:-', 'false_positive via a BOM-Link to our SBOM bom-ref'],
    ['GHSA-qwph-4952-7xr6', 'vex:-', 'resolved via a purl ref'],
    ['GHSA-rv95-896h-c2vc', 'kept:affected', 'exploitable keeps the finding'],
    ['GHSA-pxg6-pf52-xh8x', 'kept:under_investigation', 'in_triage keeps the finding'],
    ['GHSA-qwcr-r2fm-qrc7', 'kept', 'ref to another version does not apply'],
    ['GHSA-cm22-4g7w-348p', 'kept', 'an unresolvable ref applies to nothing'],
    // untouched
    ['GHSA-hjrf-2m68-5959', 'kept', 'no entry or statement names it'],
  ])('%s → %s (%s)', (id, expected) => {
    expect(outcome(result, id)).toBe(expected);
  });

  it('suppresses exactly 9 and keeps 14; nothing is lost or duplicated', () => {
    expect(result.suppressed).toHaveLength(9);
    expect(result.kept).toHaveLength(14);
    const all = [...result.kept.map((f) => f.id), ...result.suppressed.map((s) => s.finding.id)].sort();
    expect(all).toEqual(findings.map((f) => f.id).sort());
  });

  it('suppressed findings carry reason, justification and source for the report', () => {
    const s = result.suppressed.find((x) => x.finding.id === 'GHSA-35jh-r3h4-6jhm')!;
    expect(s).toMatchObject({
      by: 'vex',
      reason: 'not_affected (vulnerable_code_not_in_execute_path): The service never calls _.template.',
      justification: 'vulnerable_code_not_in_execute_path',
    });
    expect(s.source).toMatch(/openvex-npm-app\.json: statement 1$/);
    const i = result.suppressed.find((x) => x.finding.id === 'GHSA-qw6h-vgh9-j6wx')!;
    expect(i.reason).toBe('redirects are not used');
    expect(i.source).toMatch(/ignore-npm-app\.yaml: entry 2 \(line 8\)$/);
    const c = result.suppressed.find((x) => x.finding.id === 'GHSA-9vvw-cc9w-f27h')!;
    expect(c.reason).toBe('false_positive: debug output is disabled in production.');
    expect(c.source).toMatch(/cyclonedx-vex-npm-app\.json: vulnerability v-debug$/);
  });

  it('annotations say what the VEX author said', () => {
    const k = result.kept.find((f) => f.id === 'GHSA-xvch-5gv4-984h')!;
    expect(k.vex).toEqual({
      status: 'affected',
      state: 'affected',
      detail: 'Upgrade minimist to 1.2.6 or later.',
      source: expect.stringMatching(/openvex-npm-app\.json: statement 4$/),
    });
    const e = result.kept.find((f) => f.id === 'GHSA-rv95-896h-c2vc')!;
    expect(e.vex).toMatchObject({ status: 'affected', state: 'exploitable', detail: 'Open redirect reachable.' });
  });

  it('warns about the expired entry (with its date) and the statements that name no package', () => {
    expect(result.warnings.filter((w) => /expired/.test(w))).toEqual([
      expect.stringMatching(
        /ignore-npm-app\.yaml: entry 4 \(line 17\): ignore of CVE-2026-2950 expired on 2026-03-31 and no longer suppresses \(it matches 1 finding\)$/,
      ),
    ]);
    expect(
      result.warnings.some((w) => /statement 10: product pkg:oci\/npm-app\?tag=latest names no package/.test(w)),
    ).toBe(true);
    expect(result.warnings.some((w) => /affects ref serve-static-somewhere names no package/.test(w))).toBe(true);
  });

  it('does not modify the findings it is given', () => {
    expect(findings.some((f) => 'vex' in f)).toBe(false);
  });

  it('before the expiry date the dated entry still suppresses, through the whole of its last day', () => {
    const ignore = parseIgnoreFile(readFileSync(join(fixtures, 'suppress/ignore-npm-app.yaml'), 'utf8'), 'i.yaml');
    const lastDay = applySuppressions(findings, packages, { ignore }, new Date('2026-03-31T23:59:59Z'));
    expect(outcome(lastDay, 'GHSA-f23m-r3pf-42rh')).toBe('ignore:-');
    expect(lastDay.warnings).toEqual([]);
    const nextDay = applySuppressions(findings, packages, { ignore }, new Date('2026-04-01T00:00:00Z'));
    expect(outcome(nextDay, 'GHSA-f23m-r3pf-42rh')).toBe('kept');
  });

  it('an ignore entry wins over a VEX statement for the same finding', () => {
    const ignore = parseIgnoreFile('ignore:\n  - id: CVE-2021-23337\n    reason: accepted risk\n', 'i.yaml');
    const vex = parseVex(readFileSync(join(fixtures, 'suppress/openvex-npm-app.json'), 'utf8'), 'v.json');
    const r = applySuppressions(findings, packages, { ignore, vex }, NOW);
    expect(r.suppressed.find((s) => s.finding.id === 'GHSA-35jh-r3h4-6jhm')).toMatchObject({
      by: 'ignore',
      reason: 'accepted risk',
    });
  });

  it('VEX applies only to vulnerability findings; ignore entries apply to any kind by id', () => {
    const secret: Finding = {
      kind: 'secret',
      id: 'aws-access-key-id',
      severity: 'CRITICAL',
      title: 'AWS access key',
      nist: '3.1.3',
      pci: ['3.5.1'],
      path: 'srv/app/config/test.env',
    };
    const ignore = parseIgnoreFile(
      'ignore:\n  - id: aws-access-key-id\n    paths: ["srv/app/config/*.env"]\n    reason: test fixture key, revoked\n',
      'i.yaml',
    );
    const r = applySuppressions([secret], packages, { ignore }, NOW);
    expect(r.suppressed.map((s) => s.finding.id)).toEqual(['aws-access-key-id']);
    const other = applySuppressions([{ ...secret, path: 'srv/app/config/sub/x.env' }], packages, { ignore }, NOW);
    expect(other.kept).toHaveLength(1);
  });

  it('without suppressions everything is kept unchanged', () => {
    const r = applySuppressions(findings, packages, {}, NOW);
    expect(r.kept).toEqual(findings);
    expect(r.suppressed).toEqual([]);
    expect(r.warnings).toEqual([]);
  });
});

describe('applySuppressions: which VEX statement wins', () => {
  const f: Finding = {
    kind: 'vulnerability',
    id: 'GHSA-35jh-r3h4-6jhm',
    aliases: ['CVE-2021-23337'],
    severity: 'HIGH',
    title: 't',
    nist: '3.1.1',
    pci: ['6.3.1'],
    purl: 'pkg:npm/lodash@4.17.15',
  };
  const doc = (statements: unknown[]) =>
    parseVex(
      JSON.stringify({
        '@context': 'https://openvex.dev/ns/v0.2.0',
        '@id': 'urn:uuid:1',
        author: 'a',
        timestamp: '2026-01-01T00:00:00Z',
        version: 1,
        statements,
      }),
      'v.json',
    );
  const st = (name: string, status: string, extra: Record<string, unknown> = {}) => ({
    vulnerability: { name },
    products: [{ '@id': 'pkg:npm/lodash@4.17.15' }],
    status,
    ...(status === 'not_affected' ? { justification: 'component_not_present' } : {}),
    ...(status === 'affected' ? { action_statement: 'upgrade' } : {}),
    ...extra,
  });
  const run = (...docs: ReturnType<typeof doc>[]) =>
    outcome(applySuppressions([f], new Map(), { vex: docs }, NOW), f.id);

  it.each([
    [
      'equal times: the later in file order, even when it names the alias',
      [st('GHSA-35jh-r3h4-6jhm', 'affected'), st('CVE-2021-23337', 'not_affected')],
      'vex:component_not_present',
    ],
    [
      'equal times, reversed',
      [st('CVE-2021-23337', 'not_affected'), st('GHSA-35jh-r3h4-6jhm', 'affected')],
      'kept:affected',
    ],
    [
      'an older statement later in the file loses',
      [
        st('CVE-2021-23337', 'affected', { timestamp: '2026-05-01T00:00:00Z' }),
        st('GHSA-35jh-r3h4-6jhm', 'fixed', { timestamp: '2026-04-01T00:00:00Z' }),
      ],
      'kept:affected',
    ],
    ['ids compare case-insensitively', [st('ghsa-35jh-r3h4-6jhm', 'fixed')], 'vex:-'],
  ])('%s', (_name, statements, expected) => {
    expect(run(doc(statements))).toBe(expected);
  });

  it('across documents, the later document wins at equal times', () => {
    expect(run(doc([st('CVE-2021-23337', 'fixed')]), doc([st('CVE-2021-23337', 'under_investigation')]))).toBe(
      'kept:under_investigation',
    );
  });

  it('a finding without a purl is never matched by VEX', () => {
    const { purl: _p, ...noPurl } = f;
    const r = applySuppressions([noPurl], new Map(), { vex: doc([st('CVE-2021-23337', 'fixed')]) }, NOW);
    expect(r.kept).toEqual([noPurl]);
  });
});
