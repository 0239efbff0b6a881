import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';

export interface TestPostgres {
  /** Connection URL for a fresh database in the cluster. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A throwaway PostgreSQL 15 cluster in a temp dir on 127.0.0.1 and a random free port. PostgreSQL refuses to run
 * as root, so as root the cluster belongs to (and runs as) the `postgres` user through runuser.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-pg-'));
  const asRoot = process.getuid?.() === 0;
  const exec = (cmd: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(BIN, cmd), ...args]) : run(join(BIN, cmd), args);
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const password = `pw${Math.random().toString(36).slice(2)}`;
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o644 });
  await exec('initdb', ['-D', data, '-U', 'palisade', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8']);
  const port = await freePort();
  const conf = join(data, 'postgresql.conf');
  // The conf file belongs to postgres; append as root is fine (it keeps its owner).
  appendFileSync(
    conf,
    `\nlisten_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = '${dir}'\nfsync = off\n`,
  );
  await exec('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  const admin = `postgres://palisade:${password}@127.0.0.1:${port}/postgres`;
  return {
    async createDatabase(name: string) {
      const pg = (await import('pg')).default;
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      try {
        // Identifiers cannot be parameters; the name comes from test code and is checked here.
        if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://palisade:${password}@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
