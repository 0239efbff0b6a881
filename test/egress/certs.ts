import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPki {
  dir: string;
  ca: Buffer;
  server: { cert: Buffer; key: Buffer };
  clients: Record<string, { cert: Buffer; key: Buffer }>;
}

/**
 * A throw-away CA, a server certificate for 127.0.0.1 and one client certificate per name (CN=name and a
 * DNS SAN "<name>.clients.test"), made with the real openssl so the proxy sees real X.509.
 */
export async function makePki(clientNames: string[]): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'palisade-pki-'));
  const p = (f: string) => join(dir, f);
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=palisade test CA',
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.pem'),
  ]);
  const issue = async (name: string, subject: string, san: string) => {
    await writeFile(p(`${name}.ext`), `subjectAltName=${san}\n`);
    await run('openssl', [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      subject,
      '-keyout',
      p(`${name}.key`),
      '-out',
      p(`${name}.csr`),
    ]);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      p(`${name}.csr`),
      '-CA',
      p('ca.pem'),
      '-CAkey',
      p('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      p(`${name}.ext`),
      '-out',
      p(`${name}.pem`),
    ]);
    return { cert: await readFile(p(`${name}.pem`)), key: await readFile(p(`${name}.key`)) };
  };
  const server = await issue('server', '/CN=127.0.0.1', 'IP:127.0.0.1');
  const clients: TestPki['clients'] = {};
  for (const name of clientNames)
    clients[name] = await issue(`client-${name}`, `/CN=${name}`, `DNS:${name}.clients.test`);
  return { dir, ca: await readFile(p('ca.pem')), server, clients };
}
