import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** Builds (or finds cached) the real test images once before any test file runs. */
export default async function setup(): Promise<void> {
  const script = new URL('../scripts/test-images.sh', import.meta.url).pathname;
  try {
    await promisify(execFile)('bash', [script], { maxBuffer: 1 << 24, timeout: 20 * 60_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`scripts/test-images.sh failed: ${e.stderr?.slice(-2000) ?? e.message}`);
  }
}
