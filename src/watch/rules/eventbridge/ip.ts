import { isIP } from 'node:net';

/** IPv4 as 4 bytes, IPv6 as 16 bytes, or null when the text is not an address. */
export function parseIp(text: string): Uint8Array | null {
  const kind = isIP(text);
  if (kind === 4) return Uint8Array.from(text.split('.').map(Number));
  if (kind !== 6) return null;
  let s = text;
  const out = new Uint8Array(16);
  // A trailing dotted quad (::ffff:1.2.3.4) becomes two hextets.
  const dot = s.lastIndexOf(':');
  const tail = s.slice(dot + 1);
  if (tail.includes('.')) {
    const b = tail.split('.').map(Number);
    s = `${s.slice(0, dot + 1)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, rest] = s.includes('::') ? (s.split('::') as [string, string]) : [s, undefined];
  const h = head ? head.split(':') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...Array<string>(8 - h.length - r.length).fill('0'), ...r];
  groups.forEach((g, idx) => {
    const n = Number.parseInt(g, 16);
    out[idx * 2] = n >> 8;
    out[idx * 2 + 1] = n & 0xff;
  });
  return out;
}

export interface Cidr {
  readonly bytes: Uint8Array;
  readonly bits: number;
}

/** Parses "addr/len"; returns an error text for the caller to wrap. */
export function parseCidr(text: string): Cidr | string {
  const parts = text.split('/');
  if (parts.length !== 2) return "Malformed CIDR, one '/' required";
  const bytes = parseIp(parts[0]!);
  if (!bytes) return `Malformed CIDR, invalid address: ${parts[0]}`;
  if (!/^[0-9]{1,3}$/.test(parts[1]!)) return `Malformed CIDR, invalid prefix length: ${parts[1]}`;
  const bits = Number(parts[1]);
  if (bits > bytes.length * 8) return `Malformed CIDR, prefix length ${bits} too large`;
  return { bytes, bits };
}

export function cidrContains(c: Cidr, ip: Uint8Array): boolean {
  if (ip.length !== c.bytes.length) return false;
  let bits = c.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip[i]! & mask) !== (c.bytes[i]! & mask)) return false;
  }
  return true;
}
