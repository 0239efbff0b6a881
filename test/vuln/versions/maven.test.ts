import { describe, expect, it } from 'vitest';
import { maven, mavenCanonical, parseMaven } from '../../../src/vuln/versions/maven.js';
import { mavenSpec } from '../../../src/vuln/versions/maven-spec.js';
import { type CompareRecord, compareFailures, compareFile, load } from './helpers.js';

describe('Maven ComparableVersion (maven.ts)', () => {
  it("orders all 1,015 pairs of Maven's ComparableVersionTest", () => {
    compareFile(maven, 'version-maven/maven-ComparableVersionTest.json', 1015);
  });

  it('gives the canonical forms, and canonicalising twice changes nothing', () => {
    const records = load<{ version?: string; canonical?: string }[]>('version-maven/maven-canonical.json');
    for (const r of records.filter((x) => x.version !== undefined)) {
      const c = mavenCanonical(parseMaven(r.version!)!);
      expect(c).toBe(r.canonical);
    }
    for (const v of ['0.x', '0-x', '0.rc', '0-1', '1.0.final-redhat', '1-sp-1-redhat']) {
      const c = mavenCanonical(parseMaven(v)!);
      expect(mavenCanonical(parseMaven(c)!), v).toBe(c);
    }
  });
});

describe('Maven POM-specification order (maven-spec.ts, used for OSV ranges)', () => {
  it.each([
    ['version-osv-scalibr-semantic/maven-versions.json', 102],
    ['version-osv-scalibr-semantic/maven-versions-generated.json', 14752],
  ])('orders every pair in %s as OSV does', (file, n) => {
    compareFile(mavenSpec, file, n);
  });

  // The two orders are different contracts: Maven 4 reads "beta11" as one combination item, the
  // specification (and OSV) as "beta-11". Pin how far apart they are on each other's tables.
  it('differs from Maven 4 on exactly the combination-item cases', () => {
    const m4 = load<CompareRecord[]>('version-maven/maven-ComparableVersionTest.json');
    expect(compareFailures(m4, (a, b) => mavenSpec.compare(a, b))).toHaveLength(42);
    const osv = load<CompareRecord[]>('version-osv-scalibr-semantic/maven-versions-generated.json');
    expect(compareFailures(osv, (a, b) => maven.compare(a, b)).length).toBeGreaterThan(0);
    expect(mavenSpec.compare('1.0.0-beta11', '1.0.0-beta.6')).toBe(-1);
    expect(maven.compare('1.0.0-beta11', '1.0.0-beta.6')).toBe(1);
  });
});
