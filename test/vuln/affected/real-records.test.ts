import { readdirSync, readFileSync } from 'node:fs';
import semverLib from 'semver';
import { describe, expect, it } from 'vitest';
import {
  ecosystemMatches,
  fixedVersions,
  isAffected,
  matchAffected,
  type OsvAffected,
} from '../../../src/vuln/affected.js';
import { npm } from '../../../src/vuln/versions/npm.js';
import { pep440 } from '../../../src/vuln/versions/pep440.js';

interface OsvRecord {
  id: string;
  withdrawn?: string;
  affected?: OsvAffected[];
}

const ghsaRoot = new URL('../../fixtures/vuln/osv/ghsa-npm/', import.meta.url);
const ghsa: OsvRecord[] = readdirSync(ghsaRoot).flatMap((dir) =>
  readdirSync(new URL(`${dir}/`, ghsaRoot)).map(
    (f) => JSON.parse(readFileSync(new URL(`${dir}/${f}`, ghsaRoot), 'utf8')) as OsvRecord,
  ),
);

/** An independent oracle: the npm range an entry's events describe, evaluated by node-semver. */
function oracleRange(a: OsvAffected): string {
  const parts: string[] = [];
  for (const r of a.ranges ?? []) {
    if (r.type !== 'ECOSYSTEM' && r.type !== 'SEMVER') continue;
    const ev = [...(r.events ?? [])];
    for (let i = 0; i < ev.length; i++) {
      const intro = ev[i]!.introduced;
      if (intro === undefined) continue;
      const end = ev[i + 1];
      const lower = intro === '0' ? '>=0.0.0-0' : `>=${intro}`;
      if (end?.fixed) parts.push(`${lower} <${end.fixed}`);
      else if (end?.last_affected) parts.push(`${lower} <=${end.last_affected}`);
      else parts.push(lower);
    }
  }
  return parts.join(' || ') || '<0.0.0-0';
}

/** Versions around every event: the event itself and its neighbours. */
function probes(a: OsvAffected): string[] {
  const out = new Set(['0.0.1', '1.2.0', '4.17.15', '4.17.21', '99.0.0']);
  for (const r of a.ranges ?? [])
    for (const e of r.events ?? [])
      for (const v of Object.values(e)) {
        const p = semverLib.parse(v);
        if (!p) continue;
        out.add(p.version);
        out.add(semverLib.inc(p, 'patch')!);
        if (p.patch > 0) out.add(`${p.major}.${p.minor}.${p.patch - 1}`);
        out.add(`${p.major}.${p.minor}.${p.patch}-rc.1`);
      }
  return [...out];
}

describe('OSV evaluation on real GitHub advisories (npm)', () => {
  it('has the 46 GHSA records', () => {
    expect(ghsa).toHaveLength(46);
  });

  it('agrees with node-semver on every npm entry at every event boundary', () => {
    let checked = 0;
    for (const rec of ghsa) {
      for (const a of rec.affected ?? []) {
        if (a.package?.ecosystem !== 'npm' || (a.versions?.length ?? 0) > 0) continue;
        const range = oracleRange(a);
        for (const v of probes(a)) {
          const want = semverLib.satisfies(v, range, { includePrerelease: true });
          expect(isAffected(v, a, npm), `${rec.id} ${a.package.name} ${v} vs ${range}`).toBe(want);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(500);
  });

  it('reports the advisories that cover lodash 4.17.15 and minimist 1.2.0, with their fixes', () => {
    const live = ghsa.filter((r) => !r.withdrawn);
    const hits = (name: string, version: string) =>
      live
        .map((r) => ({ id: r.id, m: matchAffected(r.affected ?? [], { ecosystem: 'npm', name, version }) }))
        .filter((x) => x.m !== null)
        .map((x) => `${x.id} fixed:${x.m!.fixed.join(',')}`)
        .sort();
    const lodash = hits('lodash', '4.17.15');
    // Prototype pollution in zipObjectDeep, fixed in 4.17.19 (CVE-2020-8203).
    expect(lodash).toContain('GHSA-p6mc-m468-83gw fixed:4.17.19');
    // Command injection in template, fixed in 4.17.21 (CVE-2021-23337).
    expect(lodash).toContain('GHSA-35jh-r3h4-6jhm fixed:4.17.21');
    const minimist = hits('minimist', '1.2.0');
    expect(minimist.some((h) => h.startsWith('GHSA-vh95-rmgr-6w4m'))).toBe(true);
    expect(minimist.some((h) => h.startsWith('GHSA-xvch-5gv4-984h'))).toBe(true);
    // A version past every fix is clear of the prototype-pollution records.
    expect(hits('lodash', '4.17.21').filter((h) => h.startsWith('GHSA-p6mc'))).toEqual([]);
  });

  it('does not match another package of the same record (lodash-es is not lodash)', () => {
    const rec = ghsa.find((r) => r.id === 'GHSA-p6mc-m468-83gw')!;
    const m = matchAffected(rec.affected!, { ecosystem: 'npm', name: 'lodash', version: '4.17.19' });
    expect(m).toBeNull();
    const es = matchAffected(rec.affected!, { ecosystem: 'npm', name: 'lodash-es', version: '4.17.19' });
    expect(es?.fixed).toEqual(['4.17.20']);
  });
});

describe('OSV evaluation on real PyPA advisories', () => {
  const pypa = JSON.parse(
    readFileSync(new URL('../../fixtures/vuln/osv/pypa-affected.json', import.meta.url), 'utf8'),
  ) as OsvRecord[];

  // The PyPA records list the affected releases alongside their ranges, computed upstream: a
  // large real membership table. Ranges alone must cover every listed version, and no `fixed`
  // version may be affected. The data itself disagrees in the cases below, where we follow the
  // OSV evaluation rules: listed pre-releases of 3.2/4.2 sort before `introduced: 3.2`/`4.2`;
  // PYSEC-2023-177 lists its own fixed version; PYSEC-2021-114 has overlapping intervals whose
  // sorted walk closes at fixed 2.11.6; two records re-open an interval at their fixed 3.1.1.
  const expectedDisagreements = [
    'fixed affected PYSEC-2022-236 3.1.1',
    'fixed affected PYSEC-2023-72 3.1.1',
    'listed not in range PYSEC-2021-114 2.11.6',
    'listed not in range PYSEC-2023-177 23.9.0',
    'listed not in range PYSEC-2023-177 23.9.0.post1',
    'listed not in range PYSEC-2023-61 3.2a1',
    'listed not in range PYSEC-2023-61 3.2b1',
    'listed not in range PYSEC-2023-61 3.2rc1',
    'listed not in range PYSEC-2023-61 4.2a1',
    'listed not in range PYSEC-2023-61 4.2b1',
    'listed not in range PYSEC-2023-61 4.2rc1',
  ];

  it('covers all 140,846 listed versions by ranges alone and clears the 4,917 fixed ones', () => {
    expect(pypa).toHaveLength(2661);
    let listed = 0;
    let fixed = 0;
    const disagreements: string[] = [];
    for (const rec of pypa) {
      for (const a of rec.affected ?? []) {
        if (!(a.ranges ?? []).some((r) => r.type === 'ECOSYSTEM')) continue;
        const rangesOnly: OsvAffected = { ...a, versions: [] };
        for (const v of a.versions ?? []) {
          listed++;
          if (!isAffected(v, rangesOnly, pep440)) disagreements.push(`listed not in range ${rec.id} ${v}`);
        }
        for (const r of a.ranges ?? [])
          for (const e of r.type === 'ECOSYSTEM' ? (r.events ?? []) : [])
            if (e.fixed !== undefined) {
              fixed++;
              if (isAffected(e.fixed, rangesOnly, pep440)) disagreements.push(`fixed affected ${rec.id} ${e.fixed}`);
            }
      }
    }
    expect(listed).toBe(140846);
    expect(fixed).toBe(4917);
    expect([...new Set(disagreements)].sort()).toEqual(expectedDisagreements);
  });
});

describe('OSV range rules', () => {
  const entry = (events: object[], versions?: string[]): OsvAffected => ({
    package: { ecosystem: 'npm', name: 'p' },
    ranges: [{ type: 'SEMVER', events }],
    ...(versions ? { versions } : {}),
  });

  it.each([
    ['limit caps the range', [{ introduced: '0' }, { limit: '2.0.0' }], '2.0.0', false],
    ['below the limit is affected', [{ introduced: '0' }, { limit: '2.0.0' }], '1.9.9', true],
    ['limit "*" caps nothing', [{ introduced: '1.0.0' }, { limit: '*' }], '9.0.0', true],
    ['last_affected itself is affected', [{ introduced: '1.0.0' }, { last_affected: '1.4.0' }], '1.4.0', true],
    ['just after last_affected is not', [{ introduced: '1.0.0' }, { last_affected: '1.4.0' }], '1.4.1', false],
    ['the fixed version is not affected', [{ introduced: '1.0.0' }, { fixed: '1.4.0' }], '1.4.0', false],
    ['before introduced is not affected', [{ introduced: '1.0.0' }, { fixed: '1.4.0' }], '0.9.0', false],
  ])('%s', (_name, events, version, want) => {
    expect(isAffected(version, entry(events), npm)).toBe(want);
  });

  it('ignores GIT ranges when judging package versions', () => {
    const a: OsvAffected = {
      package: { ecosystem: 'npm', name: 'p' },
      ranges: [{ type: 'GIT', repo: 'https://example.invalid/r', events: [{ introduced: '0' }] }],
    };
    expect(isAffected('1.0.0', a, npm)).toBe(false);
  });

  it('names the fixed version of the interval holding the version, and none for last_affected', () => {
    const a = entry([{ introduced: '0' }, { fixed: '1.0.1' }, { introduced: '2.0.0' }, { fixed: '2.3.0' }]);
    expect(fixedVersions('0.5.0', a, npm)).toEqual(['1.0.1']);
    expect(fixedVersions('2.1.0', a, npm)).toEqual(['2.3.0']);
    expect(fixedVersions('1.5.0', a, npm)).toEqual([]);
    expect(fixedVersions('1.0.0', entry([{ introduced: '0' }, { last_affected: '1.0.0' }]), npm)).toEqual([]);
    const none = matchAffected([entry([{ introduced: '0' }])], { ecosystem: 'npm', name: 'p', version: '3.0.0' });
    expect(none?.fixed).toEqual([]);
    expect(none?.reason).toMatch(/no fixed version known/);
  });

  it('matches PyPI names after PEP 503 normalisation, npm names exactly', () => {
    const py: OsvAffected = {
      package: { ecosystem: 'PyPI', name: 'Zope.Interface' },
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }],
    };
    expect(matchAffected([py], { ecosystem: 'PyPI', name: 'zope-interface', version: '5.0' })).not.toBeNull();
    expect(matchAffected([entry([{ introduced: '0' }])], { ecosystem: 'npm', name: 'P', version: '1.0.0' })).toBeNull();
  });

  it('scopes distro ecosystems by release: Debian:12 records do not apply to Debian:11', () => {
    const deb: OsvAffected = {
      package: { ecosystem: 'Debian:12', name: 'bash' },
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '5.2.15-2' }] }],
    };
    expect(matchAffected([deb], { ecosystem: 'Debian:12', name: 'bash', version: '5.2.15-1' })).not.toBeNull();
    expect(matchAffected([deb], { ecosystem: 'Debian:11', name: 'bash', version: '5.1-2' })).toBeNull();
    // A backported fix equal to the installed version raises nothing; a lower one does.
    expect(matchAffected([deb], { ecosystem: 'Debian:12', name: 'bash', version: '5.2.15-2' })).toBeNull();
  });

  it('treats an unreadable installed version as matching only an identical listed version', () => {
    const a = entry([{ introduced: '0' }], ['not-a-version']);
    expect(isAffected('not-a-version', a, npm)).toBe(true);
    expect(isAffected('also not one', a, npm)).toBe(false);
  });
});

describe('ecosystem scoping', () => {
  it.each([
    ['Debian:12', 'Debian:12', true],
    ['Debian:12', 'Debian:11', false],
    ['Debian:12', 'Debian:1', false],
    ['Debian', 'Debian:12', true],
    ['Debian:12', 'Debian', true],
    ['Alpine:v3.19', 'Alpine:v3.19', true],
    ['Alpine:v3.19', 'Alpine:v3.1', false],
    ['Ubuntu:Pro:22.04:LTS', 'Ubuntu:22.04:LTS', false],
    ['Red Hat:enterprise_linux:9::appstream', 'Red Hat:enterprise_linux:9', true],
    ['Red Hat:enterprise_linux:8::appstream', 'Red Hat:enterprise_linux:9', false],
    ['PyPI', 'npm', false],
  ])('record %s vs query %s -> %s', (record, query, want) => {
    expect(ecosystemMatches(record, query)).toBe(want);
  });
});

describe('malformed affected[] entries', () => {
  it.each([
    ['ranges not an array', { package: { ecosystem: 'npm', name: 'p' }, ranges: { type: 'SEMVER' } }],
    ['events missing', { package: { ecosystem: 'npm', name: 'p' }, ranges: [{ type: 'SEMVER' }] }],
    [
      'events of junk',
      { package: { ecosystem: 'npm', name: 'p' }, ranges: [{ type: 'SEMVER', events: [null, 3, 'x', {}] }] },
    ],
    ['versions not an array', { package: { ecosystem: 'npm', name: 'p' }, versions: '1.0.0' }],
    [
      'event versions unreadable',
      { package: { ecosystem: 'npm', name: 'p' }, ranges: [{ type: 'SEMVER', events: [{ introduced: 'x' }] }] },
    ],
  ])('skips %s without throwing or matching', (_name, entry) => {
    const a = entry as unknown as OsvAffected;
    expect(isAffected('1.0.0', a, npm)).toBe(false);
    expect(fixedVersions('1.0.0', a, npm)).toEqual([]);
    expect(
      matchAffected([a, null as unknown as OsvAffected], { ecosystem: 'npm', name: 'p', version: '1.0.0' }),
    ).toBeNull();
  });
});
