import type { OsInfo, Package } from '../core/types.js';
import { DEFAULT_LIMITS, type Limits, type OpenedImage } from '../image/types.js';
import type { EntryVisitor } from '../image/visitor.js';
import { finalizePackages, newInventoryCollector } from '../inventory/index.js';
import { walkImage } from './walk.js';

export type { EntryVisitor, Visit } from '../image/visitor.js';
export { walkImage } from './walk.js';

/** What the single pass over an image yields for the report stage. */
export interface ImageInventory {
  target: string;
  sourceKind: string;
  names: string[];
  /** Manifest digest when the source has one, else the config digest. */
  digest?: string;
  configDigest?: string;
  os?: OsInfo;
  layers: { digest: string; diffId?: string; size?: number; createdBy?: string }[];
  packages: Package[];
  warnings: string[];
}

export interface InventoryOptions {
  limits?: Partial<Limits>;
  signal?: AbortSignal;
  /** Visitors that ride the same pass (secrets, malware, image checks). */
  visitors?: readonly EntryVisitor[];
}

/** One streaming pass over the image's layers; nothing is extracted to disk. */
export async function inventoryImage(image: OpenedImage, opts: InventoryOptions = {}): Promise<ImageInventory> {
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const collector = newInventoryCollector();
  await walkImage(image, [collector, ...(opts.visitors ?? [])], {
    limits,
    signal: opts.signal,
  });
  const collected = collector.result();
  const history = (image.config.history ?? []).filter((h) => !h.empty_layer);
  return {
    target: image.target,
    sourceKind: image.sourceKind,
    names: image.names,
    digest: image.manifestDigest ?? image.configDigest,
    configDigest: image.configDigest,
    os: collected.os,
    layers: image.layers.map((l, i) => ({
      digest: l.digest,
      diffId: l.diffId,
      size: l.size,
      createdBy: history.length === image.layers.length ? history[i]?.created_by : undefined,
    })),
    packages: finalizePackages(collected),
    warnings: collected.warnings,
  };
}
