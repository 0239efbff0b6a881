import type { Branch, CompiledPattern, FieldCondition, Leaf } from './pattern.js';

/**
 * Array-consistent matching (event-ruler's rulesForJSONEvent): the values chosen to satisfy the
 * fields of one branch must not come from different elements of the same array. Every leaf therefore
 * carries its trail of (array id, index) pairs from the root; two leaves conflict when they pass
 * through the same array at different indexes.
 *
 * Hot path: no closures are created per event (they are costly under a bundler's keep-names helper and
 * for the garbage collector), and the walk visits only the keys some pattern reads.
 */
export interface FlatLeaf {
  readonly v: Leaf;
  /** Flat pairs: arrayId, index, arrayId, index, ... from the root down. */
  readonly trail: readonly number[];
}

export type FlatEvent = Map<string, FlatLeaf[]>;

/**
 * The keys to visit, as a trie. A pattern path "a.b.c" may be written in the event as nested keys or as a
 * key that itself contains dots ({"a":{"b.c":1}}), so every run of consecutive segments is a possible key.
 */
export interface PathFilter {
  readonly root: PathNode;
}

interface PathNode {
  /** The dotted path when a leaf value here is wanted. */
  leaf: string | null;
  readonly children: Array<[string, PathNode]>;
}

export function pathFilter(paths: Iterable<string>): PathFilter {
  const nodes = new Map<string, PathNode>();
  const node = (p: string): PathNode => {
    let n = nodes.get(p);
    if (!n) {
      n = { leaf: null, children: [] };
      nodes.set(p, n);
    }
    return n;
  };
  const root = node('');
  for (const path of paths) {
    const segs = path.split('.');
    node(path).leaf = path;
    // Every (prefix, key-made-of-next-segments) pair is an edge.
    for (let i = 0; i < segs.length; i++) {
      const from = segs.slice(0, i).join('.');
      for (let j = i + 1; j <= segs.length; j++) {
        const key = segs.slice(i, j).join('.');
        const to = segs.slice(0, j).join('.');
        const parent = node(from);
        if (!parent.children.some(([k]) => k === key)) parent.children.push([key, node(to)]);
      }
    }
  }
  return { root };
}

const MAX_DEPTH = 100;

class Flattener {
  out: FlatEvent = new Map();
  arrayIds = 0;

  add(path: string, v: Leaf, trail: readonly number[]): void {
    const list = this.out.get(path);
    if (list) list.push({ v, trail });
    else this.out.set(path, [{ v, trail }]);
  }

  /** Walk with a trie: only keys the patterns read are looked at. */
  walkFiltered(value: unknown, node: PathNode, trail: readonly number[], depth: number): void {
    if (depth > MAX_DEPTH) return;
    if (Array.isArray(value)) {
      const id = this.arrayIds++;
      for (let i = 0; i < value.length; i++) this.walkFiltered(value[i], node, [...trail, id, i], depth + 1);
      return;
    }
    if (value !== null && typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      const children = node.children;
      for (let c = 0; c < children.length; c++) {
        const [key, child] = children[c]!;
        const v = obj[key];
        if (v !== undefined && Object.hasOwn(obj, key)) this.walkFiltered(v, child, trail, depth + 1);
      }
      return;
    }
    if (node.leaf !== null) this.add(node.leaf, value as Leaf, trail);
  }

  walkAll(value: unknown, path: string, trail: readonly number[], depth: number): void {
    if (depth > MAX_DEPTH) return;
    if (Array.isArray(value)) {
      const id = this.arrayIds++;
      for (let i = 0; i < value.length; i++) this.walkAll(value[i], path, [...trail, id, i], depth + 1);
    } else if (value !== null && typeof value === 'object') {
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        this.walkAll((value as Record<string, unknown>)[key], path ? `${path}.${key}` : key, trail, depth + 1);
      }
    } else if (path !== '') {
      this.add(path, value as Leaf, trail);
    }
  }
}

const NO_TRAIL: readonly number[] = [];

export function flatten(event: unknown, filter: PathFilter | null = null): FlatEvent {
  const f = new Flattener();
  if (filter) f.walkFiltered(event, filter.root, NO_TRAIL, 0);
  else f.walkAll(event, '', NO_TRAIL, 0);
  return f.out;
}

function consistent(a: readonly number[], b: readonly number[]): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 2) {
    if (a[i] !== b[i]) return true; // paths diverged into different arrays
    if (a[i + 1] !== b[i + 1]) return false;
  }
  return true;
}

function consistentWithAll(trail: readonly number[], chosen: ReadonlyArray<readonly number[]>, upto: number): boolean {
  if (trail.length === 0) return true;
  for (let i = 0; i < upto; i++) if (!consistent(trail, chosen[i]!)) return false;
  return true;
}

function leafPasses(cond: FieldCondition, v: Leaf): boolean {
  const tests = cond.tests;
  for (let i = 0; i < tests.length; i++) if (tests[i]!(v)) return true;
  return false;
}

/** Backtracking over the values of each condition; conditions that may hold by absence come last (compile order). */
function step(conds: Branch, k: number, ev: FlatEvent, chosen: Array<readonly number[]>): boolean {
  if (k === conds.length) return true;
  const cond = conds[k]!;
  const leaves = ev.get(cond.path);
  let sawConsistent = false;
  if (leaves) {
    for (let i = 0; i < leaves.length; i++) {
      const leaf = leaves[i]!;
      if (!consistentWithAll(leaf.trail, chosen, k)) continue;
      sawConsistent = true;
      if (!leafPasses(cond, leaf.v)) continue;
      chosen[k] = leaf.trail;
      if (step(conds, k + 1, ev, chosen)) return true;
    }
  }
  if (cond.allowAbsent && !sawConsistent) {
    chosen[k] = NO_TRAIL;
    return step(conds, k + 1, ev, chosen);
  }
  return false;
}

export function matchBranch(branch: Branch, ev: FlatEvent): boolean {
  return step(branch, 0, ev, new Array(branch.length));
}

export function matchPattern(p: CompiledPattern, ev: FlatEvent): boolean {
  for (const b of p.branches) if (matchBranch(b, ev)) return true;
  return false;
}

/** Convenience for one pattern and one event (tests, replay of a single rule). */
export function matchesEvent(p: CompiledPattern, event: unknown): boolean {
  return matchPattern(p, flatten(event, pathFilter(p.paths)));
}
