import type { IncomingMessage } from 'node:http';
import { createGunzip } from 'node:zlib';
import { LimitExceededError, UserInputError } from '../../core/errors.js';

/**
 * Reads a request body up to `maxBytes` (after gzip decoding, when Content-Encoding says gzip: shippers such as
 * Filebeat compress). A declared or actual size over the bound throws LimitExceededError (HTTP 413).
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip') {
    throw new UserInputError(`unsupported Content-Encoding ${encoding}`);
  }
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    throw new LimitExceededError(`body of ${declared} bytes exceeds the limit of ${maxBytes}`);
  }
  const stream = encoding === 'gzip' ? req.pipe(createGunzip()) : req;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        req.resume();
        throw new LimitExceededError(`body exceeds the limit of ${maxBytes} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof LimitExceededError) throw err;
    throw new UserInputError(`cannot read body: ${(err as Error).message}`);
  }
  return Buffer.concat(chunks);
}

/** Splits NDJSON into parsed objects; a bad line is a UserInputError naming its line number. */
export function parseNdjson(text: string): unknown[] {
  const out: unknown[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      throw new UserInputError(`line ${i + 1}: not valid JSON`);
    }
  }
  return out;
}

/** A JSON body: one object, an array of objects, or NDJSON. */
export function parseJsonOrNdjson(text: string): unknown[] {
  const t = text.trim();
  if (t.startsWith('[')) {
    try {
      return JSON.parse(t) as unknown[];
    } catch {
      throw new UserInputError('body is not a valid JSON array');
    }
  }
  return parseNdjson(t);
}
