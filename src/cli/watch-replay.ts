import type { Command } from 'commander';
import { UserInputError } from '../core/errors.js';
import type { BaselineConfig } from '../watch/index.js';
import { getOrCreateWatchCommand } from './watch.js';

interface Options {
  rules: string[];
  input: string[];
  format: string;
  placeholder: string[];
  baselines?: string | boolean;
}

/** `palisade watch replay`: offline rule testing; one JSON line per match. */
export function register(program: Command): void {
  getOrCreateWatchCommand(program)
    .command('replay')
    .description('Run events from files through routing patterns, Sigma rules and correlations, in event-time order')
    .option('--rules <paths...>', 'routing YAML files and Sigma rule files or directories', [])
    .requiredOption('--input <paths...>', 'CloudTrail {"Records":[…]} files (.gz too), NDJSON or JSON arrays')
    .option('--format <format>', 'output format (json: one JSON line per match)', 'json')
    .option('--placeholder <name=values...>', 'values for Sigma %name% placeholders, comma-separated', [])
    .option('--baselines [config]', 'also run the baseline detectors (optional YAML: options per detector)')
    .action(async (opts: Options) => {
      if (opts.format !== 'json') throw new UserInputError(`--format: unknown format "${opts.format}" (json)`);
      const placeholders: Record<string, string[]> = {};
      for (const p of opts.placeholder) {
        const eq = p.indexOf('=');
        if (eq <= 0) throw new UserInputError(`--placeholder: expected name=value[,value...], got "${p}"`);
        placeholders[p.slice(0, eq)] = p
          .slice(eq + 1)
          .split(',')
          .filter(Boolean);
      }
      let baselines: BaselineConfig | undefined;
      if (opts.baselines === true) baselines = {};
      // The watch stage (DuckDB, the AWS SDK) loads only when a watch command runs.
      const { loadBaselineConfig, replay } = await import('../watch/index.js');
      if (typeof opts.baselines === 'string') baselines = await loadBaselineConfig(opts.baselines);
      const matches = await replay({ rules: opts.rules, inputs: opts.input, placeholders, baselines });
      for (const m of matches) process.stdout.write(`${JSON.stringify(m)}\n`);
    });
}
