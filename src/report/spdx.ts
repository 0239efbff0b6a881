import { createHash, randomUUID } from 'node:crypto';
import type { Package } from '../core/types.js';
import { VERSION } from '../core/version.js';
import type { ImageInventory } from '../scan/index.js';
import { spdxExpression, spdxId } from './licenses.js';

interface ExtractedLicense {
  licenseId: string;
  extractedText: string;
  name: string;
}

/** SPDX ids allow only letters, digits, "." and "-". */
function sanitize(s: string): string {
  return s.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
}

/** A declared licence as an SPDX expression; unknown names become LicenseRef- entries with their text. */
function declared(pkg: Package, extracted: Map<string, ExtractedLicense>): string {
  const list = pkg.licenses ?? [];
  if (list.length === 0) return 'NOASSERTION';
  const parts = list.map((l) => {
    const expr = spdxExpression(l);
    if (expr) return list.length > 1 ? `(${expr})` : expr;
    const id = spdxId(l);
    if (id) return id;
    const ref = `LicenseRef-${sanitize(l)}-${createHash('sha256').update(l).digest('hex').slice(0, 8)}`;
    extracted.set(ref, { licenseId: ref, extractedText: l, name: l });
    return ref;
  });
  return parts.join(' AND ');
}

/** SPDX 2.3 JSON (https://spdx.github.io/spdx-spec/v2.3/) for an image inventory. */
export function toSpdx(inv: ImageInventory): Record<string, unknown> {
  const name = inv.names[0] ?? inv.target;
  const imageId = 'SPDXRef-Image';
  const extracted = new Map<string, ExtractedLicense>();
  const used = new Set<string>([imageId]);
  const packages: Record<string, unknown>[] = [
    {
      SPDXID: imageId,
      name,
      ...(inv.digest ? { versionInfo: inv.digest } : {}),
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'NOASSERTION',
      copyrightText: 'NOASSERTION',
      primaryPackagePurpose: 'CONTAINER',
    },
  ];
  const relationships: Record<string, unknown>[] = [
    { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: imageId },
  ];
  if (inv.os) {
    const osId = 'SPDXRef-OperatingSystem';
    used.add(osId);
    packages.push({
      SPDXID: osId,
      name: inv.os.family,
      versionInfo: inv.os.version,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'NOASSERTION',
      copyrightText: 'NOASSERTION',
      primaryPackagePurpose: 'OPERATING_SYSTEM',
    });
    relationships.push({ spdxElementId: imageId, relationshipType: 'CONTAINS', relatedSpdxElement: osId });
  }
  for (const pkg of inv.packages) {
    let id = `SPDXRef-Package-${sanitize(pkg.type)}-${sanitize(pkg.name)}-${createHash('sha256').update(`${pkg.purl}\0${pkg.path}`).digest('hex').slice(0, 16)}`;
    for (let i = 2; used.has(id); i++) id = `${id}-${i}`;
    used.add(id);
    packages.push({
      SPDXID: id,
      name: pkg.namespace ? `${pkg.namespace}/${pkg.name}` : pkg.name,
      versionInfo: pkg.version,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: declared(pkg, extracted),
      copyrightText: 'NOASSERTION',
      ...(pkg.source ? { sourceInfo: `built from ${pkg.source.name} ${pkg.source.version ?? pkg.version}` } : {}),
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: pkg.purl }],
      primaryPackagePurpose: 'LIBRARY',
      comment: `path: ${pkg.path}${pkg.layer ? `; layer: ${pkg.layer}` : ''}`,
    });
    relationships.push({ spdxElementId: imageId, relationshipType: 'CONTAINS', relatedSpdxElement: id });
  }
  const uuid = randomUUID();
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name,
    documentNamespace: `https://spdx.org/spdxdocs/palisade-${sanitize(name)}-${uuid}`,
    creationInfo: {
      created: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      creators: [`Tool: palisade-${VERSION}`],
    },
    packages,
    relationships,
    ...(extracted.size ? { hasExtractedLicensingInfos: [...extracted.values()] } : {}),
  };
}
