import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Proxy tokens are stored as scrypt hashes with a per-token salt: "scrypt$N$r$p$<salt b64>$<hash b64>".
 * A leaked config file therefore does not leak usable credentials.
 */
const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

function scryptAsync(secret: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEYLEN, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashToken(token: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(token, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

const HASH_FORMAT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

export function isTokenHash(text: string): boolean {
  const m = HASH_FORMAT.exec(text);
  if (!m) return false;
  const n = Number(m[1]);
  // N must be a power of two; bound the parameters so that a config cannot make each check cost seconds.
  return n >= 1024 && n <= 1 << 20 && (n & (n - 1)) === 0 && Number(m[2]) <= 32 && Number(m[3]) <= 16;
}

export async function verifyToken(token: string, stored: string): Promise<boolean> {
  const m = HASH_FORMAT.exec(stored);
  if (!m) return false;
  const expected = Buffer.from(m[5]!, 'base64');
  const key = await scryptAsync(token, Buffer.from(m[4]!, 'base64'), Number(m[1]), Number(m[2]), Number(m[3]));
  return expected.length === key.length && timingSafeEqual(expected, key);
}

/**
 * scrypt is slow on purpose; a proxy cannot pay it on every request. Verified outcomes are cached under a
 * SHA-256 of (hash, token) — never the token itself — in a bounded map, negative outcomes included so that a
 * client repeating a bad token cannot make us spend scrypt time again.
 */
export class TokenVerifier {
  private readonly cache = new Map<string, boolean>();
  constructor(private readonly maxEntries = 10_000) {}

  async verify(token: string, stored: string): Promise<boolean> {
    const key = createHash('sha256').update(stored).update('\0').update(token).digest('base64');
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const ok = await verifyToken(token, stored);
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, ok);
    return ok;
  }
}
