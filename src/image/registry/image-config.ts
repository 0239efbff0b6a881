/**
 * The image config blob (OCI image config / Docker container image v1) to `ImageConfig`: typed fields the
 * stages read, picked with type checks so that a hostile config cannot smuggle wrong types in; `raw` keeps all.
 */
import { UnavailableError } from '../../core/errors.js';
import type { ImageConfig } from '../types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strArray = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;

function pick<T extends Obj>(entries: [string, unknown][]): T {
  return Object.fromEntries(entries.filter(([, v]) => v !== undefined)) as T;
}

export function parseImageConfig(bytes: Buffer, what: string): ImageConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new UnavailableError(`${what}: the image config is not JSON`);
  }
  if (!isObj(raw)) throw new UnavailableError(`${what}: the image config is not a JSON object`);
  const c = isObj(raw.config) ? raw.config : undefined;
  const rootfs = isObj(raw.rootfs) ? raw.rootfs : undefined;
  const diffIds = strArray(rootfs?.diff_ids);
  const labels = isObj(c?.Labels) ? c.Labels : undefined;
  return pick<ImageConfig & Obj>([
    ['architecture', str(raw.architecture)],
    ['os', str(raw.os)],
    ['variant', str(raw.variant)],
    ['created', str(raw.created)],
    [
      'config',
      c &&
        pick([
          ['User', str(c.User)],
          ['Env', strArray(c.Env)],
          ['Entrypoint', c.Entrypoint === null ? null : strArray(c.Entrypoint)],
          ['Cmd', c.Cmd === null ? null : strArray(c.Cmd)],
          ['ExposedPorts', isObj(c.ExposedPorts) ? c.ExposedPorts : undefined],
          ['Healthcheck', isObj(c.Healthcheck) ? c.Healthcheck : undefined],
          [
            'Labels',
            labels && Object.values(labels).every((v) => typeof v === 'string')
              ? (labels as Record<string, string>)
              : undefined,
          ],
          ['WorkingDir', str(c.WorkingDir)],
          ['Volumes', c.Volumes === null ? null : isObj(c.Volumes) ? c.Volumes : undefined],
        ]),
    ],
    ['rootfs', rootfs && diffIds ? { type: str(rootfs.type) ?? 'layers', diff_ids: diffIds } : undefined],
    [
      'history',
      Array.isArray(raw.history)
        ? raw.history.filter(isObj).map((h) =>
            pick([
              ['created', str(h.created)],
              ['created_by', str(h.created_by)],
              ['empty_layer', typeof h.empty_layer === 'boolean' ? h.empty_layer : undefined],
              ['comment', str(h.comment)],
            ]),
          )
        : undefined,
    ],
    ['raw', raw],
  ]);
}
