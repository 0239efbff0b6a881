/** OCI/AUFS whiteouts: `.wh.NAME` deletes NAME from lower layers; `.wh..wh..opq` empties its directory. */
const PREFIX = '.wh.';
const OPAQUE = '.wh..wh..opq';

export interface Whiteout {
  /** The path deleted (or, when opaque, the directory emptied); "" for the root. */
  path: string;
  opaque: boolean;
}

/** The whiteout an entry path stands for, or undefined for an ordinary entry. */
export function whiteoutOf(entryPath: string): Whiteout | undefined {
  const slash = entryPath.lastIndexOf('/');
  const base = entryPath.slice(slash + 1);
  if (!base.startsWith(PREFIX)) return undefined;
  const dir = slash < 0 ? '' : entryPath.slice(0, slash);
  if (base === OPAQUE) return { path: dir, opaque: true };
  const name = base.slice(PREFIX.length);
  if (name === '' || name.startsWith(PREFIX)) return undefined; // other AUFS metadata (.wh..wh.plnk, ...)
  return { path: dir ? `${dir}/${name}` : name, opaque: false };
}

/** True when `path` is `target` or below it (an empty target is the root). */
export function isAtOrBelow(path: string, target: string): boolean {
  if (target === '') return true;
  return path === target || (path.startsWith(target) && path.charCodeAt(target.length) === 47) /* / */;
}
