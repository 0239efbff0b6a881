import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  compareSeverity,
  type OsvSeveritySource,
  parseCvss,
  recordSeverity,
  type Severity,
  severityFromScore,
  severityFromText,
} from '../../../src/vuln/cvss.js';

describe('CVSS vectors', () => {
  // Examples from the FIRST specification documents and NVD's published base scores.
  it.each([
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', '3.1', 9.8, 'CRITICAL'],
    ['CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:H', '3.1', 7.4, 'HIGH'],
    ['CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', '3.0', 6.1, 'MEDIUM'],
    ['CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', '3.0', 7.5, 'HIGH'],
    ['CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N', '3.1', 0, 'NONE'],
    ['AV:N/AC:L/Au:N/C:P/I:N/A:N', '2.0', 5, 'MEDIUM'],
    ['AV:N/AC:L/Au:N/C:C/I:C/A:C', '2.0', 10, 'HIGH'],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', '4.0', 9.3, 'CRITICAL'],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N', '4.0', 8.7, 'HIGH'],
  ])('%s scores %s/%s', (vector, version, score, severity) => {
    const c = parseCvss(vector);
    expect(c).toMatchObject({ version, score, baseScore: score, severity });
  });

  it('keeps v3 temporal metrics out of the base score, and v4 threat metrics in the vector score', () => {
    expect(parseCvss('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U')).toMatchObject({ score: 9.8, baseScore: 9.8 });
    const v4 = parseCvss('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:L/SC:N/SI:N/SA:L/E:P');
    expect(v4).toMatchObject({ baseScore: 6.9, score: 5.5, severity: 'MEDIUM' });
  });

  it.each([
    ['', 'empty'],
    ['garbage', 'not a vector'],
    ['CVSS:3.1/AV:N', 'missing base metrics'],
    ['CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'a base metric left unset'],
    ['CVSS:3.1/AV:N/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'a metric twice'],
    ['CVSS:9.9/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'an unknown version'],
    [`CVSS:3.1/${'AV:N/'.repeat(200)}`, 'too long'],
  ])('rejects %j (%s)', (vector) => {
    expect(parseCvss(vector)).toBeNull();
  });

  it('bands scores as CVSS v3/v4 and v2 define them', () => {
    expect([0, 0.1, 3.9, 4, 6.9, 7, 8.9, 9, 10].map((s) => severityFromScore(s, '3.1'))).toEqual([
      'NONE',
      'LOW',
      'LOW',
      'MEDIUM',
      'MEDIUM',
      'HIGH',
      'HIGH',
      'CRITICAL',
      'CRITICAL',
    ]);
    expect([0, 3.9, 4, 6.9, 7, 10].map((s) => severityFromScore(s, '2.0'))).toEqual([
      'LOW',
      'LOW',
      'MEDIUM',
      'MEDIUM',
      'HIGH',
      'HIGH',
    ]);
  });
});

describe('record severity on real advisories', () => {
  const root = new URL('../../fixtures/vuln/osv/ghsa-npm/', import.meta.url);
  const ghsa = readdirSync(root).flatMap((d) =>
    readdirSync(new URL(`${d}/`, root)).map(
      (f) =>
        JSON.parse(readFileSync(new URL(`${d}/${f}`, root), 'utf8')) as OsvSeveritySource & {
          id: string;
          withdrawn?: string;
          database_specific?: { severity?: string };
        },
    ),
  );

  it("matches GitHub's own rating for every reviewed GHSA record (46 records)", () => {
    expect(ghsa).toHaveLength(46);
    const mismatches: string[] = [];
    let fromVectors = 0;
    for (const r of ghsa.filter((x) => !x.withdrawn)) {
      const got = recordSeverity(r);
      if (got.source === 'cvss') fromVectors++;
      const want = severityFromText(r.database_specific?.severity);
      if (got.severity !== want) mismatches.push(`${r.id} ${got.severity} vs ${want}`);
    }
    expect(fromVectors).toBe(33);
    // GitHub rated this one by its v4 vector (2.1 LOW) while its v3.1 vector scores 4.7; we
    // prefer v3.x, which matches GitHub's rating on every other record with both.
    expect(mismatches).toEqual(['GHSA-jj78-5fmv-mv28 MEDIUM vs LOW']);
  });

  it('uses an Ubuntu priority when there is no vector, before database_specific text', () => {
    expect(
      recordSeverity({ severity: [{ type: 'Ubuntu', score: 'medium' }], database_specific: { severity: 'HIGH' } }),
    ).toMatchObject({ severity: 'MEDIUM', source: 'severity' });
    expect(
      recordSeverity({
        severity: [
          { type: 'Ubuntu', score: 'low' },
          { type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' },
        ],
      }),
    ).toMatchObject({ severity: 'CRITICAL', source: 'cvss' });
  });

  it('sorts severities most severe first', () => {
    const list: Severity[] = ['LOW', 'UNKNOWN', 'CRITICAL', 'NONE', 'MEDIUM', 'HIGH'];
    expect(list.sort(compareSeverity)).toEqual(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'NONE', 'UNKNOWN']);
  });

  it('falls back to database_specific, then ecosystem_specific severity text', () => {
    expect(recordSeverity({ database_specific: { severity: 'MODERATE' } })).toMatchObject({
      severity: 'MEDIUM',
      source: 'database_specific',
    });
    expect(recordSeverity({ affected: [{ ecosystem_specific: { urgency: 'unimportant' } }] })).toMatchObject({
      severity: 'LOW',
      source: 'ecosystem_specific',
    });
    expect(recordSeverity({ severity: [{ type: 'CVSS_V3', score: 'nonsense' }] })).toMatchObject({
      severity: 'UNKNOWN',
      source: 'none',
    });
  });

  it('scores all 202 CVSS v3 vectors of the PyPA records', () => {
    const pypa = JSON.parse(
      readFileSync(new URL('../../fixtures/vuln/osv/pypa-affected.json', import.meta.url), 'utf8'),
    ) as OsvSeveritySource[];
    const vectors = pypa.flatMap((r) => r.severity ?? []);
    expect(vectors).toHaveLength(202);
    for (const v of vectors) {
      const c = parseCvss(v.score!);
      expect(c, v.score).not.toBeNull();
      expect(c!.severity).toBe(severityFromScore(c!.score, c!.version));
      expect(c!.vector.startsWith(v.score!.slice(0, 8))).toBe(true);
    }
  });
});
