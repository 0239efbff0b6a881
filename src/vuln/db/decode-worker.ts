/** Worker thread entry: decodes an import's inputs (see decode.ts) and posts the events back. */
import { parentPort, workerData } from 'node:worker_threads';
import { runDecoder, type WorkerInput } from './decode.js';
import { documents } from './inputs.js';

const port = parentPort;
if (!port) throw new Error('decode-worker runs only as a worker thread');
const { inputs, limits } = workerData as WorkerInput;
await runDecoder(
  documents(inputs, limits),
  (m) => port.postMessage(m),
  (fn) => port.on('message', fn),
);
