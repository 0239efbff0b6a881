/**
 * A minimal, bounds-checked ELF reader: section lookup by name and virtual-address → file-offset
 * translation. Enough for the Go build info and cargo-auditable sections; every read is checked
 * against the buffer, so a hostile or truncated file yields `undefined`, never an exception.
 */

export interface ElfSection {
  name: string;
  addr: number;
  offset: number;
  size: number;
}

export interface Elf {
  is64: boolean;
  littleEndian: boolean;
  sections: ElfSection[];
  /** PT_LOAD segments: file bytes [offset, offset+filesz) are mapped at [vaddr, vaddr+filesz). */
  loads: { vaddr: number; offset: number; filesz: number }[];
}

const MAX_HEADERS = 4096; // real binaries have tens; a larger count is hostile

export function isElf(buf: Buffer): boolean {
  return buf.length >= 16 && buf[0] === 0x7f && buf[1] === 0x45 && buf[2] === 0x4c && buf[3] === 0x46;
}

/** Reads an unsigned integer of `size` bytes; undefined when out of bounds or not a safe integer. */
export function readUint(buf: Buffer, off: number, size: number, le: boolean): number | undefined {
  if (off < 0 || off + size > buf.length) return undefined;
  switch (size) {
    case 2:
      return le ? buf.readUInt16LE(off) : buf.readUInt16BE(off);
    case 4:
      return le ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
    case 8: {
      const v = le ? buf.readBigUInt64LE(off) : buf.readBigUInt64BE(off);
      return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;
    }
    default:
      return undefined;
  }
}

export function parseElf(buf: Buffer): Elf | undefined {
  if (!isElf(buf)) return undefined;
  const cls = buf[4];
  const data = buf[5];
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2)) return undefined;
  const is64 = cls === 2;
  const le = data === 1;
  const w = is64 ? 8 : 4;
  const u = (off: number, size: number): number | undefined => readUint(buf, off, size, le);
  const phoff = u(is64 ? 0x20 : 0x1c, w);
  const shoff = u(is64 ? 0x28 : 0x20, w);
  const base = is64 ? 0x36 : 0x2a;
  const phentsize = u(base, 2);
  const phnum = u(base + 2, 2);
  const shentsize = u(base + 4, 2);
  const shnum = u(base + 6, 2);
  const shstrndx = u(base + 8, 2);
  if ([phoff, shoff, phentsize, phnum, shentsize, shnum, shstrndx].some((v) => v === undefined)) return undefined;

  const loads: Elf['loads'] = [];
  for (let i = 0; i < Math.min(phnum!, MAX_HEADERS); i++) {
    const p = phoff! + i * phentsize!;
    if (u(p, 4) !== 1) continue; // PT_LOAD
    const offset = u(p + (is64 ? 8 : 4), w);
    const vaddr = u(p + (is64 ? 16 : 8), w);
    const filesz = u(p + (is64 ? 32 : 16), w);
    if (offset === undefined || vaddr === undefined || filesz === undefined) continue;
    loads.push({ vaddr, offset, filesz });
  }

  const raw: { nameOff: number; addr: number; offset: number; size: number }[] = [];
  for (let i = 0; i < Math.min(shnum!, MAX_HEADERS) && shoff! > 0; i++) {
    const s = shoff! + i * shentsize!;
    const nameOff = u(s, 4);
    const addr = u(s + (is64 ? 16 : 12), w);
    const offset = u(s + (is64 ? 24 : 16), w);
    const size = u(s + (is64 ? 32 : 20), w);
    if (nameOff === undefined || addr === undefined || offset === undefined || size === undefined) break;
    raw.push({ nameOff, addr, offset, size });
  }
  const strtab = raw[shstrndx!];
  const sections: ElfSection[] = [];
  for (const s of raw) {
    let name = '';
    if (strtab) {
      const start = strtab.offset + s.nameOff;
      const end = start < buf.length ? buf.indexOf(0, start) : -1;
      if (end > start && end - start < 256) name = buf.toString('latin1', start, end);
    }
    sections.push({ name, addr: s.addr, offset: s.offset, size: s.size });
  }
  return { is64, littleEndian: le, sections, loads };
}

export function findSection(elf: Elf, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name);
}

/** File offset of a virtual address, through the PT_LOAD segments. */
export function vaddrToOffset(elf: Elf, vaddr: number): number | undefined {
  for (const l of elf.loads) {
    if (vaddr >= l.vaddr && vaddr < l.vaddr + l.filesz) return l.offset + (vaddr - l.vaddr);
  }
  return undefined;
}

/** The bytes of a section that lie inside the buffer, or undefined. */
export function sectionBytes(buf: Buffer, s: ElfSection): Buffer | undefined {
  if (s.offset < 0 || s.size <= 0 || s.offset + s.size > buf.length) return undefined;
  return buf.subarray(s.offset, s.offset + s.size);
}
