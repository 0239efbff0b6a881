import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes a report to --output atomically (a temp file beside it, then rename), or to stdout.
 * A scan that fails half-way leaves no half-written report behind.
 */
export async function writeOutput(text: string, file?: string): Promise<void> {
  const body = text.endsWith('\n') ? text : `${text}\n`;
  if (!file || file === '-') {
    await new Promise<void>((resolve, reject) => process.stdout.write(body, (err) => (err ? reject(err) : resolve())));
    return;
  }
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, body, { mode: 0o644, flag: 'wx' });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
