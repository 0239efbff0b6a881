import { createHash, type Hash } from 'node:crypto';
import { UserInputError } from '../core/errors.js';

const DIGEST_RE: Record<string, RegExp> = {
  sha256: /^[a-f0-9]{64}$/,
  sha512: /^[a-f0-9]{128}$/,
};

/**
 * Checks a content digest ("sha256:<hex>") strictly. Digests become file names inside layouts and
 * archives ("blobs/sha256/<hex>"), so anything but a known algorithm and lower-case hex is refused.
 */
export function parseDigest(digest: unknown, what: string): { algorithm: string; hex: string } {
  if (typeof digest !== 'string') throw new UserInputError(`${what}: digest missing or not a string`);
  const i = digest.indexOf(':');
  const algorithm = digest.slice(0, i);
  const hex = digest.slice(i + 1);
  const re = DIGEST_RE[algorithm];
  if (i < 0 || !re) throw new UserInputError(`${what}: unsupported digest "${digest.slice(0, 80)}"`);
  if (!re.test(hex)) throw new UserInputError(`${what}: malformed digest "${digest.slice(0, 80)}"`);
  return { algorithm, hex };
}

export function hasherFor(digest: string): Hash {
  return createHash(parseDigest(digest, 'digest').algorithm);
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
