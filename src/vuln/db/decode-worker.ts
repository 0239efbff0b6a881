/** Worker thread entry: decodes an import's inputs (see decode.ts) and posts the events back. */
import { parentPort, workerData } from 'node:worker_threads';
import { runDecoder, type WorkerInput } from './decode.js';

const port = parentPort;
if (!port) throw new Error('decode-worker runs only as a worker thread');
await runDecoder(
  workerData as WorkerInput,
  (m, transfer) => port.postMessage(m, transfer),
  (fn) => port.on('message', fn),
);
