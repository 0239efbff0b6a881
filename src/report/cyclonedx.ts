import { randomUUID } from 'node:crypto';
import type { Finding, Package } from '../core/types.js';
import { VERSION } from '../core/version.js';
import type { ImageInventory } from '../scan/index.js';
import { spdxExpression, spdxId } from './licenses.js';

type CdxLicense = { license: { id: string } | { name: string } } | { expression: string };

function licensesOf(pkg: Package): CdxLicense[] | undefined {
  const list = pkg.licenses ?? [];
  if (list.length === 0) return undefined;
  // CycloneDX allows either licence objects or exactly one expression.
  if (list.length === 1) {
    const expr = spdxExpression(list[0]!);
    if (expr) return [{ expression: expr }];
  }
  return list.map((l) => {
    const id = spdxId(l);
    return { license: id ? { id } : { name: l } };
  });
}

function group(pkg: Package): string | undefined {
  return pkg.namespace;
}

/** CycloneDX 1.6 JSON (https://cyclonedx.org/docs/1.6/json/) for an image inventory. */
/** The bom-ref of a package component: purl and the file it was read from. */
export function componentRef(pkg: { purl: string; path: string }): string {
  return `${pkg.purl}#${pkg.path}`;
}

const RATING_METHOD: Record<string, string> = { '2.0': 'CVSSv2', '3.0': 'CVSSv3', '3.1': 'CVSSv31', '4.0': 'CVSSv4' };

/** CycloneDX `vulnerabilities[]` for vulnerability findings, each pointing at its component. */
export function cdxVulnerabilities(findings: readonly Finding[]): Record<string, unknown>[] {
  const byId = new Map<string, Record<string, unknown> & { affects: { ref: string }[] }>();
  for (const f of findings) {
    if (f.kind !== 'vulnerability' || typeof f.purl !== 'string' || !f.path) continue;
    const ref = componentRef({ purl: f.purl, path: f.path });
    const existing = byId.get(f.id);
    if (existing) {
      if (!existing.affects.some((a) => a.ref === ref)) existing.affects.push({ ref });
      continue;
    }
    const cvss = f.cvss as { version: string; vector: string; score: number } | undefined;
    const severity = f.severity === 'UNKNOWN' ? 'unknown' : f.severity.toLowerCase();
    byId.set(f.id, {
      'bom-ref': `vuln:${f.id}`,
      id: f.id,
      ...(Array.isArray(f.aliases) && f.aliases.length
        ? { references: (f.aliases as string[]).map((id) => ({ id, source: { name: id.split('-')[0] } })) }
        : {}),
      ratings: [
        cvss
          ? { score: cvss.score, severity, method: RATING_METHOD[cvss.version] ?? 'other', vector: cvss.vector }
          : { severity },
      ],
      ...(f.title && f.title !== f.id ? { description: f.title } : {}),
      ...(f.fixedVersion ? { recommendation: `Upgrade to ${f.fixedVersion} or later.` } : {}),
      affects: [{ ref }],
      properties: [{ name: 'palisade:nist', value: f.nist }, ...f.pci.map((p) => ({ name: 'palisade:pci', value: p }))],
    });
  }
  return [...byId.values()];
}

export function toCycloneDx(inv: ImageInventory, extra: { vulnerabilities?: unknown[] } = {}): Record<string, unknown> {
  const imageRef = 'image';
  const components: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  let osRef: string | undefined;
  if (inv.os) {
    osRef = `os:${inv.os.family}@${inv.os.version}`;
    components.push({
      type: 'operating-system',
      'bom-ref': osRef,
      name: inv.os.family,
      version: inv.os.version,
      ...(inv.os.prettyName ? { description: inv.os.prettyName } : {}),
    });
  }
  const refs: string[] = [];
  for (const pkg of inv.packages) {
    // The same package recorded by two files (lock file and node_modules) is one component per file.
    let ref = componentRef(pkg);
    for (let i = 2; seen.has(ref); i++) ref = `${pkg.purl}#${pkg.path}#${i}`;
    seen.add(ref);
    refs.push(ref);
    const properties = [
      { name: 'palisade:package:type', value: pkg.type },
      { name: 'palisade:package:ecosystem', value: pkg.ecosystem },
      { name: 'palisade:package:path', value: pkg.path },
      ...(pkg.layer ? [{ name: 'palisade:layer:digest', value: pkg.layer }] : []),
      ...(pkg.source ? [{ name: 'palisade:package:source-name', value: pkg.source.name }] : []),
      ...(pkg.source?.version ? [{ name: 'palisade:package:source-version', value: pkg.source.version }] : []),
      ...(pkg.arch ? [{ name: 'palisade:package:arch', value: pkg.arch }] : []),
      ...(pkg.dev ? [{ name: 'palisade:package:dev', value: 'true' }] : []),
      ...(pkg.ownedBy ? [{ name: 'palisade:package:owned-by', value: pkg.ownedBy }] : []),
    ];
    const licenses = licensesOf(pkg);
    components.push({
      type: 'library',
      'bom-ref': ref,
      ...(group(pkg) ? { group: group(pkg) } : {}),
      name: pkg.name,
      version: pkg.version,
      purl: pkg.purl,
      ...(licenses ? { licenses } : {}),
      ...(pkg.dev ? { scope: 'optional' } : {}),
      properties,
    });
  }
  const name = inv.names[0] ?? inv.target;
  return {
    $schema: 'http://cyclonedx.org/schema/bom-1.6.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: `urn:uuid:${randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: new Date().toISOString(),
      tools: { components: [{ type: 'application', name: 'palisade', version: VERSION }] },
      component: {
        type: 'container',
        'bom-ref': imageRef,
        name,
        ...(inv.digest ? { version: inv.digest } : {}),
        properties: [
          { name: 'palisade:image:source', value: inv.sourceKind },
          ...(inv.configDigest ? [{ name: 'palisade:image:config-digest', value: inv.configDigest }] : []),
          ...inv.layers.map((l) => ({ name: 'palisade:image:layer', value: l.digest })),
        ],
      },
    },
    components,
    dependencies: [{ ref: imageRef, dependsOn: [...(osRef ? [osRef] : []), ...refs] }],
    ...(extra.vulnerabilities ? { vulnerabilities: extra.vulnerabilities } : {}),
  };
}
