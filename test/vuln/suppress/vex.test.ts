import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { UserInputError } from '../../../src/core/errors.js';
import { parsePurl, purlCovers, purlPrefixCovers } from '../../../src/vuln/suppress/purl.js';
import { parseVex } from '../../../src/vuln/suppress/vex.js';
import { errorsOf, schemas } from '../../helpers/schemas.js';

const addFormats = addFormatsModule.default;
const read = (rel: string) => readFileSync(new URL(rel, import.meta.url), 'utf8');
const openvexText = read('../../fixtures/vuln/suppress/openvex-npm-app.json');
const cdxText = read('../../fixtures/vuln/suppress/cyclonedx-vex-npm-app.json');
const officialOpenVex = read('../../fixtures/schemas/openvex-0.2.0/openvex_json_schema.json');

function vexError(doc: unknown): string {
  try {
    parseVex(typeof doc === 'string' ? doc : JSON.stringify(doc), 'v.json');
  } catch (e) {
    expect(e).toBeInstanceOf(UserInputError);
    return (e as Error).message;
  }
  throw new Error('parsed without error');
}

describe('VEX fixtures are valid documents of their formats', () => {
  it('the OpenVEX schema shipped in src is the official one (same JSON; the formatter may re-indent it)', () => {
    expect(JSON.parse(read('../../../src/vuln/suppress/data/openvex-0.2.0.schema.json'))).toEqual(
      JSON.parse(officialOpenVex),
    );
  });

  it('the OpenVEX fixture validates against the official OpenVEX 0.2.0 schema (draft 2020-12)', () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    ajv.addFormat('iri', true);
    const validate = ajv.compile(JSON.parse(officialOpenVex));
    expect(validate(JSON.parse(openvexText)), errorsOf(validate)).toBe(true);
  });

  it('the CycloneDX VEX fixture validates against the official CycloneDX 1.6 schema', () => {
    const validate = schemas.cyclonedx();
    expect(validate(JSON.parse(cdxText)), errorsOf(validate)).toBe(true);
  });
});

describe('OpenVEX reading', () => {
  const doc = parseVex(openvexText, 'o.json');

  it('reads every statement with ids, purls, status, justification and detail', () => {
    expect(doc.format).toBe('openvex');
    expect(doc.statements).toHaveLength(10);
    const [first, second] = doc.statements;
    expect(first).toMatchObject({
      ids: ['CVE-2021-23337'],
      status: 'not_affected',
      justification: 'vulnerable_code_not_in_execute_path',
      detail: 'The service never calls _.template.',
      source: 'o.json: statement 1',
    });
    // The image is the product; its subcomponent is the package the statement is about.
    expect(first!.purls.map((p) => p.base + (p.version ? `@${p.version}` : ''))).toEqual(['pkg:npm/lodash@4.17.15']);
    expect(second).toMatchObject({ ids: ['GHSA-p6mc-m468-83gw', 'CVE-2020-8203'], status: 'fixed' });
    expect(second!.purls[0]).toMatchObject({ base: 'pkg:npm/lodash' });
    expect(second!.purls[0]!.version).toBeUndefined();
  });

  it('a statement without its own timestamp takes the document timestamp', () => {
    expect(doc.statements[0]!.time).toBe(Date.parse('2026-01-15T10:00:00Z'));
    expect(doc.statements[5]!.time).toBe(Date.parse('2026-03-01T00:00:00Z'));
  });

  const valid = JSON.parse(openvexText) as Record<string, unknown>;
  const withStatement = (s: Record<string, unknown>) => ({ ...valid, statements: [s] });
  it.each([
    ['not JSON', '{"@context":', /^VEX v\.json: not JSON/],
    ['a JSON array', '[]', 'VEX v.json: not an OpenVEX or CycloneDX document'],
    ['neither format', { hello: 1 }, 'VEX v.json: not an OpenVEX (@context) or CycloneDX (bomFormat) document'],
    [
      'an older OpenVEX version',
      { ...valid, '@context': 'https://openvex.dev/ns/v0.0.1' },
      'VEX v.json: OpenVEX context https://openvex.dev/ns/v0.0.1 is not supported (v0.2.0)',
    ],
    [
      'a missing author',
      { ...valid, author: undefined },
      /not valid OpenVEX 0\.2\.0: \/ must have required property 'author'/,
    ],
    [
      'not_affected without justification or impact statement',
      withStatement({ vulnerability: { name: 'CVE-1' }, products: [{ '@id': 'pkg:npm/a@1' }], status: 'not_affected' }),
      /not valid OpenVEX 0\.2\.0: \/statements\/0 must have required property 'justification'/,
    ],
    [
      'affected without action statement',
      withStatement({ vulnerability: { name: 'CVE-1' }, products: [{ '@id': 'pkg:npm/a@1' }], status: 'affected' }),
      /\/statements\/0 must have required property 'action_statement'/,
    ],
    [
      'an unknown status',
      withStatement({ vulnerability: { name: 'CVE-1' }, products: [{ '@id': 'pkg:npm/a@1' }], status: 'ignored' }),
      /\/statements\/0\/status must be equal to one of the allowed values/,
    ],
    [
      'an unknown justification',
      withStatement({
        vulnerability: { name: 'CVE-1' },
        products: [{ '@id': 'pkg:npm/a@1' }],
        status: 'not_affected',
        justification: 'because',
      }),
      /\/statements\/0\/justification must be equal to one of the allowed values/,
    ],
    ['a bad timestamp', { ...valid, timestamp: 'yesterday' }, /\/timestamp must match format "date-time"/],
    [
      'a duplicate statement (same JSON, keys in another order)',
      {
        ...valid,
        statements: [
          { vulnerability: { name: 'CVE-1' }, status: 'fixed', products: [{ '@id': 'pkg:npm/a@1' }] },
          { vulnerability: { name: 'CVE-2' }, status: 'fixed' },
          { status: 'fixed', products: [{ '@id': 'pkg:npm/a@1' }], vulnerability: { name: 'CVE-1' } },
        ],
      },
      'VEX v.json: not valid OpenVEX 0.2.0: /statements must NOT have duplicate items (items ## 0 and 2 are identical)',
    ],
    [
      'duplicate products inside a statement (left to the schema)',
      withStatement({
        vulnerability: { name: 'CVE-1' },
        products: [{ '@id': 'pkg:npm/a@1' }, { '@id': 'pkg:npm/a@1' }],
        status: 'fixed',
      }),
      /\/statements\/0\/products must NOT have duplicate items/,
    ],
  ])('%s is refused', (_name, doc, message) => {
    const msg = vexError(doc);
    if (typeof message === 'string') expect(msg).toBe(message);
    else expect(msg).toMatch(message);
  });

  it('a statement without products applies to nothing and says so', () => {
    const d = parseVex(
      JSON.stringify(withStatement({ vulnerability: { name: 'CVE-1' }, status: 'fixed', '@id': 'urn:uuid:aa-bb' })),
      'v.json',
    );
    expect(d.statements[0]!.purls).toEqual([]);
    expect(d.warnings).toEqual(['v.json: statement urn:uuid:aa-bb: no products; not applied']);
  });
});

describe('CycloneDX VEX reading', () => {
  const doc = parseVex(cdxText, 'c.json');

  it('maps analysis states onto VEX statuses and keeps the original state', () => {
    expect(doc.format).toBe('cyclonedx');
    expect(doc.statements.map((s) => `${s.state}→${s.status}`)).toEqual([
      'not_affected→not_affected',
      'false_positive→not_affected',
      'resolved→fixed',
      'exploitable→affected',
      'in_triage→under_investigation',
      'not_affected→not_affected',
      'not_affected→not_affected',
    ]);
  });

  it('resolves affects refs: a bom-ref of the document, a BOM-Link to an SBOM bom-ref, a purl', () => {
    const purl = (i: number) => doc.statements[i]!.purls.map((p) => `${p.base}@${p.version}`);
    expect(purl(0)).toEqual(['pkg:npm/qs@6.5.2']);
    expect(purl(1)).toEqual(['pkg:npm/debug@2.6.9']);
    expect(purl(2)).toEqual(['pkg:npm/jsonwebtoken@8.5.1']);
    expect(doc.statements[6]!.purls).toEqual([]);
    expect(doc.warnings).toEqual([
      'c.json: vulnerability v-unknown-ref: affects ref serve-static-somewhere names no package',
    ]);
  });

  it('takes aliases from references and the time from the document when the analysis has none', () => {
    expect(doc.statements[1]!.ids).toEqual(['GHSA-9vvw-cc9w-f27h', 'CVE-2017-20165']);
    expect(doc.statements[1]!.time).toBe(Date.parse('2026-02-10T09:30:00Z'));
  });

  it('a BOM-Link fragment that is percent-encoded and a nested component bom-ref are resolved', () => {
    const d = parseVex(
      JSON.stringify({
        bomFormat: 'CycloneDX',
        specVersion: '1.5',
        components: [
          {
            type: 'application',
            'bom-ref': 'app',
            components: [{ 'bom-ref': 'inner', purl: 'pkg:pypi/jinja2@2.11.2' }],
          },
        ],
        vulnerabilities: [
          {
            id: 'CVE-1',
            analysis: { state: 'not_affected', lastUpdated: '2026-01-02T00:00:00Z' },
            affects: [{ ref: 'inner' }, { ref: 'urn:cdx:1f2e/3#pkg%3Anpm%2Fa%401.0.0' }],
          },
        ],
      }),
      'n.json',
    );
    expect(d.statements[0]!.purls.map((p) => `${p.base}@${p.version}`)).toEqual([
      'pkg:pypi/jinja2@2.11.2',
      'pkg:npm/a@1.0.0',
    ]);
    expect(d.statements[0]!.time).toBe(Date.parse('2026-01-02T00:00:00Z'));
  });

  it('a vulnerability without an analysis state is not applied, with a warning', () => {
    const d = parseVex(
      JSON.stringify({
        bomFormat: 'CycloneDX',
        specVersion: '1.6',
        vulnerabilities: [{ id: 'CVE-1', affects: [{ ref: 'pkg:npm/a@1' }] }],
      }),
      'n.json',
    );
    expect(d.statements).toEqual([]);
    expect(d.warnings).toEqual(['n.json: vulnerability 1 (CVE-1): no analysis.state; not applied']);
  });

  it.each([
    [
      'no vulnerabilities',
      { bomFormat: 'CycloneDX', specVersion: '1.6' },
      /must have required property 'vulnerabilities'/,
    ],
    [
      'an old spec version',
      { bomFormat: 'CycloneDX', specVersion: '1.3', vulnerabilities: [] },
      /\/specVersion must be equal to one of the allowed values/,
    ],
    [
      'an unknown state',
      {
        bomFormat: 'CycloneDX',
        specVersion: '1.6',
        vulnerabilities: [{ id: 'CVE-1', analysis: { state: 'wontfix' } }],
      },
      /\/vulnerabilities\/0\/analysis\/state must be equal to one of the allowed values/,
    ],
    [
      'an affects entry without ref',
      { bomFormat: 'CycloneDX', specVersion: '1.6', vulnerabilities: [{ id: 'CVE-1', affects: [{}] }] },
      /\/vulnerabilities\/0\/affects\/0 must have required property 'ref'/,
    ],
  ])('%s is refused', (_name, doc, message) => {
    expect(vexError(doc)).toMatch(message);
  });
});

describe('purl comparison', () => {
  const ours = 'pkg:deb/debian/bsdutils@1:2.38.1-5+deb12u3?arch=amd64&distro=debian-12&upstream=util-linux';
  it.each([
    ['pkg:npm/lodash', 'pkg:npm/lodash@4.17.15', true],
    ['pkg:npm/lodash@4.17.15', 'pkg:npm/lodash@4.17.15', true],
    ['pkg:npm/lodash@4.17.15', 'pkg:npm/lodash@4.17.21', false],
    ['pkg:NPM/Lodash@4.17.15', 'pkg:npm/lodash@4.17.15', true],
    ['pkg:npm/%40babel/core@7.0.0', 'pkg:npm/@babel/core@7.0.0', true],
    ['pkg:npm/lodash@4.17.15', 'pkg:npm/lodash-es@4.17.15', false],
    ['pkg:pypi/lodash@4.17.15', 'pkg:npm/lodash@4.17.15', false],
    ['pkg:npm/debug@2.6.9#srv/app/node_modules/debug/package.json', 'pkg:npm/debug@2.6.9', true],
    // Debian epoch as a qualifier (Trivy) or inline (our scan) is the same version.
    ['pkg:deb/debian/bsdutils@2.38.1-5+deb12u3?epoch=1', ours, true],
    ['pkg:deb/debian/bsdutils@2.38.1-5+deb12u3', ours, false],
    ['pkg:deb/debian/bsdutils?distro=debian-12', ours, true],
    ['pkg:deb/debian/bsdutils?distro=debian-11', ours, false],
    ['pkg:deb/debian/bsdutils?arch=amd64&distro=debian-12', ours, true],
    ['pkg:deb/debian/bsdutils?arch=arm64', ours, false],
    ['pkg:deb/debian/bsdutils?repository_url=x', ours, false],
    ['pkg:deb/ubuntu/bsdutils', ours, false],
    [
      'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1',
      'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar',
      true,
    ],
    [
      'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=pom',
      'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar',
      false,
    ],
  ])('%s covers %s → %s', (statement, pkg, expected) => {
    expect(purlCovers(parsePurl(statement)!, parsePurl(pkg)!)).toBe(expected);
  });

  it.each([
    ['pkg:deb/debian', 'pkg:deb/debian/libc6@2.36-9', true],
    ['pkg:npm/lodash', 'pkg:npm/lodash@4.17.15', true],
    ['pkg:npm/lodash', 'pkg:npm/lodash.merge@4.6.2', false],
    ['pkg:npm/%40babel', 'pkg:npm/@babel/core@7.0.0', true],
    ['pkg:golang/golang.org/x', 'pkg:golang/golang.org/x/net@v0.17.0', true],
    ['pkg:golang/golang.org/x', 'pkg:golang/golang.org/xyz/net@v1.0.0', false],
  ])('prefix %s covers %s → %s', (prefix, pkg, expected) => {
    expect(purlPrefixCovers(parsePurl(prefix)!, parsePurl(pkg)!)).toBe(expected);
  });

  it.each(['', 'npm/lodash', 'pkg:', 'pkg:npm'])('"%s" is not a purl', (s) => {
    expect(parsePurl(s)).toBeUndefined();
  });
});
