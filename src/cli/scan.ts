import type { Command } from 'commander';
import { UserInputError } from '../core/errors.js';
import { openImage } from '../image/index.js';
import { ClamdClient, DEFAULT_STREAM_MAX } from '../malware/index.js';
import { evaluateFailOn, parseSeverity } from '../policy/index.js';
import { cdxVulnerabilities, toCycloneDx } from '../report/cyclonedx.js';
import { toScanJson } from '../report/findings-json.js';
import { findingsTable } from '../report/findings-table.js';
import { toSarif } from '../report/sarif.js';
import { parseScanners, scanImage } from '../scan/scan.js';
import { defaultDbPath, matchPackages, openVulnDb, STALE_AFTER_DAYS, type VulnDb } from '../vuln/index.js';
import { addImageOptions, type ImageFlags, imageOpenOptions } from './image-options.js';
import { writeOutput } from './output.js';
import { progressReporter } from './progress.js';

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
  db?: string;
  failOnStale?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('scan')
    .summary('scan an image for vulnerabilities, malware, secrets and configuration defects')
    .description(
      'Reads the image once and runs every scanner on the same pass. Each finding carries its NIST SP 800-190\n' +
        'risk id and PCI DSS v4 requirement ids. Exit 0: ran and passed; 1: the --fail-on policy failed; 2: could not run.',
    )
    .argument(
      '<target>',
      'docker-archive:PATH | oci:DIR[:TAG] | oci-archive:PATH | dir:PATH | registry:HOST/REPO[:TAG|@DIGEST] | PATH',
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
    .option('--clamd <address>', 'clamd to scan with: tcp://HOST:PORT or unix:///PATH (env PALISADE_CLAMD)')
    .option(
      '--clamd-stream-max <bytes>',
      "clamd's StreamMaxLength; larger files are reported as not scanned",
      String(DEFAULT_STREAM_MAX),
    )
    .option('--clamd-concurrency <n>', 'parallel clamd streams', '4');
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
    const db: VulnDb | undefined = scanners.has('vuln') ? openVulnDb(flags.db ?? defaultDbPath()) : undefined;
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
    const progress = progressReporter({ quiet: flags.quiet });
    const openOpts = imageOpenOptions(flags);
    const image = await openImage(target, { ...openOpts, onProgress: progress.onProgress }).catch((err) => {
      db?.close();
      throw err;
    });
    try {
      const result = await scanImage(image, {
        scanners,
        clamd,
        clamdStreamMax: streamMax,
        clamdConcurrency: Number(flags.clamdConcurrency) || 4,
        ...(db ? { matchVulnerabilities: (inv) => matchPackages(inv.packages, db).findings } : {}),
        limits: openOpts.limits,
      });
      progress.done();
      const policyVerdict = evaluateFailOn(result.findings, { failOn, ignoreUnfixed: flags.ignoreUnfixed });
      const verdict = staleReason
        ? { ...policyVerdict, pass: false, reason: `${staleReason}; ${policyVerdict.reason}` }
        : policyVerdict;
      const inv = result.inventory;
      const out =
        format === 'json'
          ? JSON.stringify(toScanJson(inv, result.findings, verdict, warnings), null, 2)
          : format === 'sarif'
            ? JSON.stringify(toSarif(result.findings, { target: inv.names[0] ?? inv.target }), null, 2)
            : format === 'cyclonedx'
              ? JSON.stringify(toCycloneDx(inv, { vulnerabilities: cdxVulnerabilities(result.findings) }), null, 2)
              : findingsTable(inv, result.findings, verdict);
      await writeOutput(out, flags.output);
      if (!flags.quiet)
        for (const w of [...warnings, ...inv.warnings]) process.stderr.write(`palisade: warning: ${w}\n`);
      if (!verdict.pass) process.exitCode = 1;
    } finally {
      progress.done();
      db?.close();
      await image.close();
    }
  });
}
