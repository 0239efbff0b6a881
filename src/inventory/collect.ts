import type { FoundPackage, OsInfo } from '../core/types.js';
import type { LayerEntry } from '../image/types.js';
import { isAtOrBelow } from '../image/whiteout.js';
import type { Analyzer, AnalyzerResult } from './analyzer.js';
import { pickOs } from './os-release.js';

/** One analyzer's result for one file in one layer; `result` undefined marks a deletion. */
interface Record {
  layer: number;
  layerDigest: string;
  analyzer: string;
  result?: AnalyzerResult;
}

export interface CollectedPackage extends FoundPackage {
  path: string;
  analyzer: string;
  /** Digest of the layer where this package first appeared (unchanged) at this path. */
  layer: string;
}

export interface Collected {
  os?: OsInfo;
  packages: CollectedPackage[];
  /** Owned file path -> "<type>/<name>" of the OS package that installed it. */
  owners: Map<string, string>;
  warnings: string[];
}

/**
 * Collects analyzer results over the layers and merges them with whiteout semantics: the final
 * view is what the last layer's filesystem holds (DESIGN.md "A scan, as data", step 3).
 */
export class InventoryCollector {
  readonly name = 'inventory';
  /** path -> the records for that path, oldest first. */
  private readonly history = new Map<string, Record[]>();
  private readonly warnings: string[] = [];

  constructor(private readonly analyzers: readonly Analyzer[]) {}

  interest(entry: LayerEntry): number | undefined {
    if (entry.type === 'file' || entry.type === 'hardlink') {
      for (const a of this.analyzers) if (a.wants(entry.path, entry.mode, entry.size)) return Number.MAX_SAFE_INTEGER;
    }
    // A non-analyzed entry replacing an analyzed file (a symlink, a directory) deletes its result.
    return this.history.has(entry.path) ? 0 : undefined;
  }

  async visit(v: { entry: LayerEntry; data: Buffer; truncated: boolean; layerIndex: number; layerDigest: string }) {
    const { entry } = v;
    const records = this.history.get(entry.path) ?? [];
    let analyzed = false;
    if (entry.type === 'file' || entry.type === 'hardlink') {
      for (const analyzer of this.analyzers) {
        if (!analyzer.wants(entry.path, entry.mode, entry.size)) continue;
        analyzed = true;
        let result: AnalyzerResult;
        try {
          result = await analyzer.analyze({
            path: entry.path,
            mode: entry.mode,
            size: entry.size,
            content: v.data,
            truncated: v.truncated,
          });
        } catch (err) {
          // One unreadable file must not hide the rest of the inventory; the warning names it.
          this.warnings.push(`${analyzer.name}: ${entry.path}: ${(err as Error).message}`);
          continue;
        }
        for (const w of result.warnings ?? []) this.warnings.push(`${analyzer.name}: ${entry.path}: ${w}`);
        records.push({ layer: v.layerIndex, layerDigest: v.layerDigest, analyzer: analyzer.name, result });
      }
    }
    if (!analyzed) records.push({ layer: v.layerIndex, layerDigest: v.layerDigest, analyzer: '' });
    this.history.set(entry.path, records);
  }

  whiteout(path: string, opaque: boolean, layerIndex: number): void {
    for (const [p, records] of this.history) {
      const hit = opaque ? p !== path && isAtOrBelow(p, path) : isAtOrBelow(p, path);
      const last = records[records.length - 1];
      if (hit && last && last.layer < layerIndex) records.push({ layer: layerIndex, layerDigest: '', analyzer: '' });
    }
  }

  /** The merged view after the last layer. */
  result(): Collected {
    const packages: CollectedPackage[] = [];
    const owners = new Map<string, string>();
    const osFound: { path: string; os: OsInfo }[] = [];
    for (const [path, records] of this.history) {
      for (const current of liveRecords(records)) {
        const result = current.result!;
        if (result.os) osFound.push({ path, os: result.os });
        for (const [owner, files] of Object.entries(result.ownedFiles ?? {})) {
          for (const f of files) owners.set(f, owner);
        }
        for (const pkg of result.packages ?? []) {
          packages.push({
            ...pkg,
            path: pkg.path ?? path,
            analyzer: current.analyzer,
            layer: originLayer(records, current, pkg),
          });
          for (const f of pkg.files ?? []) owners.set(f, `${pkg.type}/${pkg.name}`);
        }
      }
    }
    return { os: pickOs(osFound), packages, owners, warnings: this.warnings };
  }
}

/** The records of the last layer that touched the path, unless that layer deleted it. */
function liveRecords(records: Record[]): Record[] {
  const last = records[records.length - 1];
  if (!last?.result) return [];
  return records.filter((r) => r.layer === last.layer && r.result);
}

function samePackage(a: FoundPackage, b: FoundPackage): boolean {
  return (
    a.type === b.type &&
    a.name === b.name &&
    a.version === b.version &&
    a.arch === b.arch &&
    a.namespace === b.namespace
  );
}

/** The earliest layer, in the unbroken run of versions of this file, that already held the package. */
function originLayer(records: Record[], current: Record, pkg: FoundPackage): string {
  let origin = current.layerDigest;
  for (let i = records.indexOf(current) - 1; i >= 0; i--) {
    const r = records[i]!;
    if (r.layer === current.layer) continue;
    if (!r.result || r.analyzer !== current.analyzer) break;
    if (!(r.result.packages ?? []).some((p) => samePackage(p, pkg))) break;
    origin = r.layerDigest;
  }
  return origin;
}
