import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPki {
  caCert: string;
  serverCert: string;
  serverKey: string;
}

/** A throwaway CA and a server certificate for 127.0.0.1/localhost, made with openssl in `dir`. */
export async function makeTestPki(dir: string): Promise<TestPki> {
  const p = (f: string) => join(dir, f);
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=Palisade Test CA',
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.crt'),
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await run('openssl', [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    p('server.key'),
    '-out',
    p('server.csr'),
  ]);
  writeFileSync(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    p('server.csr'),
    '-CA',
    p('ca.crt'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    p('server.crt'),
    '-extfile',
    p('ext.cnf'),
  ]);
  return { caCert: p('ca.crt'), serverCert: p('server.crt'), serverKey: p('server.key') };
}
