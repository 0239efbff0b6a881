import type { Command } from 'commander';
import { UserInputError } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import { evaluateFailOn, parseSeverity } from '../policy/index.js';
import { summarize } from '../report/findings-json.js';
import { toSarif } from '../report/sarif.js';
import { renderTable } from '../report/table.js';
import { writeOutput } from './output.js';

const FORMATS = ['table', 'json', 'sarif'] as const;

export function register(program: Command): void {
  program
    .command('check')
    .summary('check Kubernetes manifests and ECS task definitions before they deploy')
    .description(
      'Checks Kubernetes workloads (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob; multi-document\n' +
        'YAML and Helm output) and ECS task definitions (as registered, or as describe-task-definition prints them).\n' +
        'Each finding names its NIST SP 800-190 risk, PCI DSS v4 requirements, a one-line fix and the file line.',
    )
    .argument('<files...>', 'YAML or JSON files')
    .option('-f, --format <format>', `output format: ${FORMATS.join(', ')}`, 'table')
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .option('--fail-on <severity>', 'exit 1 when a finding is at or above SEVERITY', 'low')
    .action(async (files: string[], flags: { format: string; output?: string; failOn: string }) => {
      if (!(FORMATS as readonly string[]).includes(flags.format)) {
        throw new UserInputError(`--format: "${flags.format}" is not one of ${FORMATS.join(', ')}`);
      }
      const failOn = parseSeverity('--fail-on', flags.failOn);
      // The misconfiguration stage (and its YAML parser) loads when `check` runs, not with every command.
      const { checkFiles } = await import('../misconfig/index.js');
      const { findings, resources } = await checkFiles(files);
      const verdict = evaluateFailOn(findings, { failOn });
      let out: string;
      if (flags.format === 'json') {
        out = JSON.stringify(
          {
            schemaVersion: 1,
            tool: { name: 'palisade', version: VERSION },
            resources,
            verdict: { pass: verdict.pass, reason: verdict.reason },
            summary: summarize(findings),
            findings,
          },
          null,
          2,
        );
      } else if (flags.format === 'sarif') {
        out = JSON.stringify(toSarif(findings, { target: files.join(' ') }), null, 2);
      } else {
        const rows = findings.map((f) => [
          `${f.file}:${f.line}`,
          f.resource,
          f.id,
          f.severity,
          String(f.detail ?? ''),
          String(f.fix ?? ''),
        ]);
        out = [
          `${resources.length} resources checked in ${files.length} files: ${findings.length} findings`,
          '',
          ...(rows.length
            ? [renderTable(['LOCATION', 'RESOURCE', 'CHECK', 'SEVERITY', 'DETAIL', 'FIX'], rows, 70)]
            : []),
          '',
          `${verdict.pass ? 'PASS' : 'FAIL'}: ${verdict.reason}`,
        ].join('\n');
      }
      await writeOutput(out, flags.output);
      if (!verdict.pass) process.exitCode = 1;
    });
}
