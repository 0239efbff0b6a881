import { UserInputError } from '../core/errors.js';
import type { ImageConfig } from './types.js';

/** Parses a JSON document of an image (manifest, index, config) into a plain object, or says which is broken. */
export function parseJsonDocument(data: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch (err) {
    throw new UserInputError(`${what} is not valid JSON: ${jsonProblem(err)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UserInputError(`${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Picks the fields the stages read from an OCI/Docker image config (or a legacy v1 image json, which
 * has the same top-level shape). Fields of the wrong type are dropped rather than trusted.
 */
export function parseImageConfig(doc: Record<string, unknown>): ImageConfig {
  const out: ImageConfig = { raw: doc };
  for (const key of ['architecture', 'os', 'variant', 'created'] as const) {
    const v = doc[key];
    if (typeof v === 'string') out[key] = v;
  }
  const cfg = doc.config ?? doc.container_config;
  if (isObject(cfg)) out.config = cfg as ImageConfig['config'];
  const rootfs = doc.rootfs;
  if (isObject(rootfs) && Array.isArray(rootfs.diff_ids) && rootfs.diff_ids.every((d) => typeof d === 'string')) {
    out.rootfs = { type: String(rootfs.type ?? 'layers'), diff_ids: rootfs.diff_ids as string[] };
  }
  if (Array.isArray(doc.history)) out.history = doc.history.filter(isObject) as ImageConfig['history'];
  return out;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The parser's complaint without the document's text: V8 quotes the start of the input in its message,
 * and a hostile archive could point manifest.json at something secret.
 */
export function jsonProblem(err: unknown): string {
  const msg = err instanceof Error ? err.message : '';
  const pos = /position (\d+)/.exec(msg);
  if (pos) return `syntax error at position ${pos[1]}`;
  if (/Unexpected end/.test(msg)) return 'unexpected end of input';
  return 'syntax error';
}
