import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { goBinaryAnalyzer, readGoBuildInfo } from '../../../src/inventory/lang/go-binary.js';
import { fixture, ids, input } from './helpers.js';

const EXEC = 0o100755;

/**
 * Expected packages from `go version -m` output (recorded with Go 1.19.8, see the fixture README):
 * "mod"/"dep" lines, a "=>" line replacing the dep before it when it names a version, and the Go
 * version as stdlib. "(devel)" main modules have no version.
 */
function expectedFromGoVersionM(text: string): string[] {
  const out: string[] = [];
  const lines = text.split('\n');
  const go = /: go(\S+)$/.exec(lines[0]!)![1]!;
  for (const line of lines.slice(1)) {
    const [, kind, path, version] = line.split('\t');
    if (kind === 'mod' || kind === 'dep') out.push(`${path}@${version === '(devel)' ? '' : version}`);
    if (kind === '=>' && version) out[out.length - 1] = `${path}@${version}`;
  }
  out.push(`stdlib@${go}`);
  return out.sort();
}

describe('go-binary: build info read like `go version -m`', () => {
  it.each([
    ['hello-amd64.gz', 'ELF64 little-endian, Go 1.18+ inline format'],
    ['hello-386.gz', 'ELF32'],
    ['hello-s390x.gz', 'ELF64 big-endian'],
    ['legacy-go1.16.elf', 'pre-1.18 pointer format, no section table'],
  ])('%s (%s)', async (file, _what) => {
    const raw = fixture(`go/${file}`);
    const bin = file.endsWith('.gz') ? gunzipSync(raw) : raw;
    const res = await goBinaryAnalyzer.analyze(input('usr/local/bin/app', bin));
    const want = expectedFromGoVersionM(fixture(`go/${file.replace(/\.gz$/, '')}.go-version-m.txt`).toString());
    expect(res.warnings ?? []).toEqual([]);
    expect(ids(res.packages)).toEqual(want);
    expect(res.packages!.every((p) => p.type === 'golang')).toBe(true);
  });

  it('module paths split into purl namespace and name; replacements win', async () => {
    const res = await goBinaryAnalyzer.analyze(input('app', gunzipSync(fixture('go/hello-amd64.gz'))));
    expect(res.packages).toContainEqual({
      type: 'golang',
      namespace: 'example.org',
      name: 'newfmt',
      version: 'v1.1.0',
    });
    expect(res.packages).toContainEqual({ type: 'golang', name: 'stdlib', version: '1.19.8' });
    expect(res.packages!.some((p) => p.name === 'oldfmt')).toBe(false);
  });

  it("Debian's docker-registry (GOPATH build: no modules) gives the Go version only", async () => {
    const bin = (process.env.PATH ?? '')
      .split(':')
      .map((d) => join(d, 'docker-registry'))
      .find((p) => existsSync(p));
    expect(bin, 'docker-registry (Debian package, scripts/apt-packages.txt) not installed').toBeDefined();
    const res = await goBinaryAnalyzer.analyze(input('usr/bin/docker-registry', readFileSync(bin!)));
    const want = expectedFromGoVersionM(fixture('go/docker-registry.go-version-m.txt').toString());
    expect(ids(res.packages)).toEqual(want);
    expect(readGoBuildInfo(readFileSync(bin!))!.modinfo).toMatch(
      /^path\tgithub\.com\/docker\/distribution\/cmd\/registry\n/,
    );
  });
});

describe('go-binary: what it takes and what it ignores', () => {
  it.each([
    ['executable file', EXEC, 100_000, true],
    ['executable, permission bits only (as the layer walker passes tar modes)', 0o755, 100_000, true],
    ['setuid executable, permission bits only', 0o4755, 100_000, true],
    ['not executable, permission bits only', 0o644, 100_000, false],
    ['not executable', 0o100644, 100_000, false],
    ['directory', 0o040755, 100_000, false],
    ['symlink', 0o120777, 100_000, false],
    ['tiny executable', EXEC, 100, false],
  ])('%s → %s', (_n, mode, size, want) => {
    expect(goBinaryAnalyzer.wants('usr/bin/x', mode, size)).toBe(want);
  });

  it.each([
    ['a shell script', Buffer.from('#!/bin/sh\necho hi\n'.repeat(500))],
    ['an ELF without Go build info', readFileSync(process.execPath).subarray(0, 1 << 20)],
    ['a truncated ELF header', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2])],
  ])('%s: no packages, no crash', async (_n, buf) => {
    const res = await goBinaryAnalyzer.analyze(input('usr/bin/x', buf));
    expect(res.packages ?? []).toEqual([]);
  });

  it('hostile build info (huge lengths, pointers outside the file) is ignored, never thrown', async () => {
    const bin = Buffer.from(gunzipSync(fixture('go/hello-amd64.gz')));
    const at = bin.indexOf(Buffer.from('\xff Go buildinf:', 'latin1'));
    bin.fill(0xff, at + 32, at + 40); // varint lengths that never end / are enormous
    expect((await goBinaryAnalyzer.analyze(input('x', bin))).packages ?? []).toEqual([]);
    const legacy = Buffer.from(fixture('go/legacy-go1.16.elf'));
    legacy.writeBigUInt64LE(0xffff_ffff_0000n, 0x100 + 16); // version pointer outside every segment
    expect((await goBinaryAnalyzer.analyze(input('x', legacy))).packages ?? []).toEqual([]);
  });

  it('every truncation of a real binary is handled without throwing', async () => {
    const bin = gunzipSync(fixture('go/hello-386.gz'));
    for (let n = 0; n < bin.length; n += 4099) {
      const res = await goBinaryAnalyzer.analyze({ ...input('x', bin.subarray(0, n)), truncated: true });
      expect(Array.isArray(res.packages ?? [])).toBe(true);
    }
  });

  it('a Go binary cut before its build info says so', async () => {
    const bin = gunzipSync(fixture('go/hello-amd64.gz'));
    const at = bin.indexOf(Buffer.from('\xff Go buildinf:', 'latin1'));
    const res = await goBinaryAnalyzer.analyze({ ...input('usr/bin/app', bin.subarray(0, at - 1)), truncated: true });
    expect(res.warnings).toEqual(['Go binary larger than the analyzer read limit; build info not reached']);
  });
});
