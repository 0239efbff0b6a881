import type { Command } from 'commander';
import { UserInputError } from '../core/errors.js';
import type { Finding } from '../core/types.js';
import { type OpenOptions, openImage } from '../image/index.js';
import { readSbom } from '../inventory/index.js';
import { ClamdClient, DEFAULT_STREAM_MAX } from '../malware/index.js';
import { evaluateFailOn, parseSeverity } from '../policy/index.js';
import { cdxVulnerabilities, toCycloneDx } from '../report/cyclonedx.js';
import { toScanJson } from '../report/findings-json.js';
import { findingsTable } from '../report/findings-table.js';
import { toSarif } from '../report/sarif.js';
import type { ImageInventory } from '../scan/index.js';
import { parseScanners, type Scanner, type ScanResult, scanImage } from '../scan/scan.js';
// Not read.js: that loads the SQLite addon, which a scan without the vuln scanner never needs.
import { STALE_AFTER_DAYS } from '../vuln/db/stale.js';
import type { VulnDb } from '../vuln/index.js';
import { addImageOptions, type ImageFlags, imageOpenOptions } from './image-options.js';
import { writeOutput } from './output.js';
import { progressReporter } from './progress.js';

/**
 * The vulnerability stage (matcher, suppressions, VEX schemas) loads only when the scan needs it: with the
 * vuln scanner, an ignore file or VEX. A malware-only scan then starts sooner, while clamd waits for work.
 */
const vulnStage = () => import('../vuln/index.js');

const FORMATS = ['table', 'json', 'sarif', 'cyclonedx'] as const;
type Format = (typeof FORMATS)[number];

interface ScanFlags extends ImageFlags {
  format: string;
  output?: string;
  quiet?: boolean;
  failOn?: string;
  ignoreUnfixed?: boolean;
  scanners?: string;
  clamd?: string;
  clamdStreamMax?: string;
  clamdConcurrency?: string;
  /** false with --no-clamd-batch. */
  clamdBatch?: boolean;
  db?: string;
  failOnStale?: boolean;
  ignoreFile?: string;
  vex?: string[];
}

export function register(program: Command): void {
  const cmd = program
    .command('scan')
    .summary('scan an image for vulnerabilities, malware, secrets and configuration defects')
    .description(
      'Reads the image once and runs every scanner on the same pass. Each finding carries its NIST SP 800-190 ' +
        'risk id and PCI DSS v4 requirement ids. Exit 0: ran and passed; 1: the --fail-on policy failed; 2: could not run.',
    )
    .argument(
      '<target>',
      'docker-archive:PATH | oci:DIR[:TAG] | oci-archive:PATH | dir:PATH | registry:HOST/REPO[:TAG|@DIGEST] | PATH | sbom:FILE (CycloneDX or SPDX JSON)',
    )
    .option('-f, --format <format>', `output format: ${FORMATS.join(', ')}`, 'table')
    .option('-o, --output <file>', 'write to FILE instead of stdout (written atomically)')
    .option('-q, --quiet', 'no progress or warnings on stderr')
    .option('--fail-on <severity>', 'exit 1 when a finding is at or above SEVERITY (low, medium, high, critical)')
    .option('--ignore-unfixed', 'vulnerabilities without a fixed version do not fail the policy')
    .option(
      '--scanners <list>',
      'comma-separated: vuln, secret, misconfig, malware (default: vuln,secret,misconfig, plus malware when clamd is configured)',
    )
    .option('--db <file>', 'vulnerability DB (default: $PALISADE_DB or ~/.cache/palisade/vuln.db)')
    .option('--fail-on-stale', `fail when the vulnerability DB is older than ${STALE_AFTER_DAYS} days`)
    .option(
      '--ignore-file <file>',
      'YAML ignore list: id, package, paths, reason (required), expires (docs/ignore-and-vex.md)',
    )
    .option('--vex <files...>', 'OpenVEX or CycloneDX VEX documents; not_affected/fixed statements suppress findings')
    .option('--clamd <address>', 'clamd to scan with: tcp://HOST:PORT or unix:///PATH (env PALISADE_CLAMD)')
    .option(
      '--clamd-stream-max <bytes>',
      "clamd's StreamMaxLength; larger files are reported as not scanned",
      String(DEFAULT_STREAM_MAX),
    )
    .option('--clamd-concurrency <n>', 'parallel clamd streams', '4')
    .option('--no-clamd-batch', 'send every file as its own clamd stream (no batches of small files, no probe)');
  addImageOptions(cmd);
  cmd.action(async (target: string, flags: ScanFlags) => {
    const format = flags.format as Format;
    if (!FORMATS.includes(format))
      throw new UserInputError(`--format: "${flags.format}" is not one of ${FORMATS.join(', ')}`);
    const failOn = flags.failOn ? parseSeverity('--fail-on', flags.failOn) : undefined;
    const clamdAddress = flags.clamd ?? process.env.PALISADE_CLAMD;
    const scanners = parseScanners(flags.scanners ?? `vuln,secret,misconfig${clamdAddress ? ',malware' : ''}`);
    const streamMax = Number(flags.clamdStreamMax);
    if (!Number.isSafeInteger(streamMax) || streamMax <= 0)
      throw new UserInputError('--clamd-stream-max: not a positive number');
    const clamd = clamdAddress ? new ClamdClient(clamdAddress) : undefined;

    // Open the DB before the image: a missing or damaged DB is exit 2 before any image is read.
    const vuln = scanners.has('vuln') || flags.ignoreFile || flags.vex ? await vulnStage() : undefined;
    const db: VulnDb | undefined =
      vuln && scanners.has('vuln') ? vuln.openVulnDb(flags.db ?? vuln.defaultDbPath()) : undefined;
    const warnings: string[] = [];
    let staleReason: string | undefined;
    if (db) {
      const age = db.dbAgeDays();
      if (age > STALE_AFTER_DAYS) {
        const msg = `the vulnerability DB is ${Math.floor(age)} days old (run \`palisade db update\`)`;
        warnings.push(msg);
        if (flags.failOnStale) staleReason = msg;
      }
    }
    const ignore = vuln && flags.ignoreFile ? await vuln.loadIgnoreFile(flags.ignoreFile) : undefined;
    const vex = vuln && flags.vex ? await Promise.all(flags.vex.map((f) => vuln.loadVex(f))) : undefined;
    const progress = progressReporter({ quiet: flags.quiet });
    let result: ScanResult;
    try {
      const match = vuln && db ? (inv: ImageInventory) => vuln.matchPackages(inv.packages, db).findings : undefined;
      result = await runScan(target, flags, { scanners, clamd, streamMax, match, onProgress: progress.onProgress });
    } finally {
      progress.done();
      db?.close();
    }
    const inv = result.inventory;
    const byPurl = new Map(inv.packages.map((p) => [p.purl, p]));
    // Without an ignore file or VEX nothing is suppressed: every finding is kept as it is.
    const applied = vuln
      ? vuln.applySuppressions(result.findings, byPurl, { ignore, vex }, new Date())
      : { kept: result.findings, suppressed: [], warnings: [] };
    warnings.push(...applied.warnings);
    const findings = applied.kept;
    const policyVerdict = evaluateFailOn(findings, { failOn, ignoreUnfixed: flags.ignoreUnfixed });
    const verdict = staleReason
      ? { ...policyVerdict, pass: false, reason: `${staleReason}; ${policyVerdict.reason}` }
      : policyVerdict;
    const suppressed = applied.suppressed.map((s) => ({
      id: s.finding.id,
      package: s.finding.package,
      path: s.finding.path,
      by: s.by,
      reason: s.reason,
      ...(s.justification ? { justification: s.justification } : {}),
      source: s.source,
    }));
    const out =
      format === 'json'
        ? JSON.stringify({ ...toScanJson(inv, findings, verdict, warnings), suppressed }, null, 2)
        : format === 'sarif'
          ? JSON.stringify(toSarif(findings, { target: inv.names[0] ?? inv.target }), null, 2)
          : format === 'cyclonedx'
            ? JSON.stringify(toCycloneDx(inv, { vulnerabilities: cdxVulnerabilities(findings) }), null, 2)
            : `${findingsTable(inv, findings, verdict)}${suppressed.length ? `\n${suppressed.length} findings suppressed by the ignore file or VEX (listed with --format json)` : ''}`;
    await writeOutput(out, flags.output);
    if (!flags.quiet) for (const w of [...warnings, ...inv.warnings]) process.stderr.write(`palisade: warning: ${w}\n`);
    if (!verdict.pass) process.exitCode = 1;
  });
}

/** Scans an image, or (target `sbom:FILE`) matches the packages of a CycloneDX/SPDX SBOM without the image. */
async function runScan(
  target: string,
  flags: ScanFlags,
  ctx: {
    scanners: Set<Scanner>;
    clamd?: ClamdClient;
    streamMax: number;
    match?: (inv: ImageInventory) => Finding[];
    onProgress?: OpenOptions['onProgress'];
  },
): Promise<ScanResult> {
  const match = ctx.match;
  if (target.startsWith('sbom:')) {
    const inventory = await readSbom(target.slice('sbom:'.length));
    return { inventory, findings: match && ctx.scanners.has('vuln') ? match(inventory) : [] };
  }
  const openOpts = imageOpenOptions(flags);
  const image = await openImage(target, { ...openOpts, onProgress: ctx.onProgress });
  try {
    return await scanImage(image, {
      scanners: ctx.scanners,
      clamd: ctx.clamd,
      clamdStreamMax: ctx.streamMax,
      clamdConcurrency: Number(flags.clamdConcurrency) || 4,
      ...(flags.clamdBatch === false ? { clamdBatch: false as const } : {}),
      ...(match ? { matchVulnerabilities: match } : {}),
      limits: openOpts.limits,
    });
  } finally {
    await image.close();
  }
}
