import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isAffected, matchAffected, type OsvAffected } from '../../../src/vuln/affected.js';
import { dpkg } from '../../../src/vuln/versions/dpkg.js';

const root = new URL('../../fixtures/vuln/osv/debian/', import.meta.url);
const records = readdirSync(root).map(
  (f) => JSON.parse(readFileSync(new URL(f, root), 'utf8')) as { id: string; affected: OsvAffected[] },
);

describe('OSV evaluation on real Debian records', () => {
  it('covers every enumerated version by the ranges alone and clears every fixed version (5 records)', () => {
    expect(records).toHaveLength(5);
    let listed = 0;
    for (const r of records) {
      for (const a of r.affected) {
        const rangesOnly: OsvAffected = { ...a, versions: [] };
        for (const v of a.versions ?? []) {
          expect(isAffected(v, rangesOnly, dpkg), `${r.id} ${v}`).toBe(true);
          listed++;
        }
        for (const e of a.ranges![0]!.events!)
          if (e.fixed) expect(isAffected(e.fixed, a, dpkg), `${r.id} ${e.fixed}`).toBe(false);
      }
    }
    expect(listed).toBe(69);
  });

  it('matches by source package within the record’s release only, and names the fix', () => {
    const dla = records.find((r) => r.id === 'DLA-3008-1')!;
    // libssl1.1 is built from the openssl source package.
    const q = { ecosystem: 'Debian:9', name: 'libssl1.1', sourceName: 'openssl', version: '1.1.0l-1~deb9u5' };
    expect(matchAffected(dla.affected, q)?.fixed).toEqual(['1.1.0l-1~deb9u6']);
    expect(matchAffected(dla.affected, { ...q, version: '1.1.0l-1~deb9u6' })).toBeNull();
    expect(matchAffected(dla.affected, { ...q, ecosystem: 'Debian:10' })).toBeNull();
    expect(matchAffected(dla.affected, { ...q, sourceName: undefined })).toBeNull();
  });
});
