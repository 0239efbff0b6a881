import { UserInputError } from '../core/errors.js';

/**
 * Normalises a tar member name to the LayerEntry path form: no leading "./", no "." or empty segments,
 * no trailing "/". Names that could reach outside the image root are refused, never repaired: an
 * absolute name or a ".." segment in a layer is a sign of a hostile or broken archive (DESIGN.md).
 * Returns "" for the root directory itself ("./" or ".").
 */
export function normaliseEntryPath(name: string, layer: string): string {
  if (name.startsWith('/')) {
    throw new UserInputError(`layer ${layer}: entry "${printable(name)}" has an absolute path; refused`);
  }
  if (name.includes('\0')) {
    throw new UserInputError(`layer ${layer}: entry "${printable(name)}" contains a NUL byte; refused`);
  }
  const out: string[] = [];
  for (const seg of name.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      throw new UserInputError(`layer ${layer}: entry "${printable(name)}" has a ".." segment; refused`);
    }
    out.push(seg);
  }
  return out.join('/');
}

/**
 * Resolves a symlink target inside the image root, the way the kernel would inside the container:
 * absolute targets start at the root and ".." stops at the root. The result never leaves the image,
 * so it is safe to look up in the image's own file list (nothing on the host is ever followed).
 * `linkPath` is the normalised path of the symlink itself.
 */
export function resolveInRoot(linkPath: string, target: string): string {
  const parts = target.startsWith('/') ? [] : linkPath.split('/').slice(0, -1);
  for (const seg of target.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return parts.join('/');
}

/** Keeps error messages on one line and free of terminal control characters. */
export function printable(s: string): string {
  const clipped = s.length > 200 ? `${s.slice(0, 200)}…` : s;
  return clipped.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
