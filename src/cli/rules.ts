import type { Command } from 'commander';
import { CHECKS, KIND_MAPPING } from '../core/checks.js';
import { UserInputError } from '../core/errors.js';
import { renderTable } from '../report/table.js';
import { writeOutput } from './output.js';

export function register(program: Command): void {
  program
    .command('rules')
    .summary('print every check with its NIST SP 800-190 risk ids and PCI DSS v4 requirement ids')
    .option('-f, --format <format>', 'table or json', 'table')
    .action(async (flags: { format: string }) => {
      const kinds = Object.entries(KIND_MAPPING).map(([kind, m]) => ({
        id: `${kind.toUpperCase()}:*`,
        kind,
        title:
          kind === 'vulnerability'
            ? 'Known vulnerability in a package (OSV)'
            : kind === 'malware'
              ? 'Malware signature (clamd)'
              : 'File not scanned for malware (over the stream limit)',
        severity: kind === 'malware' ? 'CRITICAL' : kind === 'vulnerability' ? 'from CVSS' : 'UNKNOWN',
        nist: [m.nist],
        pci: m.pci,
      }));
      const rows = [...kinds, ...CHECKS];
      if (flags.format === 'json') {
        await writeOutput(JSON.stringify(rows, null, 2));
      } else if (flags.format === 'table') {
        await writeOutput(
          renderTable(
            ['ID', 'KIND', 'SEVERITY', 'NIST SP 800-190', 'PCI DSS v4', 'TITLE'],
            rows.map((r) => [r.id, r.kind, r.severity, r.nist.join(', '), r.pci.join(', '), r.title]),
            70,
          ),
        );
      } else {
        throw new UserInputError(`--format: "${flags.format}" is not one of table, json`);
      }
    });
}
