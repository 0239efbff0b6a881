/**
 * Go executables: the module build info the Go linker embeds (`go version -m` reads the same).
 * The info sits behind a 16-byte-aligned "\xff Go buildinf:" header, normally in the
 * `.go.buildinfo` section. Go ≥ 1.18 stores the version and module strings inline as varint-prefixed
 * bytes (flag bit 2); older linkers store two pointers to Go string headers, resolved here through
 * the ELF load segments. Reported: the main module, every `dep` (or its `=>` replacement) and the
 * Go toolchain as the `stdlib` package.
 */
import type { FoundPackage } from '../../core/types.js';
import type { Analyzer, AnalyzerResult, FileInput } from '../analyzer.js';
import { isExecutableFile } from './common.js';
import { type Elf, findSection, isElf, parseElf, readUint, vaddrToOffset } from './elf.js';

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const HEADER = 32;
// The tail of the ELF note header the Go linker writes first (.note.go.buildid): type 4, name "Go".
const GO_NOTE_LE = Buffer.from('04000000476f0000', 'hex');
const GO_NOTE_BE = Buffer.from('00000004476f0000', 'hex');
const MAX_STRING = 1 << 20; // build info is a few KiB; a longer string is hostile

export interface GoBuildInfo {
  goVersion: string;
  modinfo: string;
}

function readVarint(buf: Buffer, off: number): { value: number; next: number } | undefined {
  let value = 0;
  let shift = 0;
  for (let i = off; i < buf.length && i < off + 5; i++) {
    const b = buf[i]!;
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return { value, next: i + 1 };
  }
  return undefined;
}

function inlineStrings(buf: Buffer, off: number): [Buffer, Buffer] | undefined {
  const out: Buffer[] = [];
  let p = off;
  for (let i = 0; i < 2; i++) {
    const n = readVarint(buf, p);
    if (!n || n.value > MAX_STRING || n.next + n.value > buf.length) return undefined;
    out.push(buf.subarray(n.next, n.next + n.value));
    p = n.next + n.value;
  }
  return [out[0]!, out[1]!];
}

/** Pre-1.18 layout: a pointer to a Go string header {data pointer, length}. */
function pointedString(buf: Buffer, elf: Elf, ptrOff: number, ptrSize: number, le: boolean): Buffer | undefined {
  const hdrVa = readUint(buf, ptrOff, ptrSize, le);
  const hdrOff = hdrVa === undefined ? undefined : vaddrToOffset(elf, hdrVa);
  if (hdrOff === undefined) return undefined;
  const dataVa = readUint(buf, hdrOff, ptrSize, le);
  const len = readUint(buf, hdrOff + ptrSize, ptrSize, le);
  if (dataVa === undefined || len === undefined || len > MAX_STRING) return undefined;
  if (len === 0) return Buffer.alloc(0);
  const dataOff = vaddrToOffset(elf, dataVa);
  if (dataOff === undefined || dataOff + len > buf.length) return undefined;
  return buf.subarray(dataOff, dataOff + len);
}

function hasGoNote(buf: Buffer): boolean {
  const head = buf.subarray(0, 64 * 1024);
  return head.indexOf(GO_NOTE_LE) >= 0 || head.indexOf(GO_NOTE_BE) >= 0;
}

function decodeAt(buf: Buffer, elf: Elf, off: number): GoBuildInfo | undefined {
  if (off + HEADER > buf.length || !buf.subarray(off, off + MAGIC.length).equals(MAGIC)) return undefined;
  const ptrSize = buf[off + 14]!;
  const flags = buf[off + 15]!;
  let strings: [Buffer, Buffer] | undefined;
  if (flags & 2) {
    strings = inlineStrings(buf, off + HEADER);
  } else if (ptrSize === 4 || ptrSize === 8) {
    const le = (flags & 1) === 0;
    const v = pointedString(buf, elf, off + 16, ptrSize, le);
    const m = pointedString(buf, elf, off + 16 + ptrSize, ptrSize, le);
    if (v !== undefined && m !== undefined) strings = [v, m];
  }
  if (!strings) return undefined;
  let modinfo = strings[1];
  // The module info is framed by 16 binary sentinel bytes on each side (cmd/go/internal/modload).
  if (modinfo.length >= 33 && modinfo[modinfo.length - 17] === 0x0a) modinfo = modinfo.subarray(16, -16);
  return { goVersion: strings[0].toString('utf8'), modinfo: modinfo.toString('utf8') };
}

/** Finds and decodes the build info; undefined when the binary has none (or it is out of reach). */
export function readGoBuildInfo(buf: Buffer): GoBuildInfo | undefined {
  const elf = parseElf(buf);
  if (!elf) return undefined;
  const section = findSection(elf, '.go.buildinfo');
  if (section) {
    const info = decodeAt(buf, elf, section.offset);
    if (info) return info;
  }
  // A section table without Go's build-ID note is a C/C++/Rust binary: nothing to search for. Without a
  // section table (or with the note: pre-1.13 Go kept the info in .data), search; the header is 16-byte aligned.
  if (elf.sections.length > 0 && !findSection(elf, '.note.go.buildid') && !hasGoNote(buf)) return undefined;
  let tries = 0;
  for (let at = buf.indexOf(MAGIC); at >= 0 && tries < 8; at = buf.indexOf(MAGIC, at + 1)) {
    if (at % 16 !== 0) continue;
    tries++;
    const info = decodeAt(buf, elf, at);
    if (info) return info;
  }
  return undefined;
}

/** A Go module as a purl-shaped package: "github.com/a/b" → namespace "github.com/a", name "b". */
export function goModule(path: string, version: string): FoundPackage {
  const slash = path.lastIndexOf('/');
  const pkg: FoundPackage = { type: 'golang', name: slash < 0 ? path : path.slice(slash + 1), version };
  if (slash > 0) pkg.namespace = path.slice(0, slash);
  return pkg;
}

/** Packages from the build info text (lines "mod|dep|=>\tpath\tversion\tsum"). */
export function goPackages(info: GoBuildInfo): FoundPackage[] {
  const out: FoundPackage[] = [];
  let lastDep: { index: number } | undefined;
  for (const line of info.modinfo.split('\n')) {
    const f = line.split('\t');
    const kind = f[0];
    const path = f[1] ?? '';
    const version = f[2] ?? '';
    if (kind === 'mod' && path) {
      // A main module built from a work tree has no version: "(devel)".
      out.push(goModule(path, version === '(devel)' ? '' : version));
      lastDep = undefined;
    } else if (kind === 'dep' && path) {
      out.push(goModule(path, version));
      lastDep = { index: out.length - 1 };
    } else if (kind === '=>' && lastDep && path) {
      // A replacement with a version is the module actually linked; a local directory (no version)
      // keeps the required module's identity, the best name the binary gives for that code.
      if (version) out[lastDep.index] = goModule(path, version);
      lastDep = undefined;
    }
  }
  // "go1.21.3" or "go1.22.0 X:boringcrypto"; development toolchains ("devel ...") have no release.
  const go = /^go(\d+(?:\.\d+){0,2}(?:(?:rc|beta)\d+)?)(?:\s|$)/.exec(info.goVersion);
  if (go) out.push({ type: 'golang', name: 'stdlib', version: go[1]! });
  return out;
}

export function analyzeGoBinary(file: FileInput): AnalyzerResult {
  if (!isElf(file.content)) return {}; // scripts and other executables: not ours, not a problem
  const info = readGoBuildInfo(file.content);
  if (!info) {
    // A Go binary cut short by the read limit: its build-ID note near the start says it was Go.
    if (file.truncated && hasGoNote(file.content)) {
      return { warnings: ['Go binary larger than the analyzer read limit; build info not reached'] };
    }
    return {};
  }
  return { packages: goPackages(info) };
}

export const goBinaryAnalyzer: Analyzer = {
  name: 'go-binary',
  version: 1,
  // Executable regular files; the ELF magic is checked in analyze (a path says nothing here).
  wants: (_path, mode, size) => isExecutableFile(mode, size),
  analyze: analyzeGoBinary,
};
