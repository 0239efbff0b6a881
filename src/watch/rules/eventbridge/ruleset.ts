import { type FlatEvent, flatten, matchBranch, type PathFilter, pathFilter } from './match.js';
import { type Branch, type CompiledPattern, type CompileOptions, compilePattern, exactKey } from './pattern.js';

/**
 * Many named patterns matched against one event. Each branch is indexed under its most selective
 * exact-value condition, so an event only evaluates the branches whose key value it actually has;
 * branches with no exact condition are always evaluated. A name added twice matches when any of
 * its patterns match (event-ruler's OR semantics for a repeated rule name).
 */
export class PatternSet {
  private readonly branches: Array<{ name: string; branch: Branch }> = [];
  private index = new Map<string, Map<string, number[]>>();
  private always: number[] = [];
  private filter: PathFilter | null = null;
  private dirty = true;
  private stamp = new Uint32Array(0);
  private epoch = 0;

  add(name: string, pattern: string | unknown, options?: CompileOptions): CompiledPattern {
    const compiled = compilePattern(pattern, options);
    for (const branch of compiled.branches) this.branches.push({ name, branch });
    this.dirty = true;
    return compiled;
  }

  get size(): number {
    return new Set(this.branches.map((b) => b.name)).size;
  }

  private build(): void {
    const freq = new Map<string, number>();
    const fkey = (path: string, k: string) => `${path}\u0000${k}`;
    for (const { branch } of this.branches) {
      for (const c of branch)
        if (c.exact) for (const k of c.exact) freq.set(fkey(c.path, k), (freq.get(fkey(c.path, k)) ?? 0) + 1);
    }
    this.index = new Map();
    this.always = [];
    const paths = new Set<string>();
    this.branches.forEach(({ branch }, id) => {
      let best: (typeof branch)[number] | null = null;
      let bestCost = Number.POSITIVE_INFINITY;
      for (const c of branch) {
        paths.add(c.path);
        if (!c.exact || c.allowAbsent) continue;
        const cost = c.exact.reduce((s, k) => s + (freq.get(fkey(c.path, k)) ?? 0), 0);
        if (cost < bestCost) {
          best = c;
          bestCost = cost;
        }
      }
      if (!best) {
        this.always.push(id);
        return;
      }
      let byValue = this.index.get(best.path);
      if (!byValue) {
        byValue = new Map();
        this.index.set(best.path, byValue);
      }
      for (const k of new Set(best.exact)) {
        const list = byValue.get(k);
        if (list) list.push(id);
        else byValue.set(k, [id]);
      }
    });
    this.filter = pathFilter(paths);
    this.stamp = new Uint32Array(this.branches.length);
    this.epoch = 0;
    this.dirty = false;
  }

  /** Names of the patterns that match, in the order they were added. */
  match(event: unknown): string[] {
    if (this.dirty) this.build();
    return this.matchFlat(flatten(event, this.filter));
  }

  matchFlat(ev: FlatEvent): string[] {
    if (this.dirty) this.build();
    if (++this.epoch === 0xffffffff) {
      this.stamp.fill(0);
      this.epoch = 1;
    }
    const hits: number[] = [];
    for (const [path, byValue] of this.index) {
      const leaves = ev.get(path);
      if (!leaves) continue;
      for (let i = 0; i < leaves.length; i++) {
        const ids = byValue.get(exactKey(leaves[i]!.v));
        if (ids) for (let j = 0; j < ids.length; j++) this.tryBranch(ids[j]!, ev, hits);
      }
    }
    const always = this.always;
    for (let j = 0; j < always.length; j++) this.tryBranch(always[j]!, ev, hits);
    if (hits.length === 0) return [];
    if (hits.length > 1) hits.sort((a, b) => a - b);
    const names: string[] = [];
    for (const id of hits) {
      const n = this.branches[id]!.name;
      if (!names.includes(n)) names.push(n);
    }
    return names;
  }

  private tryBranch(id: number, ev: FlatEvent, hits: number[]): void {
    if (this.stamp[id] === this.epoch) return;
    this.stamp[id] = this.epoch;
    if (matchBranch(this.branches[id]!.branch, ev)) hits.push(id);
  }
}
