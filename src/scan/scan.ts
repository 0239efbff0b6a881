import { UserInputError } from '../core/errors.js';
import { type Finding, severityRank } from '../core/types.js';
import type { OpenedImage } from '../image/index.js';
import type { EntryVisitor } from '../image/visitor.js';
import { type ClamdClient, MalwareVisitor } from '../malware/index.js';
import { ImageFilesystemChecks, imageConfigFindings } from '../misconfig/image.js';
import { SecretVisitor, secretsInConfig } from '../secrets/index.js';
import { type ImageInventory, type InventoryOptions, inventoryImage } from './index.js';

export const SCANNERS = ['vuln', 'secret', 'misconfig', 'malware'] as const;
export type Scanner = (typeof SCANNERS)[number];

export function parseScanners(value: string): Set<Scanner> {
  const out = new Set<Scanner>();
  for (const s of value
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    if (!(SCANNERS as readonly string[]).includes(s)) {
      throw new UserInputError(`--scanners: "${s}" is not one of ${SCANNERS.join(', ')}`);
    }
    out.add(s as Scanner);
  }
  return out;
}

export interface ScanOptions extends InventoryOptions {
  scanners: Set<Scanner>;
  clamd?: ClamdClient;
  clamdStreamMax?: number;
  clamdConcurrency?: number;
  now?: Date;
  /** Turns the inventory into vulnerability findings (the vuln stage), when the DB is at hand. */
  matchVulnerabilities?: (inv: ImageInventory) => Finding[] | Promise<Finding[]>;
}

export interface ScanResult {
  inventory: ImageInventory;
  findings: Finding[];
  /** Malware scanning statistics, when it ran. */
  malware?: { files: number; bytes: number };
}

/** The scan stage: one pass over the layers with every scanner riding it, then the config checks. */
export async function scanImage(image: OpenedImage, opts: ScanOptions): Promise<ScanResult> {
  const visitors: EntryVisitor[] = [];
  const secrets = opts.scanners.has('secret') ? new SecretVisitor() : undefined;
  const fsChecks = opts.scanners.has('misconfig') ? new ImageFilesystemChecks() : undefined;
  let malware: MalwareVisitor | undefined;
  if (opts.scanners.has('malware')) {
    if (!opts.clamd)
      throw new UserInputError('malware scanning needs clamd: pass --clamd tcp://HOST:PORT or set PALISADE_CLAMD');
    await opts.clamd.ping(); // fail fast, before reading gigabytes
    malware = new MalwareVisitor(opts.clamd, { streamMax: opts.clamdStreamMax, concurrency: opts.clamdConcurrency });
  }
  for (const v of [secrets, fsChecks, malware]) if (v) visitors.push(v);

  const inventory = await inventoryImage(image, { ...opts, visitors: [...(opts.visitors ?? []), ...visitors] });
  const findings: Finding[] = [];
  if (opts.matchVulnerabilities && opts.scanners.has('vuln'))
    findings.push(...(await opts.matchVulnerabilities(inventory)));
  if (malware) findings.push(...(await malware.finish()));
  if (secrets) findings.push(...secrets.findings, ...secretsInConfig(image.config));
  if (fsChecks) {
    findings.push(...fsChecks.findings());
    findings.push(
      ...imageConfigFindings({ config: image.config, os: inventory.os, target: image.target, now: opts.now }),
    );
  }
  findings.sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      a.kind.localeCompare(b.kind) ||
      (a.package ?? '').localeCompare(b.package ?? '') ||
      a.id.localeCompare(b.id) ||
      (a.path ?? '').localeCompare(b.path ?? ''),
  );
  return {
    inventory,
    findings,
    ...(malware ? { malware: { files: malware.filesScanned, bytes: malware.bytesScanned } } : {}),
  };
}
