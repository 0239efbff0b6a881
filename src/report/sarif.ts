import type { Finding, Severity } from '../core/types.js';
import { VERSION } from '../core/version.js';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note' | 'none'> = {
  CRITICAL: 'error',
  HIGH: 'error',
  MEDIUM: 'warning',
  LOW: 'note',
  UNKNOWN: 'note',
};

/** GitHub code scanning reads `security-severity` (0.0–10.0) to rank results. */
const SCORE: Record<Severity, string> = { CRITICAL: '9.5', HIGH: '8.0', MEDIUM: '5.5', LOW: '2.0', UNKNOWN: '0.0' };

export interface SarifOptions {
  /** The artifact the paths are relative to, e.g. the image name; file findings keep image paths. */
  target: string;
}

/** SARIF 2.1.0 (OASIS) with one rule per finding id and NIST/PCI ids as rule properties. */
export function toSarif(findings: readonly Finding[], opts: SarifOptions): Record<string, unknown> {
  const rules = new Map<string, Record<string, unknown>>();
  const results = findings.map((f) => {
    const ruleId = f.id;
    if (!rules.has(ruleId)) {
      rules.set(ruleId, {
        id: ruleId,
        name: ruleId.replace(/[^A-Za-z0-9]+/g, ''),
        shortDescription: { text: f.title },
        ...(f.description ? { fullDescription: { text: String(f.description).slice(0, 2000) } } : {}),
        help: { text: typeof f.fix === 'string' ? f.fix : f.title },
        defaultConfiguration: { level: LEVEL[f.severity] },
        properties: {
          tags: ['security', f.kind, `nist-800-190:${f.nist}`, ...f.pci.map((p) => `pci-dss:${p}`)],
          'security-severity': SCORE[f.severity],
          nist: f.nist,
          pci: f.pci,
        },
      });
    }
    const where = f.path ?? (f.package ? `${f.package}@${f.installedVersion ?? ''}` : opts.target);
    const line = typeof f.line === 'number' && f.line > 0 ? f.line : undefined;
    const message = [
      f.title,
      f.package
        ? `Package ${f.package} ${f.installedVersion ?? ''}${f.fixedVersion ? `, fixed in ${f.fixedVersion}` : ''}.`
        : '',
      f.layer ? `Layer ${f.layer}.` : '',
    ]
      .filter(Boolean)
      .join(' ');
    return {
      ruleId,
      level: LEVEL[f.severity],
      message: { text: message },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: where.replace(/^\/+/, '') },
            ...(line ? { region: { startLine: line } } : {}),
          },
        },
      ],
      properties: { kind: f.kind, severity: f.severity, ...(f.layer ? { layer: f.layer } : {}) },
    };
  });
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'palisade', version: VERSION, semanticVersion: VERSION, rules: [...rules.values()] } },
        results,
        properties: { target: opts.target },
      },
    ],
  };
}
