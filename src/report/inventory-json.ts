import { VERSION } from '../core/version.js';
import type { ImageInventory } from '../scan/index.js';

/** Version of our own inventory JSON; bump on any incompatible change (documented in docs/json-schema.md). */
export const INVENTORY_SCHEMA_VERSION = 1;

/** Palisade's inventory JSON: `{"target", "image":{"digest","os"}, "packages":[…]}` (issue 2 contract). */
export function toInventoryJson(inv: ImageInventory): Record<string, unknown> {
  return {
    schemaVersion: INVENTORY_SCHEMA_VERSION,
    tool: { name: 'palisade', version: VERSION },
    target: inv.target,
    image: {
      source: inv.sourceKind,
      names: inv.names,
      digest: inv.digest ?? null,
      configDigest: inv.configDigest ?? null,
      os: inv.os
        ? { family: inv.os.family, version: inv.os.version, ...(inv.os.prettyName ? { name: inv.os.prettyName } : {}) }
        : null,
      layers: inv.layers,
    },
    packages: inv.packages.map((p) => ({
      ecosystem: p.ecosystem,
      name: p.namespace && p.type !== 'maven' ? `${p.namespace}/${p.name}` : p.name,
      ...(p.type === 'maven' && p.namespace ? { group: p.namespace } : {}),
      version: p.version,
      purl: p.purl,
      type: p.type,
      ...(p.source ? { source: p.source } : {}),
      ...(p.arch ? { arch: p.arch } : {}),
      ...(p.licenses ? { licenses: p.licenses } : {}),
      ...(p.dev ? { dev: true } : {}),
      ...(p.ownedBy ? { ownedBy: p.ownedBy } : {}),
      layer: p.layer ?? null,
      path: p.path,
    })),
    warnings: inv.warnings,
  };
}
