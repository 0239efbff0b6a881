/**
 * Runs the watch CLI commands in a child process for tests (the lead wires `register` into src/cli/main.ts).
 * Usage: node --import tsx test/helpers/watch-cli.ts watch --config FILE
 */
import { Command } from 'commander';
import { register } from '../../src/cli/watch.js';
import { describeError } from '../../src/core/errors.js';

const program = new Command('palisade').exitOverride();
register(program);
program.parseAsync(process.argv.slice(2), { from: 'user' }).catch((err) => {
  process.stderr.write(`palisade: ${describeError(err)}\n`);
  process.exitCode = 2;
});
