import { describe, expect, it } from 'vitest';
import { isInstalledPackageJson, npmPackageJsonAnalyzer } from '../../../src/inventory/lang/npm-package.js';
import { run } from './helpers.js';

describe('npm-package-json: which package.json files are installed packages', () => {
  it.each([
    ['srv/app/node_modules/express/package.json', true],
    ['node_modules/express/package.json', true],
    ['srv/app/node_modules/@babel/core/package.json', true],
    ['a/node_modules/x/node_modules/@s/y/package.json', true],
    ['usr/lib/node_modules/npm/node_modules/semver/package.json', true],
    ['srv/app/package.json', false],
    ['srv/app/node_modules/express/lib/package.json', false],
    ['srv/app/node_modules/@babel/package.json', false],
    ['srv/app/node_modules/@babel/core/esm/package.json', false],
    ['srv/app/node_modules/.bin/package.json', false],
    ['srv/app/node_modules/package.json', false],
    ['srv/app/my_node_modules/x/package.json', false],
    ['srv/app/node_modules/x/package.json.orig', false],
  ])('%s → %s', (path, want) => {
    expect(isInstalledPackageJson(path)).toBe(want);
    expect(npmPackageJsonAnalyzer.wants(path, 0o100644, 100)).toBe(want);
  });
});

describe('npm-package-json: fields', () => {
  it.each([
    ['license string', { license: 'MIT' }, ['MIT']],
    ['license object', { license: { type: 'ISC', url: 'x' } }, ['ISC']],
    ['legacy licenses array', { licenses: [{ type: 'MIT' }, { type: 'Apache-2.0' }] }, ['MIT', 'Apache-2.0']],
    ['SPDX expression kept whole', { license: '(MIT OR Apache-2.0)' }, ['(MIT OR Apache-2.0)']],
    ['no licence', {}, undefined],
  ])('%s', async (_n, fields, want) => {
    const text = JSON.stringify({ name: 'x', version: '1.0.0', ...fields });
    const res = await run(npmPackageJsonAnalyzer, 'node_modules/x/package.json', text);
    expect(res.packages![0]!.licenses).toEqual(want);
  });

  it('the scope becomes the namespace; the name in the file wins over the folder (aliases)', async () => {
    const text = JSON.stringify({ name: '@types/node', version: '20.11.5' });
    const res = await run(npmPackageJsonAnalyzer, 'node_modules/my-alias/package.json', text);
    expect(res.packages).toEqual([{ type: 'npm', namespace: '@types', name: 'node', version: '20.11.5' }]);
  });
});

describe('npm-package-json: hostile input is a warning', () => {
  it.each([
    ['malformed JSON', '{"name": "x", '],
    ['no version', '{"name": "x"}'],
    ['name is not a string', '{"name": 5, "version": "1"}'],
    ['array', '[]'],
  ])('%s', async (_n, text) => {
    const res = await run(npmPackageJsonAnalyzer, 'node_modules/x/package.json', text);
    expect(res.packages).toEqual([]);
    expect(res.warnings![0]).toMatch(/^.+; file skipped$/);
  });
});
