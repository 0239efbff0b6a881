import type { EntryType } from './types.js';

/**
 * OCI/AUFS whiteouts: in an upper layer, `dir/.wh.NAME` deletes `dir/NAME` (and all below it) of the
 * lower layers, and `dir/.wh..wh..opq` hides everything the lower layers had inside `dir`. Whiteouts never
 * hide entries of their own layer. Other `.wh..wh.*` names are AUFS metadata: hidden, deleting nothing.
 */
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

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function dirName(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** True for any `.wh.`-prefixed entry: a whiteout, an opaque marker or AUFS metadata. None is a real file. */
export function isWhiteout(path: string): boolean {
  return baseName(path).startsWith(PREFIX);
}

/** True for `dir/.wh..wh..opq`. */
export function isOpaqueWhiteout(path: string): boolean {
  return baseName(path) === OPAQUE;
}

/**
 * What a whiteout deletes: for `dir/.wh.NAME` the path `dir/NAME`; for an opaque marker the directory
 * whose lower contents it hides (`""` is the root). `undefined` when the path deletes nothing.
 */
export function whiteoutTarget(path: string): string | undefined {
  return whiteoutOf(path)?.path;
}

interface Node<T> {
  children?: Map<string, Node<T>>;
  /** Set for entries that carry a value (files the caller cares about). */
  value?: T;
  hasValue: boolean;
  isDir: boolean;
}

/**
 * The final filesystem's view of values attached to paths across layers, with whiteout semantics.
 * Use one `layer()` per image layer, bottom-up; `add` every entry of interest (whiteouts included,
 * in any order) and `commit()` at the end of the layer. Memory is one node per path added.
 *
 *   const tree = new LayeredTree<Result>();
 *   for (const layer of image.layers) {
 *     const l = tree.layer();
 *     for await (const e of layer.entries(limits)) l.add(e.path, e.type, valueFor(e));
 *     l.commit();
 *   }
 *   for (const [path, value] of tree.entries()) ...
 */
export class LayeredTree<T> {
  private readonly root: Node<T> = { hasValue: false, isDir: true };

  layer(): LayerChanges<T> {
    return new LayerChanges(this);
  }

  has(path: string): boolean {
    return this.find(path)?.hasValue ?? false;
  }

  get(path: string): T | undefined {
    return this.find(path)?.value;
  }

  /** Every path that holds a value in the final view, in sorted order. */
  *entries(): IterableIterator<[string, T]> {
    yield* walk(this.root, '');
  }

  /** @internal Applies one layer: whiteouts against the lower layers first, then the layer's own entries. */
  apply(
    whiteouts: string[],
    opaque: string[],
    adds: { path: string; type: EntryType; value?: T; set: boolean }[],
  ): void {
    for (const dir of opaque) {
      const node = this.find(dir);
      if (node) node.children = undefined;
    }
    for (const path of whiteouts) {
      const parent = this.find(dirName(path));
      parent?.children?.delete(baseName(path));
    }
    for (const a of adds) {
      const node = this.ensure(a.path);
      const isDir = a.type === 'directory';
      // A non-directory replaces whatever was below a lower-layer directory of the same name, and a
      // directory replaces a lower-layer file (its value goes) but merges with a lower directory.
      if (!isDir) node.children = undefined;
      else if (!node.isDir) {
        node.value = undefined;
        node.hasValue = false;
      }
      node.isDir = isDir;
      if (a.set) {
        node.value = a.value;
        node.hasValue = true;
      } else if (!isDir) {
        node.value = undefined;
        node.hasValue = false;
      }
    }
  }

  private find(path: string): Node<T> | undefined {
    let node: Node<T> | undefined = this.root;
    if (path === '') return node;
    for (const seg of path.split('/')) {
      node = node.children?.get(seg);
      if (!node) return undefined;
    }
    return node;
  }

  private ensure(path: string): Node<T> {
    let node = this.root;
    for (const seg of path.split('/')) {
      node.children ??= new Map();
      let next = node.children.get(seg);
      if (!next) {
        next = { hasValue: false, isDir: false };
        node.children.set(seg, next);
      }
      node = next;
    }
    return node;
  }
}

/** The changes of one layer, collected so that their order inside the layer does not matter. */
export class LayerChanges<T> {
  private readonly whiteouts: string[] = [];
  private readonly opaque: string[] = [];
  private readonly adds: { path: string; type: EntryType; value?: T; set: boolean }[] = [];
  private done = false;

  constructor(private readonly tree: LayeredTree<T>) {}

  /**
   * Records one entry. Whiteout entries are recognised by name. Without `value` the path still
   * counts (it shadows lower values, e.g. a file that replaces a directory) but carries nothing.
   */
  add(path: string, type: EntryType, ...value: [] | [T]): void {
    if (isWhiteout(path)) {
      const wh = whiteoutOf(path);
      if (wh?.opaque) this.opaque.push(wh.path);
      else if (wh) this.whiteouts.push(wh.path);
      return;
    }
    this.adds.push(value.length ? { path, type, value: value[0], set: true } : { path, type, set: false });
  }

  commit(): void {
    if (this.done) throw new Error('layer already committed');
    this.done = true;
    this.tree.apply(this.whiteouts, this.opaque, this.adds);
  }
}

function* walk<T>(node: Node<T>, prefix: string): IterableIterator<[string, T]> {
  if (!node.children) return;
  for (const name of [...node.children.keys()].sort()) {
    const child = node.children.get(name)!;
    const path = prefix ? `${prefix}/${name}` : name;
    if (child.hasValue) yield [path, child.value as T];
    yield* walk(child, path);
  }
}
