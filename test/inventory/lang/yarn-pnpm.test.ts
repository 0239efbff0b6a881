import { describe, expect, it } from 'vitest';
import { pnpmLockAnalyzer } from '../../../src/inventory/lang/pnpm-lock.js';
import { yarnLockAnalyzer } from '../../../src/inventory/lang/yarn-lock.js';
import { fixture, ids, run, trivyCases, trivyIds } from './helpers.js';

describe('yarn-lock: Trivy yarn.lock vectors (v1 and berry)', () => {
  const cases = trivyCases('yarn/expected.json');
  it.each(cases.map((c) => [c.name ?? c.file!, c] as const))('%s: exactly the expected packages', async (_n, c) => {
    const res = await run(yarnLockAnalyzer, 'app/yarn.lock', fixture(`yarn/${c.file!}`));
    expect(res.warnings ?? []).toEqual([]);
    expect(ids(res.packages)).toEqual(trivyIds(c.want));
  });

  it('v1 alias "x@npm:real@^1" reports the real package', async () => {
    const text =
      '# yarn lockfile v1\n\n"my-lodash@npm:lodash@^4.17.0":\n  version "4.17.21"\n  dependencies:\n    version "9.9.9"\n';
    const res = await run(yarnLockAnalyzer, 'yarn.lock', text);
    expect(ids(res.packages)).toEqual(['lodash@4.17.21']);
  });

  it('v1 GitHub shorthand and tarball URLs are not registry packages', async () => {
    const text =
      '# yarn lockfile v1\n\nfoo@user/foo#abc123:\n  version "1.0.0"\n\nbar@https://example.invalid/bar-2.0.0.tgz:\n  version "2.0.0"\n\nbaz@^3.0.0:\n  version "3.1.0"\n';
    const res = await run(yarnLockAnalyzer, 'yarn.lock', text);
    expect(ids(res.packages)).toEqual(['baz@3.1.0']);
  });

  it('berry scoped package gets namespace', async () => {
    const res = await run(yarnLockAnalyzer, 'yarn.lock', fixture('yarn/testdata/yarn_v2_happy.lock'));
    expect(res.packages!.find((p) => p.name === 'color-name' && p.namespace === '@types')).toMatchObject({
      version: '1.1.1',
    });
  });

  it('malformed berry YAML is a warning', async () => {
    const res = await run(yarnLockAnalyzer, 'yarn.lock', '__metadata:\n  version: 4\n"a@npm:1":\n  version: [1\n');
    expect(res.packages).toEqual([]);
    expect(res.warnings![0]).toMatch(/^malformed YAML/);
  });

  it('garbage v1 text yields no packages and no crash', async () => {
    const res = await run(yarnLockAnalyzer, 'yarn.lock', '\u0000\u0001:\n  version\n:::\n@:\n  version "1"\n');
    expect(res.packages).toEqual([]);
  });

  it.each([
    ['yarn.lock', true],
    ['srv/app/yarn.lock', true],
    ['srv/app/node_modules/x/yarn.lock', false],
    ['srv/app/yarn.lock.bak', false],
  ])('wants(%s) = %s', (path, want) => {
    expect(yarnLockAnalyzer.wants(path, 0o100644, 1)).toBe(want);
  });
});

describe('pnpm-lock: Trivy pnpm-lock vectors (v5, v6, v9)', () => {
  const cases = trivyCases('pnpm/expected.json');
  // Trivy's v5/v6 parser drops packages marked `dev: true`; we report them, marked dev. So Trivy's
  // list must equal our non-dev list there, and for v9 (where Trivy keeps dev) our whole list.
  // Trivy lists one name@version twice when peer variants differ in dev-ness; we report one package,
  // dev only when no production copy exists.
  it.each(cases.map((c) => [c.name!, c] as const))('%s: exactly the expected packages', async (_n, c) => {
    const text = fixture(`pnpm/${c.file!}`);
    const res = await run(pnpmLockAnalyzer, 'app/pnpm-lock.yaml', text);
    expect(res.warnings ?? []).toEqual([]);
    const v9 = /lockfileVersion: '9/.test(text.toString());
    const want = [...new Set(trivyIds(c.want))];
    expect(ids(res.packages, (p) => v9 || !p.dev)).toEqual(want);
    if (v9) {
      const prod = new Set(trivyIds(c.want, (p) => p.Dev !== true));
      const onlyDev = [...new Set(trivyIds(c.want, (p) => p.Dev === true))].filter((id) => !prod.has(id));
      expect(ids(res.packages, (p) => p.dev === true)).toEqual(onlyDev);
    }
  });

  it.each([
    ['pnpm/testdata/pnpm-lock_with_dev.yaml', 5],
    ['pnpm/testdata/pnpm-lock_v6_with_dev.yaml', 6],
  ])('%s: packages marked dev: true are reported as dev', async (file, _v) => {
    const text = fixture(file).toString();
    const res = await run(pnpmLockAnalyzer, 'pnpm-lock.yaml', text);
    const devInFile = text.split('\n').filter((l) => l.trim() === 'dev: true').length;
    expect(res.packages!.filter((p) => p.dev)).toHaveLength(devInFile);
    expect(ids(res.packages, (p) => p.dev === true)).toContain('mocha@10.0.0');
  });

  it('malformed YAML is a warning', async () => {
    const res = await run(pnpmLockAnalyzer, 'pnpm-lock.yaml', "lockfileVersion: '9.0'\npackages:\n  a@1: {x: [\n");
    expect(res.packages).toEqual([]);
    expect(res.warnings![0]).toMatch(/^malformed YAML/);
  });

  it('alias bombs are refused', async () => {
    const bomb = `lockfileVersion: '9.0'\na: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n`;
    const res = await run(pnpmLockAnalyzer, 'pnpm-lock.yaml', bomb);
    expect(res.warnings![0]).toMatch(/malformed YAML/);
  });
});
