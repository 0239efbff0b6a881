import { Command, CommanderError } from 'commander';
import { describeError, PalisadeError } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import { register as registerCheck } from './check.js';
import { register as registerDb } from './db.js';
import { register as registerEgress } from './egress.js';
import { register as registerRules } from './rules.js';
import { register as registerSbom } from './sbom.js';
import { register as registerScan } from './scan.js';
import { register as registerWatch } from './watch.js';
import { register as registerWatchReplay } from './watch-replay.js';

/** Builds the CLI. Each command lives in its own file and registers itself here. */
export function buildProgram(): Command {
  const program = new Command('palisade')
    .description('Container security for PCI DSS scope: scan, gate, run, watch (NIST SP 800-190)')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerScan(program);
  registerSbom(program);
  registerCheck(program);
  registerRules(program);
  registerWatch(program);
  registerWatchReplay(program);
  registerEgress(program);
  registerDb(program);
  return program;
}

/** The one place where CLI errors become one line on stderr and an exit code (STYLE.md §4). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors were already printed by commander.
      return err.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(`palisade: ${describeError(err)}\n`);
    if (!(err instanceof PalisadeError) && process.env.PALISADE_DEBUG) {
      process.stderr.write(`${(err as Error).stack ?? ''}\n`);
    }
    return 2;
  }
}

const invokedDirectly = process.argv[1] && /palisade(\.js)?$|main\.(js|ts)$/.test(process.argv[1]);
if (invokedDirectly) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
