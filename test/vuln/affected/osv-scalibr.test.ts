import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { matchAffected, type OsvAffected, type PackageQuery } from '../../../src/vuln/affected.js';

interface Scenario {
  test: string;
  index?: number;
  affected: OsvAffected[];
  query_package: {
    ecosystem?: string;
    name: string;
    purl_type?: string;
    os_id?: string;
    os_version_id?: string;
    source_name?: string;
    origin_name?: string;
    source_repo?: string;
    epoch?: number;
    os_cpe_name?: string;
  };
  queries: { version: string; expected: boolean }[];
}

const scenarios = JSON.parse(
  readFileSync(new URL('../../fixtures/vuln/affected/osv-scalibr-is-affected.json', import.meta.url), 'utf8'),
) as Scenario[];

/**
 * The upstream test describes the installed package the way osv-scalibr's inventory does (purl
 * type, OS id, CPE). Our matcher takes a PackageQuery whose ecosystem the inventory stage has
 * already worked out; this adapter does that translation for the fixture only.
 */
function toQuery(qp: Scenario['query_package'], version: string): PackageQuery {
  let ecosystem = qp.ecosystem;
  let name = qp.name;
  if (ecosystem === undefined) {
    switch (qp.purl_type) {
      case 'golang':
        ecosystem = 'Go';
        // The Go toolchain is advised as the module "stdlib".
        if (name === 'go') name = 'stdlib';
        break;
      case 'git':
        ecosystem = 'GIT';
        name = qp.source_repo ?? name;
        break;
      case 'deb':
        ecosystem = `${qp.os_id![0]!.toUpperCase()}${qp.os_id!.slice(1)}:${qp.os_version_id}`;
        break;
      case 'apk':
        ecosystem = `Alpine:v${qp.os_version_id!.split('.').slice(0, 2).join('.')}`;
        break;
      case 'rpm':
        ecosystem = qp.os_cpe_name
          ? `Red Hat:${qp.os_cpe_name.split(':').slice(3).join(':')}`
          : (qp.os_id ?? 'unknown');
        break;
      default:
        throw new Error(`fixture uses an unmapped purl type ${qp.purl_type}`);
    }
  }
  const q: PackageQuery = { ecosystem, name, version };
  if (qp.source_name) q.sourceName = qp.source_name;
  if (qp.origin_name) q.originName = qp.origin_name;
  if (qp.epoch !== undefined) q.epoch = qp.epoch;
  return q;
}

describe('OSV affected[] evaluation (osv-scalibr IsAffected vectors)', () => {
  it('has the 28 scenarios and 203 queries', () => {
    expect(scenarios).toHaveLength(28);
    expect(scenarios.reduce((n, s) => n + s.queries.length, 0)).toBe(203);
  });

  it.each(scenarios.map((s, i) => [`${s.test}${s.index ? ` #${s.index}` : ''} (${i})`, s] as const))(
    '%s',
    (_label, s) => {
      for (const q of s.queries) {
        const query = toQuery(s.query_package, q.version);
        const got = matchAffected(s.affected, query);
        expect(got !== null, `${JSON.stringify(query)}`).toBe(q.expected);
        if (got) expect(got.reason.length).toBeGreaterThan(0);
      }
    },
  );
});
