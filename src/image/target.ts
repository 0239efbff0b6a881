import { UserInputError } from '../core/errors.js';
import { printable } from './paths.js';

export type ParsedTarget =
  | { kind: 'docker-archive'; path: string; ref?: string }
  | { kind: 'oci'; path: string; tag?: string }
  | { kind: 'oci-archive'; path: string; tag?: string }
  | { kind: 'dir'; path: string }
  | { kind: 'registry'; ref: string }
  /** A bare path: the source is detected from what is there. */
  | { kind: 'auto'; path: string };

export const TARGET_PREFIXES = ['docker-archive', 'oci', 'oci-archive', 'dir', 'registry'] as const;

/**
 * Splits a target into its source kind and parts, by syntax only. `oci:DIR:TAG` splits at the last
 * ":" when what follows has no "/"; `docker-archive:PATH:NAME` at the first ":" after the prefix.
 * A path that itself contains ":" still works: openImage tries the whole string as a path first.
 */
export function parseTarget(target: string): ParsedTarget {
  if (target.trim() === '') throw new UserInputError('target is empty');
  const colon = target.indexOf(':');
  const prefix = colon > 0 ? target.slice(0, colon) : '';
  const rest = target.slice(colon + 1);
  switch (prefix) {
    case 'docker-archive': {
      const i = rest.indexOf(':');
      if (i > 0 && i < rest.length - 1)
        return { kind: 'docker-archive', path: rest.slice(0, i), ref: rest.slice(i + 1) };
      return { kind: 'docker-archive', path: nonEmpty(rest, target) };
    }
    case 'oci':
    case 'oci-archive': {
      const i = rest.lastIndexOf(':');
      const tag = i >= 0 ? rest.slice(i + 1) : '';
      if (i > 0 && tag !== '' && !tag.includes('/')) return { kind: prefix, path: rest.slice(0, i), tag };
      return { kind: prefix, path: nonEmpty(rest, target) };
    }
    case 'dir':
      return { kind: 'dir', path: nonEmpty(rest, target) };
    case 'registry':
      return { kind: 'registry', ref: nonEmpty(rest, target) };
    default:
      return { kind: 'auto', path: target };
  }
}

function nonEmpty(s: string, target: string): string {
  if (s === '') throw new UserInputError(`target "${printable(target)}" names no path or reference`);
  return s;
}
