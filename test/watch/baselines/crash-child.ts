/**
 * Child process for the crash test: runs the mixed stream through the baselines into a SQLite file in small
 * batches, printing each durable cursor, slowly enough that the parent's SIGKILL lands mid-stream.
 */
import { createBaselines, SqliteBaselineStore } from '../../../src/watch/baselines/index.js';
import { mixed } from './streams.js';

const [file, batchText] = process.argv.slice(2);
const batch = Number(batchText);
const events = mixed();
const engine = createBaselines({}, { store: new SqliteBaselineStore(file!) });
const start = Number(engine.lastCursor() ?? 0);
const pause = new Int32Array(new SharedArrayBuffer(4));
for (let i = start; i < events.length; i += batch) {
  const end = Math.min(i + batch, events.length);
  engine.process(events.slice(i, end), String(end));
  process.stdout.write(`committed ${end}\n`);
  Atomics.wait(pause, 0, 0, 5);
}
process.stdout.write('done\n');
