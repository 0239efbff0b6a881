import { describe, expect, it } from 'vitest';
import { LimitExceededError, UserInputError } from '../../../src/core/errors.js';
import { apkInstalled } from '../../../src/inventory/apk.js';
import { fixtureBytes, fixtureJson, input } from './helpers.js';

interface ApkExpected {
  packages: Array<{ name: string; version: string; source_name: string; source_version: string; arch: string }>;
  trivy_want_pkgs: Array<{ Name: string; Licenses?: string[]; InstalledFiles?: string[] }>;
}

const PATH = 'lib/apk/db/installed';
const expected = fixtureJson<ApkExpected>('trivy/apk/happy-path/expected.json');
const analyze = () => apkInstalled.analyze(input(PATH, fixtureBytes(`trivy/apk/happy-path/rootfs/${PATH}`)));

describe('apk installed database: Trivy happy-path', () => {
  it('gives exactly the expected packages (name, version, origin, arch), in file order', async () => {
    const r = await analyze();
    const got = r.packages!.map((p) => ({
      name: p.name,
      version: p.version,
      source_name: p.source?.name,
      source_version: p.source?.version,
      arch: p.arch,
    }));
    // depends_on is not part of Palisade's inventory; the other fields must match exactly.
    const want = expected.packages.map(({ name, version, source_name, source_version, arch }) => ({
      name,
      version,
      source_name,
      source_version,
      arch,
    }));
    expect(got).toEqual(want);
    expect(got).toHaveLength(15);
  });

  it('installed files per package equal Trivy InstalledFiles', async () => {
    const r = await analyze();
    const byName = new Map(r.packages!.map((p) => [p.name, p.files ?? []]));
    for (const want of expected.trivy_want_pkgs) expect(byName.get(want.Name)).toEqual(want.InstalledFiles ?? []);
  });

  it('records the licence as written in L:', async () => {
    const r = await analyze();
    expect(r.packages!.find((p) => p.name === 'musl')?.licenses).toEqual(['MIT']);
    // Trivy normalises "GPL2" to "GPL-2.0-only"; the analyzer keeps the recorded text.
    expect(r.packages!.find((p) => p.name === 'busybox')?.licenses).toEqual(['GPL2']);
  });

  it('the record without a version is skipped with a warning', async () => {
    const r = await analyze();
    expect(r.warnings?.join('\n')).toContain('invalidPackageWithoutAVersion');
  });
});

describe('apk: which paths are wanted (Trivy TestRequired)', () => {
  const cases = fixtureJson<Array<{ name: string; filePath: string; want: boolean }>>('trivy/apk/TestRequired.json');
  it.each(cases.map((c) => [c.name, c.filePath, c.want] as const))('%s (%s) -> %s', (_n, path, want) => {
    expect(apkInstalled.wants(path, 0o100644, 1)).toBe(want);
  });
});

describe('apk: edge and hostile input', () => {
  it('no o: line means the package is its own origin', async () => {
    const r = await apkInstalled.analyze(input(PATH, 'P:x\nV:1.0-r0\nA:aarch64\n'));
    expect(r.packages).toEqual([
      { type: 'apk', name: 'x', version: '1.0-r0', arch: 'aarch64', source: { name: 'x', version: '1.0-r0' } },
    ]);
  });

  it('file paths are normalised and ".." entries are dropped', async () => {
    const r = await apkInstalled.analyze(input(PATH, 'P:x\nV:1\nF:/usr//lib/\nR:a.so\nF:../..\nR:passwd\nR:top\n'));
    expect(r.packages![0]!.files).toEqual(['usr/lib/a.so']);
  });

  it('binary garbage is refused with UserInputError', async () => {
    await expect(async () => apkInstalled.analyze(input(PATH, Buffer.from([0x50, 0x3a, 0, 1, 2])))).rejects.toThrow(
      UserInputError,
    );
  });

  it('a truncated database is refused', async () => {
    const f = { ...input(PATH, 'P:x\nV:1\n'), size: 1 << 30, truncated: true };
    await expect(async () => apkInstalled.analyze(f)).rejects.toThrow(LimitExceededError);
  });

  it('junk lines give a bounded warning list and no packages', async () => {
    const r = await apkInstalled.analyze(input(PATH, 'garbage\n'.repeat(10_000)));
    expect(r.packages).toEqual([]);
    expect(r.warnings!.length).toBe(21);
  });
});
