import type { Command } from 'commander';
import { UserInputError } from '../core/errors.js';
import type { DbStatus, ImportReport } from '../vuln/db/index.js';
import { STALE_AFTER_DAYS } from '../vuln/db/stale.js';
import { writeOutput } from './output.js';
import { statusLine } from './progress.js';

/**
 * The DB code (importers, bundles, SQLite writers) loads when a db command runs: every other command,
 * `palisade scan --scanners malware` among them, would pay its start-up cost for nothing.
 */
const vulnDb = () => import('../vuln/db/index.js');

/** Warnings printed one per line; the rest are counted (the report has the total). */
const SHOWN_WARNINGS = 50;

/** `palisade db import|update|status|export`: flags in, one stage call, text out. */
export function register(program: Command): void {
  const db = program.command('db').description('Manage the vulnerability database (OSV records in SQLite)');
  const dbOption = `vulnerability DB file (default: $PALISADE_DB or \${XDG_CACHE_HOME:-~/.cache}/palisade/vuln.db)`;

  db.command('import')
    .description('Import OSV JSON files, directories, OSV all.zip files, Alpine secdb JSON; or a bundle')
    .argument('[input...]', 'files, directories or zips to import')
    .option('--db <file>', dbOption)
    .option('--bundle <file>', 'install the DB from a bundle made by `palisade db export` (verifies its sha256)')
    .option('--fresh', 'build a new DB instead of adding to the current one')
    .option('--format <format>', 'report format: text or json', 'text')
    .option('--quiet', 'do not print warnings for skipped records')
    .action(
      async (
        inputs: string[],
        o: { db?: string; bundle?: string; fresh?: boolean; format: string; quiet?: boolean },
      ) => {
        const { defaultDbPath, importBundle, importInputs } = await vulnDb();
        const target = o.db ?? defaultDbPath();
        const format = checkFormat(o.format);
        if (o.bundle) {
          if (inputs.length) throw new UserInputError('db import: pass either --bundle or inputs, not both');
          const m = await importBundle(o.bundle, target);
          await writeOutput(
            format === 'json'
              ? JSON.stringify({ db: target, bundle: m }, null, 2)
              : `installed ${target} from ${o.bundle}: ${m.records} records, sha256 ${m.sha256} verified`,
          );
          return;
        }
        if (!inputs.length)
          throw new UserInputError('db import: nothing to import (pass files, directories or --bundle)');
        const progress = statusLine({ quiet: o.quiet });
        let report: ImportReport;
        try {
          report = await importInputs(target, inputs, {
            fresh: o.fresh,
            onWarning: warnings(o.quiet, progress.note),
            onProgress: (p) =>
              p.stage === 'documents'
                ? progress.update(
                    `importing: ${p.documents.toLocaleString('en-US')} / ${p.total.toLocaleString('en-US')} documents (${Math.floor((100 * p.documents) / Math.max(1, p.total))}%)`,
                  )
                : progress.update(`importing: building indexes for ${p.total.toLocaleString('en-US')} documents`, true),
          });
        } finally {
          progress.done();
        }
        await writeOutput(
          format === 'json' ? JSON.stringify({ db: target, ...report }, null, 2) : importText(target, report),
        );
      },
    );

  db.command('update')
    .description('Fetch <mirror>/<ecosystem>/all.zip (conditional GET) and swap the DB atomically')
    .option('--mirror <url>', 'OSV mirror base URL (default: $PALISADE_DB_MIRROR)')
    .option(
      '--ecosystem <list>',
      'comma-separated OSV ecosystems, e.g. npm,PyPI,Debian (default: those fetched before)',
    )
    .option('--db <file>', dbOption)
    .option('--format <format>', 'report format: text or json', 'text')
    .option('--quiet', 'do not print warnings for skipped records')
    .action(async (o: { mirror?: string; ecosystem?: string; db?: string; format: string; quiet?: boolean }) => {
      const { defaultDbPath, updateDb } = await vulnDb();
      const target = o.db ?? defaultDbPath();
      const format = checkFormat(o.format);
      const mirror = o.mirror ?? process.env.PALISADE_DB_MIRROR;
      if (!mirror) throw new UserInputError('db update: no mirror (pass --mirror URL or set PALISADE_DB_MIRROR)');
      const ecosystems = (o.ecosystem ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const report = await updateDb(target, { mirror, ecosystems, onWarning: warnings(o.quiet) });
      if (format === 'json') {
        await writeOutput(JSON.stringify({ db: target, ...report }, null, 2));
        return;
      }
      const lines = report.ecosystems.map(
        (e) =>
          `${e.ecosystem}: ${e.status === 'updated' ? `updated (${e.bytes} bytes${e.sha256Verified ? ', sha256 verified' : ''})` : 'not modified'}`,
      );
      if (report.import) lines.push(importText(target, report.import));
      else lines.push(`${target}: already current`);
      await writeOutput(lines.join('\n'));
    });

  db.command('status')
    .description('Per-ecosystem record counts, newest modified, and the DB age')
    .option('--db <file>', dbOption)
    .option('--format <format>', 'text or json', 'text')
    .action(async (o: { db?: string; format: string }) => {
      const format = checkFormat(o.format);
      const { defaultDbPath, openVulnDb } = await vulnDb();
      const vdb = openVulnDb(o.db ?? defaultDbPath());
      let status: DbStatus;
      try {
        status = vdb.status();
      } finally {
        vdb.close();
      }
      await writeOutput(format === 'json' ? JSON.stringify(status, null, 2) : statusText(status));
    });

  db.command('export')
    .description('Write the DB and a manifest with its sha256 into one file for air-gapped sites')
    .requiredOption('--bundle <file>', 'bundle file to write')
    .option('--db <file>', dbOption)
    .action(async (o: { bundle: string; db?: string }) => {
      const { defaultDbPath, exportBundle } = await vulnDb();
      const m = await exportBundle(o.db ?? defaultDbPath(), o.bundle);
      await writeOutput(`wrote ${o.bundle}: ${m.records} records, ${m.size} bytes, sha256 ${m.sha256}`);
    });
}

function checkFormat(format: string): 'text' | 'json' {
  if (format !== 'text' && format !== 'json')
    throw new UserInputError(`--format must be text or json, got "${format}"`);
  return format;
}

function warnings(quiet?: boolean, print: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {
  let n = 0;
  return (message: string): void => {
    n++;
    if (quiet) return;
    if (n <= SHOWN_WARNINGS) print(`palisade: warning: ${message}`);
    else if (n === SHOWN_WARNINGS + 1) print('palisade: warning: further warnings not shown');
  };
}

function importText(target: string, r: ImportReport): string {
  return [
    `${target}: ${r.records} records`,
    `  read ${r.documents} documents in ${r.seconds.toFixed(1)} s`,
    `  inserted ${r.inserted}, replaced ${r.replaced}, unchanged ${r.unchanged}, withdrawn (dropped) ${r.withdrawn}, skipped ${r.skipped}`,
    `  converted: ${r.converted.alpineSecdb} from Alpine secdb, ${r.converted.nodejsWg} from nodejs security-wg`,
    `  warnings: ${r.warningCount}`,
  ].join('\n');
}

function statusText(s: DbStatus): string {
  const rows = s.ecosystems.map((e) => [e.ecosystem, String(e.records), e.newestModified ?? '-']);
  const head = ['ECOSYSTEM', 'RECORDS', 'NEWEST MODIFIED'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const stale =
    s.ageDays > STALE_AFTER_DAYS ? ` (older than ${STALE_AFTER_DAYS} days: run \`palisade db update\`)` : '';
  return [
    `DB: ${s.path}`,
    `schema ${s.schemaVersion}, ${s.records} records, updated ${s.updatedAt}, age ${s.ageDays} days${stale}`,
    `newest modified: ${s.newestModified ?? '-'}`,
    '',
    line(head),
    ...rows.map(line),
  ].join('\n');
}
