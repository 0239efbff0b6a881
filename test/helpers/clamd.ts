import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClamdClient } from '../../src/malware/index.js';
import { freePort, waitFor } from './free-port.js';

/** The EICAR test file, assembled so that this source file itself is not a test virus. */
export const EICAR = Buffer.from(`X5O!P%@AP[4\\PZX54(P^)7CC)7}$${'EICAR'}-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`);
/** Bytes matched by our custom hash signature (the planted test image carries the same file). */
export const HASH_SAMPLE = readFileSync(new URL('../fixtures/images/planted/custom-hash.bin', import.meta.url));
/** A marker matched by our custom body (.ndb) signature anywhere in a file. */
export const BODY_MARKER = 'PALISADE-MALWARE-BODY-MARKER';

const NAMES = { eicar: 'Palisade.Test.EICAR', hash: 'Palisade.Test.CustomHash', body: 'Palisade.Test.Body' } as const;

/** The names clamd reports: signatures from unsigned local databases get ".UNOFFICIAL" appended. */
export const SIGNATURES = {
  eicar: `${NAMES.eicar}.UNOFFICIAL`,
  hash: `${NAMES.hash}.UNOFFICIAL`,
  body: `${NAMES.body}.UNOFFICIAL`,
} as const;

export interface Clamd {
  /** The clamd.conf written for this instance (clamdscan --config-file). */
  config: string;
  tcp: string;
  unix: string;
  streamMax: number;
  client: ClamdClient;
  stop(): Promise<void>;
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/**
 * Starts a real clamd (Debian clamav-daemon) on 127.0.0.1 and a unix socket, with a signature database that
 * this helper writes: there is no internet for freshclam. EICAR and a custom file as hash signatures (.hdb),
 * a custom body signature (.ndb).
 */
export async function startClamd(
  opts: {
    streamMax?: number;
    maxThreads?: number;
    /** Further clamd.conf lines, e.g. `AlertExceedsMax yes`, `ScanArchive no`, `MaxFiles 50`. */
    extraConfig?: readonly string[];
  } = {},
): Promise<Clamd> {
  const dir = await mkdtemp(join(tmpdir(), 'palisade-clamd-'));
  const db = join(dir, 'db');
  await import('node:fs/promises').then((fs) => fs.mkdir(db));
  await writeFile(
    join(db, 'palisade-test.hdb'),
    `${md5(EICAR)}:${EICAR.length}:${NAMES.eicar}\n${md5(HASH_SAMPLE)}:${HASH_SAMPLE.length}:${NAMES.hash}\n`,
  );
  await writeFile(join(db, 'palisade-test.ndb'), `${NAMES.body}:0:*:${Buffer.from(BODY_MARKER).toString('hex')}\n`);
  const port = await freePort();
  const streamMax = opts.streamMax ?? 4 * 1024 * 1024;
  const sock = join(dir, 'clamd.sock');
  await writeFile(
    join(dir, 'clamd.conf'),
    [
      `DatabaseDirectory ${db}`,
      `TCPSocket ${port}`,
      'TCPAddr 127.0.0.1',
      `LocalSocket ${sock}`,
      'Foreground yes',
      `StreamMaxLength ${streamMax}`,
      `MaxThreads ${opts.maxThreads ?? 4}`,
      `LogFile ${join(dir, 'clamd.log')}`,
      ...(opts.extraConfig ?? []),
      '',
    ].join('\n'),
  );
  const proc: ChildProcess = spawn('clamd', ['-c', join(dir, 'clamd.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let exited = false;
  proc.on('exit', () => {
    exited = true;
  });
  const client = new ClamdClient(`tcp://127.0.0.1:${port}`, { timeoutMs: 5000 });
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error('clamd exited');
        await client.ping();
        return true;
      },
      60_000,
      'clamd to answer PING',
    );
  } catch (err) {
    proc.kill('SIGKILL');
    const log = await readFile(join(dir, 'clamd.log'), 'utf8').catch(() => '');
    throw new Error(
      `clamd did not start (is clamav-daemon installed?): ${(err as Error).message}\n${log.slice(-2000)}`,
    );
  }
  return {
    config: join(dir, 'clamd.conf'),
    tcp: `tcp://127.0.0.1:${port}`,
    unix: `unix://${sock}`,
    streamMax,
    client,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => (exited ? r(null) : proc.once('exit', r)));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
