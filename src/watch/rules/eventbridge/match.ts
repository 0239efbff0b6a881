import type { Branch, CompiledPattern, FieldCondition, Leaf } from './pattern.js';

/**
 * Array-consistent matching (event-ruler's rulesForJSONEvent): the values chosen to satisfy the
 * fields of one branch must not come from different elements of the same array. Every leaf therefore
 * carries its trail of (array id, index) pairs from the root; two leaves conflict when they pass
 * through the same array at different indexes.
 */
export interface FlatLeaf {
  readonly v: Leaf;
  /** Flat pairs: arrayId, index, arrayId, index, ... from the root down. */
  readonly trail: readonly number[];
}

export type FlatEvent = Map<string, FlatLeaf[]>;

/** Which paths to keep while flattening; null keeps everything. */
export interface PathFilter {
  readonly leaves: ReadonlySet<string>;
  /** Every proper dotted prefix of a leaf path, so the walk knows which subtrees to enter. */
  readonly inner: ReadonlySet<string>;
}

export function pathFilter(paths: Iterable<string>): PathFilter {
  const leaves = new Set(paths);
  const inner = new Set<string>();
  for (const p of leaves) {
    for (let i = p.indexOf('.'); i !== -1; i = p.indexOf('.', i + 1)) inner.add(p.slice(0, i));
  }
  return { leaves, inner };
}

const MAX_DEPTH = 100;

export function flatten(event: unknown, filter: PathFilter | null = null): FlatEvent {
  const out: FlatEvent = new Map();
  let arrayIds = 0;
  const add = (path: string, v: Leaf, trail: readonly number[]): void => {
    if (filter && !filter.leaves.has(path)) return;
    const list = out.get(path);
    if (list) list.push({ v, trail });
    else out.set(path, [{ v, trail }]);
  };
  const walk = (node: unknown, path: string, trail: readonly number[], depth: number): void => {
    if (depth > MAX_DEPTH) return;
    if (Array.isArray(node)) {
      const id = arrayIds++;
      for (let i = 0; i < node.length; i++) walk(node[i], path, [...trail, id, i], depth + 1);
    } else if (node !== null && typeof node === 'object') {
      for (const key in node) {
        const p = path ? `${path}.${key}` : key;
        if (filter && !filter.leaves.has(p) && !filter.inner.has(p)) continue;
        walk((node as Record<string, unknown>)[key], p, trail, depth + 1);
      }
    } else if (path !== '') {
      add(path, node as Leaf, trail);
    }
  };
  walk(event, '', [], 0);
  return out;
}

function consistent(a: readonly number[], b: readonly number[]): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 2) {
    if (a[i] !== b[i]) return true; // paths diverged into different arrays
    if (a[i + 1] !== b[i + 1]) return false;
  }
  return true;
}

function consistentWithAll(trail: readonly number[], chosen: ReadonlyArray<readonly number[]>): boolean {
  for (const c of chosen) if (!consistent(trail, c)) return false;
  return true;
}

function leafPasses(cond: FieldCondition, v: Leaf): boolean {
  const tests = cond.tests;
  for (let i = 0; i < tests.length; i++) if (tests[i]!(v)) return true;
  return false;
}

export function matchBranch(branch: Branch, ev: FlatEvent): boolean {
  const chosen: Array<readonly number[]> = [];
  // Conditions that may hold by absence go last: absence is judged against the values already chosen.
  const ordered = [...branch.filter((c) => !c.allowAbsent), ...branch.filter((c) => c.allowAbsent)];
  const step = (k: number): boolean => {
    if (k === ordered.length) return true;
    const cond = ordered[k]!;
    const leaves = ev.get(cond.path);
    let sawConsistent = false;
    if (leaves) {
      for (const leaf of leaves) {
        if (!consistentWithAll(leaf.trail, chosen)) continue;
        sawConsistent = true;
        if (!leafPasses(cond, leaf.v)) continue;
        chosen.push(leaf.trail);
        if (step(k + 1)) return true;
        chosen.pop();
      }
    }
    return cond.allowAbsent && !sawConsistent && step(k + 1);
  };
  return step(0);
}

export function matchPattern(p: CompiledPattern, ev: FlatEvent): boolean {
  for (const b of p.branches) if (matchBranch(b, ev)) return true;
  return false;
}

/** Convenience for one pattern and one event (tests, replay of a single rule). */
export function matchesEvent(p: CompiledPattern, event: unknown): boolean {
  return matchPattern(p, flatten(event, pathFilter(p.paths)));
}
