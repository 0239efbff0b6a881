import { describe, expect, it } from 'vitest';
import type { OsvAffected } from '../../src/vuln/affected.js';
import { recordSeverity } from '../../src/vuln/cvss.js';
import { parseRowSeverity, rowSeverity } from '../../src/vuln/row-severity.js';

const V31 = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H';
const V40 = 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N';
const entry = (extra: object = {}): OsvAffected => ({ package: { ecosystem: 'npm', name: 'p' }, ...extra });

describe('row severity (stored at import for hits answered from summaries)', () => {
  it('reads back as recordSeverity says for every entry: vector, word, or none', () => {
    const cases: Array<[object, OsvAffected[]]> = [
      [{ severity: [{ type: 'CVSS_V3', score: V31 }] }, [entry()]],
      [{ severity: [{ type: 'CVSS_V4', score: V40 }], database_specific: { severity: 'HIGH' } }, [entry(), entry()]],
      [{ database_specific: { severity: 'MODERATE' } }, [entry()]],
      [{}, [entry({ ecosystem_specific: { urgency: 'low' } })]],
      [{}, [entry()]],
    ];
    for (const [record, entries] of cases) {
      const text = rowSeverity(record, entries);
      expect(text).not.toBeNull();
      const back = parseRowSeverity(text!);
      for (let i = 0; i < entries.length; i++) {
        const want = recordSeverity({ ...record, affected: entries }, i);
        expect(back).toEqual({
          severity: want.severity,
          cvss: want.cvss
            ? { version: want.cvss.version, vector: want.cvss.vector, baseScore: want.cvss.baseScore }
            : null,
        });
      }
    }
  });

  it('is not stored when the entries of one package disagree (the matcher then scores the entry that matched)', () => {
    const entries = [entry({ severity: [{ type: 'CVSS_V3', score: V31 }] }), entry()];
    expect(recordSeverity({ affected: entries }, 0).severity).toBe('CRITICAL');
    expect(recordSeverity({ affected: entries }, 1).severity).toBe('UNKNOWN');
    expect(rowSeverity({}, entries)).toBeNull();
  });

  it('refuses text this version does not write', () => {
    expect(parseRowSeverity('HIGH 3.1 x CVSS:3.1/AV:N')).toBeNull();
    expect(parseRowSeverity('HIGH 3.1')).toBeNull();
  });
});
