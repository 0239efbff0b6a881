import { describe, expect, it } from 'vitest';
import { npmFullName } from '../../../src/inventory/lang/common.js';
import { npmLockAnalyzer } from '../../../src/inventory/lang/npm-lock.js';
import { fixture, ids, run, trivyCases, trivyIds } from './helpers.js';

const cases = trivyCases('npm/expected.json');

describe('npm-lock: Trivy package-lock vectors', () => {
  it.each(cases.map((c) => [c.name!, c] as const))('%s: exactly the expected packages and dev flags', async (_n, c) => {
    const res = await run(npmLockAnalyzer, 'app/package-lock.json', fixture(`npm/${c.file!}`));
    expect(res.warnings ?? []).toEqual([]);
    expect(ids(res.packages)).toEqual(trivyIds(c.want));
    expect(ids(res.packages, (p) => p.dev === true)).toEqual(trivyIds(c.want, (p) => p.Dev === true));
  });

  it.each(cases.map((c) => [c.name!, c] as const))('%s: licences equal where Trivy reads one', async (_n, c) => {
    const res = await run(npmLockAnalyzer, 'package-lock.json', fixture(`npm/${c.file!}`));
    for (const want of c.want ?? []) {
      if (!want.Licenses) continue;
      const got = res.packages!.find((p) => npmFullName(p) === want.Name && p.version === want.Version);
      expect(got?.licenses).toEqual(want.Licenses);
    }
  });

  it('keeps a plain string-array "license" that Trivy drops', async () => {
    const res = await run(
      npmLockAnalyzer,
      'package-lock.json',
      fixture('npm/testdata/package-lock_v3_with_legacy_licenses.json'),
    );
    expect(res.packages!.find((p) => p.name === 'pause-stream')?.licenses).toEqual(['MIT', 'Apache2']);
  });

  it('scoped names become namespace + name', async () => {
    const res = await run(npmLockAnalyzer, 'package-lock.json', fixture('npm/testdata/package-lock_v3.json'));
    const babel = res.packages!.find((p) => p.name === 'helper-string-parser');
    expect(babel).toMatchObject({ type: 'npm', namespace: '@babel', version: '7.19.4' });
  });
});

describe('npm-lock: shapes the vectors do not cover', () => {
  it('v3 aliased entry ("npm:" install) reports the real package name', async () => {
    const lock = {
      lockfileVersion: 3,
      packages: {
        '': { name: 'app' },
        'node_modules/my-lodash': { name: 'lodash', version: '4.17.21', license: 'MIT' },
        'node_modules/a/node_modules/@types/node': { version: '20.1.0', dev: true },
      },
    };
    const res = await run(npmLockAnalyzer, 'package-lock.json', JSON.stringify(lock));
    expect(ids(res.packages)).toEqual(['@types/node@20.1.0', 'lodash@4.17.21']);
    expect(res.packages!.find((p) => p.name === 'node')).toMatchObject({ namespace: '@types', dev: true });
  });

  it('v1 alias version "npm:name@x" reports the real package, file: links are skipped', async () => {
    const lock = {
      lockfileVersion: 1,
      dependencies: {
        'my-lodash': { version: 'npm:lodash@4.17.20' },
        local: { version: 'file:../local' },
        a: { version: '1.0.0', dev: true, dependencies: { b: { version: '2.0.0', dev: true } } },
      },
    };
    const res = await run(npmLockAnalyzer, 'package-lock.json', JSON.stringify(lock));
    expect(ids(res.packages)).toEqual(['a@1.0.0', 'b@2.0.0', 'lodash@4.17.20']);
    expect(ids(res.packages, (p) => p.dev === true)).toEqual(['a@1.0.0', 'b@2.0.0']);
  });

  it.each([
    ['package-lock.json', true],
    ['srv/app/package-lock.json', true],
    ['srv/app/npm-shrinkwrap.json', true],
    ['srv/app/node_modules/x/package-lock.json', false],
    ['srv/app/node_modules/.package-lock.json', false],
    ['srv/app/package.json', false],
  ])('wants(%s) = %s', (path, want) => {
    expect(npmLockAnalyzer.wants(path, 0o100644, 10)).toBe(want);
  });
});

describe('npm-lock: hostile input is a warning, not a crash', () => {
  it.each([
    ['malformed JSON', '{"lockfileVersion": 3, "packages": {'],
    ['top level array', '[1,2]'],
    ['no packages or dependencies', '{"lockfileVersion": 3}'],
    ['binary garbage', '\u0000\u0001\u00ff'],
  ])('%s', async (_n, text) => {
    const res = await run(npmLockAnalyzer, 'package-lock.json', text);
    expect(res.packages).toEqual([]);
    expect(res.warnings).toHaveLength(1);
    expect(res.warnings![0]).toMatch(/^[^/]+; file skipped$/);
  });

  it('a link to "__proto__" or "constructor" resolves to nothing', async () => {
    const lock = {
      lockfileVersion: 3,
      packages: {
        'node_modules/a': { resolved: '__proto__', link: true },
        'node_modules/b': { resolved: 'constructor', link: true },
        'node_modules/c': { version: '1.0.0' },
      },
    };
    const res = await run(npmLockAnalyzer, 'package-lock.json', JSON.stringify(lock));
    expect(ids(res.packages)).toEqual(['c@1.0.0']);
  });

  it('a truncated file is skipped with a warning', async () => {
    const res = await npmLockAnalyzer.analyze({
      path: 'package-lock.json',
      mode: 0,
      size: 9,
      content: Buffer.from('{}'),
      truncated: true,
    });
    expect(res.warnings![0]).toMatch(/read limit/);
  });

  it('deeply nested v1 dependencies do not overflow the stack', async () => {
    // Built as text: JSON.stringify itself would overflow on an object this deep.
    const depth = 5000;
    const text = `{"lockfileVersion":1,"dependencies":${'{"p":{"version":"1.0.0","dependencies":'.repeat(depth)}{}${'}}'.repeat(depth)}}`;
    const res = await run(npmLockAnalyzer, 'package-lock.json', text);
    expect(ids(res.packages)).toEqual(['p@1.0.0']); // same name@version at every level: one package
  });
});
