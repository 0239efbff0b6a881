import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LimitExceededError, UserInputError } from '../../../src/core/errors.js';
import {
  globToRegExp,
  isExpired,
  loadIgnoreFile,
  MAX_IGNORE_FILE_BYTES,
  parseIgnoreFile,
} from '../../../src/vuln/suppress/ignore.js';

function errorOf(text: string): Error {
  try {
    parseIgnoreFile(text, 'ignore.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(UserInputError);
    return e as Error;
  }
  throw new Error('parsed without error');
}

describe('ignore file: bad input is a UserInputError naming the line', () => {
  it.each([
    [
      'an entry without reason is named, with its id and line',
      'ignore:\n  - id: CVE-2021-1\n    reason: ok\n  - id: CVE-2021-2\n    package: lodash\n',
      'ignore file ignore.yaml: entry 2 (CVE-2021-2, line 4) has no reason; every entry needs one',
    ],
    [
      'a blank reason counts as none',
      'ignore:\n  - id: CVE-2021-1\n    reason: "   "\n',
      'ignore file ignore.yaml: entry 1 (CVE-2021-1, line 3) has an empty reason; every entry needs one',
    ],
    [
      'invalid YAML gives its line',
      'ignore:\n  - id: CVE-2021-1\n    reason: [unclosed\n  - id: x\n',
      /^ignore file ignore\.yaml: invalid YAML at line \d+: /,
    ],
    ['a duplicate key is invalid YAML', 'ignore:\n  - id: a\n    id: b\n    reason: r\n', /invalid YAML at line 3/],
    [
      'an empty file is refused',
      '# nothing\n',
      'ignore file ignore.yaml: empty; expected a mapping with an "ignore:" list',
    ],
    ['a mapping without the list is refused', 'ignores: []\n', /line 1: (missing "ignore"|unknown key "ignores")/],
    ['a bare list is not the documented shape', '- id: CVE-1\n  reason: r\n', /line 1: .*must be object/],
    [
      'an unknown key is named',
      'ignore:\n  - id: CVE-2021-1\n    reason: r\n    expiry: 2026-01-01\n',
      'ignore file ignore.yaml: entry 1 (CVE-2021-1, line 2): unknown key "expiry"',
    ],
    [
      'an impossible date is refused',
      'ignore:\n  - id: CVE-2021-1\n    reason: r\n    expires: 2026-02-30\n',
      'ignore file ignore.yaml: entry 1 (CVE-2021-1, line 4): expires must be a date YYYY-MM-DD',
    ],
    [
      'a date with time is refused',
      'ignore:\n  - id: CVE-2021-1\n    reason: r\n    expires: "2026-02-01T00:00:00Z"\n',
      /entry 1 \(CVE-2021-1, line 4\): expires must be a date YYYY-MM-DD/,
    ],
    ['a missing id is named', 'ignore:\n  - reason: r\n', 'ignore file ignore.yaml: entry 1 (line 2): missing "id"'],
    ['a numeric id is refused', 'ignore:\n  - id: 12345\n    reason: r\n', /entry 1 \(line 2\): id must be string/],
    [
      'an invalid purl in package is refused',
      'ignore:\n  - id: CVE-1\n    package: "pkg:"\n    reason: r\n',
      'ignore file ignore.yaml: entry 1 (CVE-1, line 3): "pkg:" is not a valid purl',
    ],
    [
      'paths must be a list',
      'ignore:\n  - id: CVE-1\n    paths: src/**\n    reason: r\n',
      'ignore file ignore.yaml: entry 1 (CVE-1, line 3): paths must be array',
    ],
  ])('%s', (_name, text, message) => {
    const err = errorOf(text);
    if (typeof message === 'string') expect(err.message).toBe(message);
    else expect(err.message).toMatch(message);
  });

  it('a YAML alias bomb is refused, not expanded', () => {
    const bomb = `a: &a ["x","x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\nignore: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`;
    expect(() => parseIgnoreFile(bomb, 'bomb.yaml')).toThrow(UserInputError);
    expect(() => parseIgnoreFile(bomb, 'bomb.yaml')).toThrow(/alias/i);
  });
});

describe('ignore file: reading', () => {
  it('reads the documented shape; dates stay strings; purls are parsed; reasons are trimmed', () => {
    const f = parseIgnoreFile(
      '# comment\nignore:\n  - id: CVE-2021-23337\n    package: pkg:npm/lodash\n    paths: ["srv/**"]\n    reason: "  build only  "\n    expires: 2026-06-30\n',
      'x.yaml',
    );
    expect(f.entries).toHaveLength(1);
    const e = f.entries[0]!;
    expect(e).toMatchObject({ id: 'CVE-2021-23337', reason: 'build only', expires: '2026-06-30', index: 1, line: 3 });
    expect(e.purl?.base).toBe('pkg:npm/lodash');
    expect(e.pathPatterns?.[0]?.test('srv/app/x')).toBe(true);
  });

  it('an empty list is allowed', () => {
    expect(parseIgnoreFile('ignore: []\n', 'x').entries).toEqual([]);
  });

  it.each([
    ['2026-03-31', '2026-03-31T00:00:00Z', false],
    ['2026-03-31', '2026-03-31T23:59:59.999Z', false],
    ['2026-03-31', '2026-04-01T00:00:00Z', true],
    ['2024-02-29', '2024-03-01T00:00:00Z', true],
  ])('expires %s at %s → expired %s', (expires, now, expired) => {
    const e = parseIgnoreFile(`ignore:\n  - id: X\n    reason: r\n    expires: ${expires}\n`, 'x').entries[0]!;
    expect(isExpired(e, new Date(now))).toBe(expired);
  });

  it('an entry without expires never expires', () => {
    const e = parseIgnoreFile('ignore:\n  - id: X\n    reason: r\n', 'x').entries[0]!;
    expect(isExpired(e, new Date('2999-01-01T00:00:00Z'))).toBe(false);
  });

  describe('files', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'palisade-ignore-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('a missing file and an oversized file are refused', async () => {
      await expect(loadIgnoreFile(join(dir, 'absent.yaml'))).rejects.toThrow(/cannot read \(ENOENT\)/);
      const big = join(dir, 'big.yaml');
      writeFileSync(big, '');
      truncateSync(big, MAX_IGNORE_FILE_BYTES + 1);
      await expect(loadIgnoreFile(big)).rejects.toBeInstanceOf(LimitExceededError);
    });
  });
});

describe('ignore file: path globs', () => {
  it.each([
    ['srv/app/**', 'srv/app/node_modules/lodash/package.json', true],
    ['srv/app/**', 'srv/application/x', false],
    ['**/package.json', 'package.json', true],
    ['**/package.json', 'a/b/package.json', true],
    ['*.env', 'a/b.env', false],
    ['srv/*/config.env', 'srv/app/config.env', true],
    ['srv/*/config.env', 'srv/a/b/config.env', false],
    ['/usr/lib/?.so', 'usr/lib/a.so', true],
    ['usr/lib/a.so', 'usr/lib/aXso', false],
    ['usr/lib/(a)+.so', 'usr/lib/(a)+.so', true],
  ])('%s on %s → %s', (glob, path, match) => {
    expect(globToRegExp(glob).test(path)).toBe(match);
  });
});
