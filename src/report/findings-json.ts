import { type Finding, SEVERITIES } from '../core/types.js';
import { VERSION } from '../core/version.js';
import type { Verdict } from '../policy/index.js';
import type { ImageInventory } from '../scan/index.js';

/** Version of the scan JSON schema (docs/json-schema.md); bump on incompatible changes. */
export const SCAN_SCHEMA_VERSION = 1;

export function summarize(findings: readonly Finding[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const f of findings) {
    out[f.kind] ??= Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
    out[f.kind]![f.severity]!++;
  }
  return out;
}

/** Palisade's scan JSON: the DESIGN.md finding contract plus the image and the verdict. */
export function toScanJson(
  inv: ImageInventory,
  findings: readonly Finding[],
  verdict: Verdict,
  warnings: string[] = [],
) {
  return {
    schemaVersion: SCAN_SCHEMA_VERSION,
    tool: { name: 'palisade', version: VERSION },
    target: inv.target,
    image: {
      source: inv.sourceKind,
      names: inv.names,
      digest: inv.digest ?? null,
      os: inv.os ? { family: inv.os.family, version: inv.os.version } : null,
      layers: inv.layers.map((l) => l.digest),
      packages: inv.packages.length,
    },
    verdict: { pass: verdict.pass, reason: verdict.reason },
    summary: summarize(findings),
    findings,
    warnings: [...inv.warnings, ...warnings],
  };
}
