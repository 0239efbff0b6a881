import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { UserInputError } from '../../src/core/errors.js';
import {
  classifyAddress,
  compileConfig,
  decideTarget,
  loadConfigFile,
  parseConfigText,
  quickStartConfig,
  readSni,
} from '../../src/egress/index.js';
import { parseAbsoluteUrl, parseAuthority } from '../../src/egress/target.js';
import { listenOn } from './helpers.js';

describe('address classes', () => {
  const table: Array<[string, string | undefined]> = [
    ['8.8.8.8', undefined],
    ['1.1.1.1', undefined],
    ['2606:4700:4700::1111', undefined],
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['169.254.10.1', 'link-local'],
    ['10.255.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', undefined],
    ['192.168.0.1', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.254', 'cgnat'],
    ['100.128.0.1', undefined],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.251', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['198.18.0.1', 'benchmarking'],
    ['192.0.2.1', 'documentation'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'ipv4-mapped'],
    ['::ffff:8.8.8.8', 'ipv4-mapped'],
    ['::ffff:a9fe:a9fe', 'ipv4-mapped'],
    ['::127.0.0.1', 'ipv4-embedded'],
    ['64:ff9b::a9fe:a9fe', 'ipv4-embedded'],
    ['2002:a9fe:a9fe::1', 'ipv4-embedded'],
    ['2001:0:4136:e378::1', 'ipv4-embedded'],
    ['fc00::1', 'ula'],
    ['fdff::1', 'ula'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['not-an-ip', 'not-an-ip'],
  ];
  it.each(table)('%s -> %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });
});

describe('request targets', () => {
  const authorities: Array<[string, unknown]> = [
    ['api.stripe.com:443', { host: 'api.stripe.com', port: 443, ipFamily: 0 }],
    ['API.Stripe.COM.:443', { host: 'api.stripe.com', port: 443, ipFamily: 0 }],
    ['10.0.0.1:8443', { host: '10.0.0.1', port: 8443, ipFamily: 4 }],
    ['[2001:db8::1]:443', { host: '2001:db8::1', port: 443, ipFamily: 6 }],
    ['api.stripe.com', undefined],
    ['api.stripe.com:', undefined],
    ['api.stripe.com:65536', undefined],
    ['api.stripe.com:+443', undefined],
    ['-bad.example.com:443', undefined],
    ['a..b:443', undefined],
    ['127.1:443', undefined],
    ['0x7f000001:443', undefined],
    ['1.2.3.4.5:443', undefined],
    ['[v4.1.2.3.4]:443', undefined],
    [`${'a'.repeat(64)}.com:443`, undefined],
  ];
  it.each(authorities)('CONNECT %s', (authority, expected) => {
    expect(parseAuthority(authority)).toEqual(expected);
  });

  it('absolute-form URLs keep path and query; userinfo and https are refused', () => {
    expect(parseAbsoluteUrl('http://Example.com:8080/a/b?c=d')).toEqual({
      target: { host: 'example.com', port: 8080, ipFamily: 0 },
      path: '/a/b?c=d',
      hostHeader: 'example.com:8080',
    });
    expect(parseAbsoluteUrl('http://example.com')?.target.port).toBe(80);
    expect(parseAbsoluteUrl('http://u:p@example.com/')).toBeUndefined();
    expect(parseAbsoluteUrl('https://example.com/')).toBeUndefined();
    expect(parseAbsoluteUrl('/relative')).toBeUndefined();
  });
});

describe('policy decisions', () => {
  const config = compileConfig(
    {
      policies: {
        p: {
          allow: [
            'api.stripe.com',
            '*.amazonaws.com',
            { host: 'uploads.example.com', ports: [8443], methods: ['PUT'] },
            { host: 'uploads.example.com', methods: ['GET'] },
          ],
          allowCidrs: ['203.0.113.0/24', { cidr: '2001:db8::/32', ports: [8080] }],
        },
      },
    },
    tmpdir(),
  );
  const p = config.policies.get('p')!;
  const t = (host: string, port: number) =>
    parseAuthority(host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`)!;
  const table: Array<[string, 'connect' | 'http', string, number, string, string]> = [
    ['exact name', 'connect', 'api.stripe.com', 443, 'CONNECT', 'host_allowed'],
    ['exact name is not a suffix', 'connect', 'evil-api.stripe.com', 443, 'CONNECT', 'host_not_allowed'],
    ['exact name does not allow subdomains', 'connect', 'x.api.stripe.com', 443, 'CONNECT', 'host_not_allowed'],
    ['wildcard: one label down', 'connect', 's3.amazonaws.com', 443, 'CONNECT', 'host_allowed'],
    ['wildcard: two labels down', 'connect', 'bucket.s3.amazonaws.com', 443, 'CONNECT', 'host_allowed'],
    ['wildcard: never the bare parent', 'connect', 'amazonaws.com', 443, 'CONNECT', 'host_not_allowed'],
    ['wildcard: lookalike suffix', 'connect', 'evilamazonaws.com', 443, 'CONNECT', 'host_not_allowed'],
    ['CONNECT default port is 443 only', 'connect', 'api.stripe.com', 80, 'CONNECT', 'port_not_allowed'],
    ['HTTP default ports are 80 and 443', 'http', 'api.stripe.com', 80, 'GET', 'host_allowed'],
    ['HTTP default ports exclude 8080', 'http', 'api.stripe.com', 8080, 'GET', 'port_not_allowed'],
    ['methods: allowed method on its port', 'http', 'uploads.example.com', 8443, 'PUT', 'host_allowed'],
    ['methods: other rule for default ports', 'http', 'uploads.example.com', 80, 'GET', 'host_allowed'],
    ['methods: method of another port', 'http', 'uploads.example.com', 80, 'PUT', 'method_not_allowed'],
    ['methods: CONNECT needs listing', 'connect', 'uploads.example.com', 8443, 'CONNECT', 'method_not_allowed'],
    ['IP literal in allowed CIDR', 'connect', '203.0.113.7', 443, 'CONNECT', 'cidr_allowed'],
    ['IP literal outside CIDRs', 'connect', '198.51.100.7', 443, 'CONNECT', 'ip_literal_not_allowed'],
    ['IPv6 literal on its CIDR port', 'http', '2001:db8::5', 8080, 'GET', 'cidr_allowed'],
    ['IPv6 literal on another port', 'http', '2001:db8::5', 80, 'GET', 'port_not_allowed'],
  ];
  it.each(table)('%s', (_n, kind, host, port, method, reason) => {
    expect(decideTarget(p, kind, t(host, port), method).reason).toBe(reason);
  });
});

describe('config validation names the bad key', () => {
  const cases: Array<[string, string, string]> = [
    ['unknown top-level key', 'policies: {p: {}}\nlisten_addr: x\n', '/: unknown key "listen_addr"'],
    ['bad mode', 'policies: {p: {mode: enforcing}}\n', '/policies/p/mode: must be one of enforce, report'],
    ['unknown policy key', 'policies: {p: {allowHosts: [a.com]}}\n', '/policies/p: unknown key "allowHosts"'],
    ['port out of range', 'policies: {p: {allow: [{host: a.com, ports: [70000]}]}}\n', '/policies/p/allow/0/ports/0'],
    ['bad host pattern', 'policies: {p: {allow: ["a.*.com"]}}\n', '/policies/p/allow/0: "a.*.com" is not a DNS name'],
    ['IP in allow', 'policies: {p: {allow: ["10.0.0.1"]}}\n', 'IP addresses go in allowCidrs'],
    [
      'bad CIDR',
      'policies: {p: {allowCidrs: [10.0.0.0/33]}}\n',
      '/policies/p/allowCidrs/0: "10.0.0.0/33" is not a CIDR',
    ],
    [
      'unknown policy reference',
      'clients: [{name: a, cidrs: [10.0.0.0/8], policy: q}]\npolicies: {p: {}}\n',
      '/clients/0/policy: unknown policy "q"',
    ],
    ['client without criteria', 'clients: [{name: a, policy: p}]\npolicies: {p: {}}\n', '/clients/0: a client needs'],
    [
      'plain token instead of hash',
      'clients: [{name: a, tokenHash: secret, policy: p}]\npolicies: {p: {}}\n',
      '/clients/0/tokenHash',
    ],
    [
      'bad resolve address',
      'resolve: {a.test: nope}\npolicies: {p: {}}\n',
      '/resolve/a.test: "nope" is not an IP address',
    ],
    ['missing policies', 'listen: 127.0.0.1:3128\n', '/: missing key "policies"'],
    ['bad listen', 'listen: localhost\npolicies: {p: {}}\n', '/listen: "localhost" is not HOST:PORT'],
    ['bad limit', 'limits: {maxConnections: 0}\npolicies: {p: {}}\n', '/limits/maxConnections'],
    ['YAML syntax', 'policies: {p: [}\n', 'invalid YAML'],
  ];
  it.each(cases)('%s', (_n, yaml, message) => {
    let error: unknown;
    try {
      parseConfigText(yaml, tmpdir());
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as Error).message).toContain(message);
  });

  it('the documented example loads', async () => {
    const config = loadConfigFile(new URL('../../examples/egress/egress.yaml', import.meta.url).pathname);
    expect([...config.policies.keys()]).toEqual(['payments', 'reporting', 'rollout']);
    expect(config.clients.map((c) => `${c.name}->${c.policy.name}`)).toEqual([
      'payments-api->payments',
      'batch->reporting',
      'reporting-ui->reporting',
    ]);
  });

  it('quick-start flags compile to one default policy; bad --resolve is refused', () => {
    const c = quickStartConfig(
      { allow: ['api.stripe.com', '*.amazonaws.com', 'up.test:8080'], resolve: ['up.test=127.0.0.1'] },
      tmpdir(),
    );
    const p = c.defaultPolicy!;
    expect(decideTarget(p, 'connect', parseAuthority('up.test:8080')!, 'CONNECT').allow).toBe(true);
    expect(decideTarget(p, 'connect', parseAuthority('up.test:443')!, 'CONNECT').allow).toBe(false);
    expect(c.pins.get('up.test')).toEqual(['127.0.0.1']);
    expect(() => quickStartConfig({ allow: [], resolve: ['nope'] }, tmpdir())).toThrow(/NAME=ADDRESS/);
  });

  it('relative TLS paths resolve against the config file directory; a missing file names its key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'palisade-cfg-'));
    await writeFile(join(dir, 'c.yaml'), 'tls: {cert: cert.pem, key: key.pem}\npolicies: {p: {}}\n');
    expect(() => loadConfigFile(join(dir, 'c.yaml'))).toThrow(/\/tls\/cert: cannot read "cert.pem"/);
  });
});

describe('SNI from a real ClientHello', () => {
  async function captureHello(servername: string | undefined): Promise<Buffer> {
    let resolveHello!: (b: Buffer) => void;
    const got = new Promise<Buffer>((r) => {
      resolveHello = r;
    });
    const server = createServer((s: Socket) => {
      s.once('data', (d: Buffer) => {
        resolveHello(d);
        s.destroy();
      });
    });
    const port = await listenOn(server);
    const c = tlsConnect({ host: '127.0.0.1', port, ...(servername ? { servername } : {}) });
    c.on('error', () => {});
    const hello = await got;
    server.close();
    return hello;
  }

  it('reads the name, asks for more bytes when short, and says when there is none or it is not TLS', async () => {
    const hello = await captureHello('api.stripe.com');
    expect(readSni(hello)).toEqual({ kind: 'name', name: 'api.stripe.com' });
    expect(readSni(hello.subarray(0, 3))).toEqual({ kind: 'need', bytes: 5 });
    expect(readSni(hello.subarray(0, 40)).kind).toBe('need');
    expect(readSni(await captureHello(undefined))).toEqual({ kind: 'none' });
    expect(readSni(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toEqual({ kind: 'not-tls' });
  });
});
