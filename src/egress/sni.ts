/**
 * Reads the server name from a TLS ClientHello (RFC 8446 §4.1.2, RFC 6066 §3) without terminating TLS.
 * `need` says how many bytes the first record needs in total when the buffer is still short.
 */
export type SniResult =
  | { kind: 'need'; bytes: number }
  | { kind: 'name'; name: string }
  | { kind: 'none' }
  | { kind: 'not-tls' };

export const MAX_CLIENT_HELLO = 16_384 + 5;

export function readSni(buf: Buffer): SniResult {
  if (buf.length < 5) return { kind: 'need', bytes: 5 };
  if (buf[0] !== 0x16 || buf[1] !== 0x03) return { kind: 'not-tls' };
  const recordLen = buf.readUInt16BE(3);
  if (recordLen + 5 > MAX_CLIENT_HELLO) return { kind: 'not-tls' };
  if (buf.length < 5 + recordLen) return { kind: 'need', bytes: 5 + recordLen };
  const hello = buf.subarray(5, 5 + recordLen);
  try {
    return parseHello(hello);
  } catch {
    return { kind: 'not-tls' };
  }
}

function parseHello(h: Buffer): SniResult {
  // A ClientHello split across records is legal but rare; we only read the first record and call that "none".
  if (h[0] !== 0x01) return { kind: 'not-tls' };
  const len = h.readUIntBE(1, 3);
  if (len + 4 > h.length) return { kind: 'none' };
  let p = 4 + 2 + 32; // version, random
  p += 1 + h[p]!; // session id
  p += 2 + h.readUInt16BE(p); // cipher suites
  p += 1 + h[p]!; // compression methods
  if (p + 2 > h.length) return { kind: 'none' };
  const extEnd = p + 2 + h.readUInt16BE(p);
  p += 2;
  while (p + 4 <= extEnd) {
    const type = h.readUInt16BE(p);
    const size = h.readUInt16BE(p + 2);
    p += 4;
    if (type === 0x0000) {
      let q = p + 2; // server_name_list length
      while (q + 3 <= p + size) {
        const nameType = h[q]!;
        const nameLen = h.readUInt16BE(q + 1);
        if (nameType === 0) return { kind: 'name', name: h.toString('ascii', q + 3, q + 3 + nameLen).toLowerCase() };
        q += 3 + nameLen;
      }
      return { kind: 'none' };
    }
    p += size;
  }
  return { kind: 'none' };
}
