import { join } from 'node:path';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken, verifyToken } from '../../src/egress/index.js';
import { makePki, type TestPki } from './certs.js';
import { closeServer, connectVia, startProxy, startTcpUpstream, TableResolver, type TestProxy } from './helpers.js';

let tcp: Awaited<ReturnType<typeof startTcpUpstream>>;
beforeAll(async () => {
  tcp = await startTcpUpstream();
});
afterAll(async () => {
  await closeServer(tcp.server);
});

/** Two policies that allow different names; each test checks a client reaches its own name and not the other's. */
function policies() {
  return {
    alpha: { allow: [{ host: 'alpha.test', ports: [tcp.port] }], allowCidrs: ['127.0.0.0/8'] },
    beta: { allow: [{ host: 'beta.test', ports: [tcp.port] }], allowCidrs: ['127.0.0.0/8'] },
  };
}
const resolver = () => new TableResolver({ 'alpha.test': ['127.0.0.1'], 'beta.test': ['127.0.0.1'] });

async function statusOf(p: TestProxy, host: string, opts: Parameters<typeof connectVia>[2] = {}) {
  const t = await connectVia(p.port, `${host}:${tcp.port}`, opts);
  t.socket.destroy();
  return t.status === 200 ? 200 : `${t.status} ${JSON.parse(t.body).reason}`;
}

describe('egress identity: each client gets its own allowlist', () => {
  it('by source CIDR', async () => {
    const p = await startProxy(
      {
        clients: [
          { name: 'a', cidrs: ['127.0.0.10/32'], policy: 'alpha' },
          { name: 'b', cidrs: ['127.0.0.20/31'], policy: 'beta' },
        ],
        policies: policies(),
      },
      resolver(),
    );
    expect(await statusOf(p, 'alpha.test', { localAddress: '127.0.0.10' })).toBe(200);
    expect(await statusOf(p, 'beta.test', { localAddress: '127.0.0.10' })).toBe('403 host_not_allowed');
    expect(await statusOf(p, 'beta.test', { localAddress: '127.0.0.21' })).toBe(200);
    expect(await statusOf(p, 'alpha.test', { localAddress: '127.0.0.21' })).toBe('403 host_not_allowed');
    expect(await statusOf(p, 'alpha.test', { localAddress: '127.0.0.30' })).toBe('403 unknown_client');
    await new Promise((r) => setTimeout(r, 50));
    expect(p.log.access.map((l) => l.client)).toEqual(['a', 'a', 'b', 'b', null]);
    await p.close();
  });

  it('by token: Basic (user names the client) and Bearer, stored as scrypt hashes', async () => {
    const tokenA = 'alpha-secret-token-0123456789';
    const tokenB = 'beta-secret-token-9876543210';
    const p = await startProxy(
      {
        clients: [
          { name: 'a', tokenHash: await hashToken(tokenA), policy: 'alpha' },
          { name: 'b', tokenHash: await hashToken(tokenB), policy: 'beta' },
        ],
        policies: policies(),
      },
      resolver(),
    );
    const basic = (u: string, t: string) => ({
      headers: { 'Proxy-Authorization': `Basic ${Buffer.from(`${u}:${t}`).toString('base64')}` },
    });
    const bearer = (t: string) => ({ headers: { 'Proxy-Authorization': `Bearer ${t}` } });
    expect(await statusOf(p, 'alpha.test', basic('a', tokenA))).toBe(200);
    expect(await statusOf(p, 'beta.test', basic('a', tokenA))).toBe('403 host_not_allowed');
    expect(await statusOf(p, 'beta.test', bearer(tokenB))).toBe(200);
    expect(await statusOf(p, 'alpha.test', bearer(tokenB))).toBe('403 host_not_allowed');
    // Another client's name with this token, a wrong token, no credentials, and garbage.
    expect(await statusOf(p, 'alpha.test', basic('b', tokenA))).toBe('407 auth_failed');
    expect(await statusOf(p, 'alpha.test', bearer('wrong-token-wrong-token'))).toBe('407 auth_failed');
    expect(await statusOf(p, 'alpha.test')).toBe('407 auth_required');
    expect(await statusOf(p, 'alpha.test', { headers: { 'Proxy-Authorization': 'Digest x' } })).toBe(
      '407 auth_malformed',
    );
    await p.close();
  });

  it('token hashes are salted scrypt and verify only the right token', async () => {
    const a = await hashToken('same-token-same-token');
    const b = await hashToken('same-token-same-token');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(await verifyToken('same-token-same-token', a)).toBe(true);
    expect(await verifyToken('same-token-same-tokeN', a)).toBe(false);
  });

  describe('by client TLS certificate (CN or SAN)', () => {
    let pki: TestPki;
    let stranger: TestPki;
    beforeAll(async () => {
      pki = await makePki(['alpha', 'beta']);
      stranger = await makePki(['alpha']);
    });

    function tlsConnectVia(port: number, host: string, client?: { cert: Buffer; key: Buffer }): Promise<string> {
      return new Promise((resolve, reject) => {
        const s: TLSSocket = tlsConnect({ host: '127.0.0.1', port, ca: pki.ca, ...(client ?? {}) }, () => {
          s.write(`CONNECT ${host}:${tcp.port} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
        });
        let buf = '';
        s.on('data', (c: Buffer) => {
          buf += c.toString('latin1');
          const end = buf.indexOf('\r\n\r\n');
          if (end === -1) return;
          const status = Number(buf.slice(9, 12));
          if (status === 200) {
            s.destroy();
            resolve('200');
          } else if (buf.includes('}')) {
            s.destroy();
            resolve(`${status} ${JSON.parse(buf.slice(end + 4)).reason}`);
          }
        });
        s.on('error', reject);
      });
    }

    it('CN "alpha" and SAN "beta.clients.test" select their policies; a certificate from another CA does not count', async () => {
      const p = await startProxy(
        {
          tls: {
            cert: join(pki.dir, 'server.pem'),
            key: join(pki.dir, 'server.key'),
            clientCa: join(pki.dir, 'ca.pem'),
          },
          clients: [
            { name: 'a', certNames: ['alpha'], policy: 'alpha' },
            { name: 'b', certNames: ['beta.clients.test'], policy: 'beta' },
          ],
          policies: policies(),
        },
        resolver(),
      );
      expect(await tlsConnectVia(p.port, 'alpha.test', pki.clients.alpha)).toBe('200');
      expect(await tlsConnectVia(p.port, 'beta.test', pki.clients.alpha)).toBe('403 host_not_allowed');
      expect(await tlsConnectVia(p.port, 'beta.test', pki.clients.beta)).toBe('200');
      expect(await tlsConnectVia(p.port, 'alpha.test', pki.clients.beta)).toBe('403 host_not_allowed');
      expect(await tlsConnectVia(p.port, 'alpha.test', stranger.clients.alpha)).toBe('403 unknown_client');
      expect(await tlsConnectVia(p.port, 'alpha.test')).toBe('403 unknown_client');
      await p.close();
    });
  });
});
