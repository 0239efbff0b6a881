import { describe, expect, it } from 'vitest';
import { LimitExceededError, UserInputError } from '../../../src/core/errors.js';
import type { FoundPackage } from '../../../src/core/types.js';
import {
  debVersionProblem,
  dpkgInfoList,
  dpkgStatus,
  dpkgStatusDMd5sums,
  parseSource,
} from '../../../src/inventory/dpkg.js';
import { fixtureBytes, fixtureJson, input } from './helpers.js';

interface TrivyPkg {
  name: string;
  version: string;
  source_name: string;
  source_version: string;
  arch: string;
}
interface TrivyCase {
  name: string;
  packages_by_file: Array<{ file: string; packages: TrivyPkg[] }>;
}

const TRIVY_CASES = ['valid', 'corrupsed', 'happy-path-with-digests', 'md5sums', 'only-apt', 'third-party-package'];

function simplify(p: FoundPackage) {
  return {
    name: p.name,
    version: p.version,
    source_name: p.source?.name,
    source_version: p.source?.version,
    arch: p.arch,
  };
}
const byName = (a: { name: string; version: string }, b: { name: string; version: string }) =>
  a.name === b.name ? (a.version < b.version ? -1 : 1) : a.name < b.name ? -1 : 1;

async function analyze(path: string, content: Buffer | string) {
  return dpkgStatus.analyze(input(path, content));
}

describe('dpkg status: Trivy conformance cases', () => {
  it.each(TRIVY_CASES)('%s gives exactly the expected package list', async (name) => {
    const expected = fixtureJson<TrivyCase>(`trivy/dpkg/${name}/expected.json`);
    for (const { file, packages } of expected.packages_by_file) {
      const result = await analyze(file, fixtureBytes(`trivy/dpkg/${name}/rootfs/${file}`));
      const got = (result.packages ?? []).map(simplify).sort(byName);
      const want = packages
        .map((p) => ({
          name: p.name,
          version: p.version,
          source_name: p.source_name,
          source_version: p.source_version,
          arch: p.arch,
        }))
        .sort(byName);
      expect(got).toEqual(want);
    }
  });

  it('valid: the config-files-only package is not reported (90 of 91 stanzas)', async () => {
    const result = await analyze('var/lib/dpkg/status', fixtureBytes('trivy/dpkg/valid/rootfs/var/lib/dpkg/status'));
    expect(result.packages).toHaveLength(90);
  });

  it('status.d: a stanza without a version is skipped with a warning naming it', async () => {
    const r = await analyze('var/lib/dpkg/status.d/x', 'Package: noversion\n\nPackage: ok\nVersion: 1.0\n');
    expect(r.packages?.map((p) => p.name)).toEqual(['ok']);
    expect(r.warnings?.join('\n')).toContain('noversion: no Version field');
  });
});

describe('dpkg status: field rules', () => {
  const stanza = (fields: string) => `Package: p\nStatus: install ok installed\nArchitecture: amd64\n${fields}\n`;
  it.each([
    ['no Source field: source is the package, same version', 'Version: 1:2.0-1', { name: 'p', version: '1:2.0-1' }],
    [
      'Source without version: source version is the binary version',
      'Version: 1:2.0-1\nSource: src',
      { name: 'src', version: '1:2.0-1' },
    ],
    [
      'source version in parentheses is kept',
      'Version: 1:2.0-1+b1\nSource: src (2.0-1)',
      { name: 'src', version: '2.0-1' },
    ],
  ])('%s', async (_n, fields, source) => {
    const r = await analyze('var/lib/dpkg/status', stanza(fields));
    expect(r.packages?.[0]?.source).toEqual(source);
  });

  it.each([
    ['install ok installed', true],
    ['hold ok installed', true],
    ['deinstall ok config-files', false],
    ['install ok half-installed', false],
    ['install ok unpacked', false],
    ['purge ok not-installed', false],
  ])('Status "%s" installed=%s', async (status, installed) => {
    const r = await analyze('var/lib/dpkg/status', `Package: p\nStatus: ${status}\nVersion: 1.0\n`);
    expect(r.packages?.length).toBe(installed ? 1 : 0);
  });

  it('status file: a stanza without Status is not installed', async () => {
    const r = await analyze('var/lib/dpkg/status', 'Package: p\nVersion: 1.0\n');
    expect(r.packages).toEqual([]);
  });

  it('status.d (distroless): stanzas have no Status and are installed; several stanzas per file', async () => {
    const text =
      'Package: libssl3\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\nSource: openssl\n\nPackage: libssl3\nVersion: 3.0.11-1~deb12u2\nArchitecture: arm64\nSource: openssl\n';
    const r = await analyze('var/lib/dpkg/status.d/libssl3', text);
    expect(r.packages?.map((p) => `${p.name}/${p.arch}/${p.source?.name}/${p.source?.version}`)).toEqual([
      'libssl3/amd64/openssl/3.0.11-1~deb12u2',
      'libssl3/arm64/openssl/3.0.11-1~deb12u2',
    ]);
  });

  it('continuation lines belong to the previous field and do not start fields', async () => {
    const text = 'Package: p\nStatus: install ok installed\nDescription: x\n Version: 9.9\n .\nVersion: 1.0\n';
    const r = await analyze('var/lib/dpkg/status', text);
    expect(r.packages?.map((p) => p.version)).toEqual(['1.0']);
  });

  it('CRLF line ends and several blank lines are accepted', async () => {
    const r = await analyze(
      'var/lib/dpkg/status',
      'Package: a\r\nStatus: install ok installed\r\nVersion: 1\r\n\r\n\r\nPackage: b\r\nStatus: install ok installed\r\nVersion: 2\r\n',
    );
    expect(r.packages?.map((p) => `${p.name}=${p.version}`)).toEqual(['a=1', 'b=2']);
  });

  it.each([
    ['1:5.#', false],
    ['a:1.0', false],
    ['1:', false],
    ['1.0-', false],
    ['1 0', false],
    ['1:2.0~rc1+dfsg-3ubuntu1.2', true],
    ['2.36-9+deb12u4', true],
    ['5:20.10.7~3-0~debian-buster', true],
  ])('version "%s" valid=%s', (v, valid) => {
    expect(debVersionProblem(v) === undefined).toBe(valid);
  });

  it('parseSource ignores a malformed Source field rather than inventing a name', () => {
    expect(parseSource('a b c', 'p', '1')).toEqual({ name: 'p', version: '1' });
  });
});

describe('dpkg: which paths are wanted', () => {
  // Trivy's Test_dpkgAnalyzer_Required cases; Trivy also reads md5sums/available for file digests,
  // which Palisade does not use, so those cases differ on purpose.
  it.each([
    ['var/lib/dpkg/status', true, false],
    ['var/lib/dpkg/status.d/gcc', true, false],
    ['var/lib/dpkg/status.d/base-files.md5sums', false, false],
    ['var/lib/dpkg/info/bash.md5sums', false, false],
    ['var/lib/dpkg/info/bash.list', false, true],
    ['var/lib/dpkg/info/libc6:amd64.list', false, true],
    ['var/lib/dpkg/info/sub/x.list', false, false],
    ['var/lib/dpkg/available', false, false],
    ['var/lib/dpkg/status/bash.md5sums', false, false],
    ['var/lib/dpkg/status.d/', false, false],
  ])('%s: status=%s list=%s', (path, status, list) => {
    expect(dpkgStatus.wants(path, 0o100644, 1)).toBe(status);
    expect(dpkgInfoList.wants(path, 0o100644, 1)).toBe(list);
  });
});

describe('dpkg info/*.list', () => {
  it('keys by package name without the :arch suffix and normalises paths', async () => {
    const r = await dpkgInfoList.analyze(
      input(
        'var/lib/dpkg/info/libc6:amd64.list',
        '/.\n/lib\n/lib/x86_64-linux-gnu/libc.so.6\n/usr//share/./doc\n/../etc/passwd\n\n',
      ),
    );
    expect(r.ownedFiles).toEqual({ 'deb/libc6': ['lib', 'lib/x86_64-linux-gnu/libc.so.6', 'usr/share/doc'] });
  });
});

describe('dpkg status.d/*.md5sums (distroless file ownership)', () => {
  it('lists the files of the package: equal to Trivy InstalledFiles for the md5sums case', async () => {
    const want = fixtureJson<{
      trivy_want: { PackageInfos: Array<{ Packages: Array<{ InstalledFiles: string[] }> }> };
    }>('trivy/dpkg/md5sums/expected.json').trivy_want.PackageInfos[0]!.Packages[0]!.InstalledFiles;
    const content = fixtureBytes('trivy/dpkg/md5sums/rootfs/var/lib/dpkg/info/tar.md5sums');
    const r = await dpkgStatusDMd5sums.analyze(input('var/lib/dpkg/status.d/tar.md5sums', content));
    expect(r.ownedFiles).toEqual({ 'deb/tar': want.map((f) => f.slice(1)) });
    expect(r.warnings).toBeUndefined();
  });

  it('malformed lines and ".." paths are dropped with a warning', async () => {
    const r = await dpkgStatusDMd5sums.analyze(
      input(
        'var/lib/dpkg/status.d/libssl3:amd64.md5sums',
        `${'a'.repeat(32)}  usr/lib/libssl.so.3\nnot a line\n${'b'.repeat(32)}  ../../etc/shadow\n`,
      ),
    );
    expect(r.ownedFiles).toEqual({ 'deb/libssl3': ['usr/lib/libssl.so.3'] });
    expect(r.warnings).toHaveLength(2);
  });

  it.each([
    ['var/lib/dpkg/status.d/base-files.md5sums', true],
    ['var/lib/dpkg/status.d/base-files', false],
    ['var/lib/dpkg/info/bash.md5sums', false],
    ['var/lib/dpkg/status.d/x/y.md5sums', false],
  ])('wants %s: %s', (path, want) => {
    expect(dpkgStatusDMd5sums.wants(path, 0o100644, 1)).toBe(want);
  });
});

describe('dpkg: hostile and broken input', () => {
  it('binary garbage is refused with UserInputError', async () => {
    const garbage = Buffer.from([0x50, 0x61, 0x63, 0x6b, 0x00, 0xff, 0xfe, 0x00, 0x01]);
    await expect(async () => analyze('var/lib/dpkg/status', garbage)).rejects.toThrow(UserInputError);
  });

  it('a truncated status file (cut by the read limit) is refused, not half-read', async () => {
    const f = {
      ...input('var/lib/dpkg/status', 'Package: a\nStatus: install ok installed\nVersion: 1\n'),
      size: 10_000_000,
      truncated: true,
    };
    await expect(async () => dpkgStatus.analyze(f)).rejects.toThrow(LimitExceededError);
  });

  it('a status file cut mid-stanza keeps whole stanzas and skips the cut one with a warning', async () => {
    const full = fixtureBytes('trivy/dpkg/valid/rootfs/var/lib/dpkg/status').toString('utf8');
    const cut = full.slice(0, full.indexOf('\nVersion:', full.length / 2));
    const r = await analyze('var/lib/dpkg/status', cut);
    expect(r.packages!.length).toBeGreaterThan(10);
    expect(r.packages!.length).toBeLessThan(90);
    expect(r.warnings?.some((w) => w.includes('no Version field'))).toBe(true);
  });

  it('text that is not deb822 gives no packages and a bounded warning list', async () => {
    const junk = Array.from({ length: 5000 }, (_, i) => `junk line ${i}\n\n`).join('');
    const r = await analyze('var/lib/dpkg/status', junk);
    expect(r.packages).toEqual([]);
    expect(r.warnings!.length).toBeLessThanOrEqual(21);
    expect(r.warnings!.at(-1)).toMatch(/and 4980 more warnings/);
  });
});
