import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { findSection, parseElf } from '../../../src/inventory/lang/elf.js';
import { rustBinaryAnalyzer } from '../../../src/inventory/lang/rust-binary.js';
import { fixture, ids, input } from './helpers.js';

const bin = gunzipSync(fixture('rust-binary/audited.gz'));

describe('rust-binary: cargo-auditable .dep-v0 section', () => {
  it('the ELF reader finds the section where binutils readelf does', () => {
    const readelf = fixture('rust-binary/readelf-dep-v0.txt').toString();
    const m = /\.dep-v0\s+PROGBITS\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)/.exec(readelf.replace(/\n\s*/g, ' '))!;
    const s = findSection(parseElf(bin)!, '.dep-v0')!;
    expect([s.addr, s.offset, s.size]).toEqual([
      Number.parseInt(m[1]!, 16),
      Number.parseInt(m[2]!, 16),
      Number.parseInt(m[3]!, 16),
    ]);
  });

  it('reports every embedded package; build dependencies are marked dev', async () => {
    const res = await rustBinaryAnalyzer.analyze(input('usr/local/bin/audited', bin));
    const want = (
      JSON.parse(fixture('rust-binary/deps.json').toString()) as {
        packages: { name: string; version: string; kind?: string }[];
      }
    ).packages;
    expect(ids(res.packages)).toEqual(want.map((p) => `${p.name}@${p.version}`).sort());
    expect(ids(res.packages, (p) => p.dev === true)).toEqual(['cc@1.0.83']);
  });

  it('a corrupted section is a warning', async () => {
    const bad = Buffer.from(bin);
    const s = findSection(parseElf(bad)!, '.dep-v0')!;
    bad.fill(0x41, s.offset, s.offset + s.size);
    const res = await rustBinaryAnalyzer.analyze(input('x', bad));
    expect(res.packages ?? []).toEqual([]);
    expect(res.warnings![0]).toMatch(/^cargo-auditable data unreadable/);
  });

  it('binaries without the section (Go, node) give nothing', async () => {
    expect(await rustBinaryAnalyzer.analyze(input('x', gunzipSync(fixture('go/hello-amd64.gz'))))).toEqual({});
  });
});
