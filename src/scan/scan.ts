import { UserInputError } from '../core/errors.js';
import { type Finding, severityRank } from '../core/types.js';
import type { OpenedImage } from '../image/index.js';
import type { EntryVisitor } from '../image/visitor.js';
import {
  type BatchShape,
  type ClamdClient,
  DEFAULT_BATCH,
  DEFAULT_STREAM_MAX,
  fitBatch,
  formatClamdAddress,
  MalwareVisitor,
  probeBatching,
} from '../malware/index.js';
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
  /** How small files are batched into one clamd stream (default DEFAULT_BATCH); false: always file by file. */
  clamdBatch?: BatchShape | false;
  now?: Date;
  /** Turns the inventory into vulnerability findings (the vuln stage), when the DB is at hand. */
  matchVulnerabilities?: (inv: ImageInventory) => Finding[] | Promise<Finding[]>;
}

export interface ScanResult {
  inventory: ImageInventory;
  findings: Finding[];
  /** Malware scanning statistics, when it ran. */
  malware?: { files: number; bytes: number; batches: number; batchesRescanned: number };
}

/** The scan stage: one pass over the layers with every scanner riding it, then the config checks. */
export async function scanImage(image: OpenedImage, opts: ScanOptions): Promise<ScanResult> {
  const visitors: EntryVisitor[] = [];
  const secrets = opts.scanners.has('secret') ? new SecretVisitor() : undefined;
  const fsChecks = opts.scanners.has('misconfig') ? new ImageFilesystemChecks() : undefined;
  let malware: MalwareVisitor | undefined;
  const malwareWarnings: string[] = [];
  if (opts.scanners.has('malware')) {
    if (!opts.clamd)
      throw new UserInputError('malware scanning needs clamd: pass --clamd tcp://HOST:PORT or set PALISADE_CLAMD');
    await opts.clamd.ping(); // fail fast, before reading gigabytes
    const streamMax = opts.clamdStreamMax ?? DEFAULT_STREAM_MAX;
    const wanted = opts.clamdBatch === false ? undefined : fitBatch(opts.clamdBatch ?? DEFAULT_BATCH, streamMax);
    // Batching only once this clamd has shown it scans inside a full batch and reports its limits.
    const probe = wanted ? await probeBatching(opts.clamd, wanted) : undefined;
    if (probe && !probe.ok)
      malwareWarnings.push(
        `clamd at ${formatClamdAddress(opts.clamd.address)} cannot be sent batches of small files: ${probe.reason}; scanning file by file, which is slower`,
      );
    malware = new MalwareVisitor(opts.clamd, {
      streamMax,
      concurrency: opts.clamdConcurrency,
      ...(probe?.ok ? { batch: wanted } : {}),
    });
  }
  for (const v of [secrets, fsChecks, malware]) if (v) visitors.push(v);

  const inventory = await inventoryImage(image, { ...opts, visitors: [...(opts.visitors ?? []), ...visitors] });
  inventory.warnings.push(...malwareWarnings);
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
    ...(malware
      ? {
          malware: {
            files: malware.filesScanned,
            bytes: malware.bytesScanned,
            batches: malware.batches,
            batchesRescanned: malware.batchesRescanned,
          },
        }
      : {}),
  };
}
