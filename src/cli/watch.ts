import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { UserInputError } from '../core/errors.js';
import { renderTable } from '../report/table.js';

/**
 * The `watch` command object, shared with `watch replay` (src/cli/watch-replay.ts): whichever file registers
 * first creates it, the other adds to it.
 */
export function getOrCreateWatchCommand(program: Command): Command {
  const existing = program.commands.find((c) => c.name() === 'watch');
  if (existing) return existing;
  return program.command('watch').description('Collect, route, detect and notify; keep a queryable log lake');
}

/** Registers `palisade watch --config FILE` and `palisade query "SQL"`. */
export function register(program: Command): void {
  getOrCreateWatchCommand(program)
    .option('--config <file>', 'watch service configuration (YAML)')
    .action(async (opts: { config?: string }) => {
      if (!opts.config) throw new UserInputError('watch: --config FILE is required');
      // The watch stage (DuckDB, the AWS SDK) loads only when a watch command runs.
      const { detectionSink, loadRuleSet, loadWatchConfig, SqliteStateStore, startWatchService } = await import(
        '../watch/index.js'
      );
      const config = loadWatchConfig(opts.config);
      const rules = config.rules ? await loadRuleSet(config.rules.paths) : undefined;
      const state = config.rules?.stateFile ? new SqliteStateStore(config.rules.stateFile) : undefined;
      const service = await startWatchService({
        config,
        ...(rules ? { sinks: ({ notifications }) => [detectionSink(rules, notifications, state)] } : {}),
        log: (line) => process.stdout.write(`palisade watch: ${line}\n`),
      });
      process.stdout.write('palisade watch: running\n');
      await new Promise<void>((done) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          service
            .stop()
            .finally(() => state?.close())
            .then(done, done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });

  program
    .command('query')
    .description('Run SQL over the log lake (DuckDB); the lake is the view "events"')
    .argument('<sql>', 'SQL, e.g. "SELECT source, count(*) FROM events GROUP BY source"')
    .option('--lake <dir>', 'lake directory')
    .option('--config <file>', 'take the lake directory from a watch config')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--max-rows <n>', 'stop after this many rows', '10000')
    .action(async (sql: string, opts: { lake?: string; config?: string; format: string; maxRows: string }) => {
      const { loadWatchConfig, queryLake } = await import('../watch/index.js');
      const dir = opts.lake ? resolve(opts.lake) : opts.config ? loadWatchConfig(opts.config).lake?.dir : undefined;
      if (!dir) throw new UserInputError('query: give --lake DIR or a --config with lake.dir');
      const maxRows = Number(opts.maxRows);
      if (!Number.isInteger(maxRows) || maxRows < 1)
        throw new UserInputError('query: --max-rows must be a positive integer');
      const result = await queryLake(dir, sql, { maxRows });
      if (opts.format === 'json') {
        for (const row of result.rows) process.stdout.write(`${JSON.stringify(row)}\n`);
        return;
      }
      const cells = result.rows.map((r) =>
        result.columns.map((c) =>
          r[c] === null || r[c] === undefined ? '' : typeof r[c] === 'object' ? JSON.stringify(r[c]) : String(r[c]),
        ),
      );
      process.stdout.write(`${renderTable(result.columns, cells)}\n`);
    });
}
