import { createServer as createHttpServer, type Server } from 'node:http';
import { connect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { body, closeServer, listenOn, startProxy, TableResolver, type TestProxy } from './helpers.js';

/**
 * The plain-HTTP relay end to end: raw bytes from a client socket, through the proxy, to real loopback origin
 * servers (node:http for well-behaved ones, raw TCP for misbehaving ones), and back.
 */

interface Origin {
  port: number;
  server: Server;
  /** Requests seen, as "METHOD url". */
  seen: string[];
  /** TCP connections accepted. */
  connections: () => number;
}

let origin: Origin;
let proxies: TestProxy[] = [];

async function startOrigin(): Promise<Origin> {
  const seen: string[] = [];
  let connections = 0;
  const server = createHttpServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const got = Buffer.concat(chunks);
      const url = req.url ?? '';
      if (url === '/empty') {
        res.writeHead(204);
        res.end();
      } else if (url === '/not-modified') {
        res.writeHead(304, { ETag: '"x"' });
        res.end();
      } else if (url.startsWith('/chunked/')) {
        // Several writes without a length: node:http frames them as chunks.
        const data = body(Number(url.slice(9)), 'chunked');
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        for (let off = 0; off < data.length; off += 7000) res.write(data.subarray(off, off + 7000));
        res.end();
      } else if (url === '/echo') {
        res.writeHead(200, {
          'Content-Length': got.length,
          'X-Seen-TE': String(req.headers['transfer-encoding']),
          'X-Seen-CL': String(req.headers['content-length']),
          'X-Trailer': String(req.trailers['x-sum']),
        });
        res.end(got);
      } else {
        const data = body(Number(/\/bytes\/(\d+)/.exec(url)?.[1] ?? 10));
        res.writeHead(200, { 'Content-Length': data.length, 'X-Path': url });
        res.end(req.method === 'HEAD' ? undefined : data);
      }
    });
  });
  server.on('connection', () => connections++);
  server.keepAliveTimeout = 60_000;
  return { port: await listenOn(server), server, seen, connections: () => connections };
}

beforeAll(async () => {
  origin = await startOrigin();
});
afterAll(async () => {
  await closeServer(origin.server);
});
afterEach(async () => {
  for (const p of proxies) {
    expect(p.dialer.violations).toEqual([]);
    await p.close();
  }
  proxies = [];
});

async function proxyFor(ports: number[]): Promise<TestProxy> {
  const p = await startProxy(
    {
      limits: { headerTimeoutMs: 3000 },
      defaultPolicy: 'p',
      policies: { p: { allow: [{ host: 'origin.test', ports }], allowCidrs: ['127.0.0.0/8'] } },
    },
    new TableResolver({ 'origin.test': ['127.0.0.1'] }),
  );
  proxies.push(p);
  return p;
}

interface Answer {
  status: number;
  head: string;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Sends raw bytes on one connection and reads everything until the proxy closes it, then splits the bytes into
 * responses (an independent, minimal reader: Content-Length, chunked, or until close; no body for HEAD/204/304).
 */
function exchange(
  port: number,
  data: string | Buffer,
  methods: string[],
  halfClose = false,
): Promise<{ answers: Answer[]; raw: Buffer }> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', reject);
    const timer = setTimeout(() => s.destroy(new Error('proxy did not close the connection')), 8000);
    s.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks);
      resolve({ answers: split(raw, methods), raw });
    });
    if (halfClose) s.end(data);
    else s.write(data);
  });
}

function split(raw: Buffer, methods: string[]): Answer[] {
  const out: Answer[] = [];
  let off = 0;
  for (const method of methods) {
    if (off >= raw.length) break;
    const end = raw.indexOf('\r\n\r\n', off);
    const head = raw.toString('latin1', off, end);
    const [line, ...fields] = head.split('\r\n');
    const status = Number(line!.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const f of fields) {
      const c = f.indexOf(':');
      headers[f.slice(0, c).toLowerCase()] = f.slice(c + 1).trim();
    }
    off = end + 4;
    let content: Buffer = Buffer.alloc(0);
    if (method === 'HEAD' || status === 204 || status === 304 || status < 200) {
      // no body
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      content = raw.subarray(off, off + n);
      off += n;
    } else if (headers['transfer-encoding'] === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const eol = raw.indexOf('\r\n', off);
        const size = Number.parseInt(raw.toString('latin1', off, eol), 16);
        off = eol + 2;
        if (size === 0) {
          off = raw.indexOf('\r\n\r\n', off - 2) + 4;
          break;
        }
        parts.push(raw.subarray(off, off + size));
        off += size + 2;
      }
      content = Buffer.concat(parts);
    } else {
      content = raw.subarray(off);
      off = raw.length;
    }
    out.push({ status, head, headers, body: content });
  }
  return out;
}

const get = (path: string, extra = '') =>
  `GET http://origin.test:${origin.port}${path} HTTP/1.1\r\nHost: origin.test:${origin.port}\r\n${extra}\r\n`;

describe('http1 relay: request smuggling attempts never reach the origin', () => {
  const attempts: Array<[string, string]> = [
    ['CL.TE', 'Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG'],
    ['TE.CL', 'Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n'],
    ['duplicate Content-Length', 'Content-Length: 0\r\nContent-Length: 44\r\n\r\n'],
    ['TE obfuscated by a comma list', 'Transfer-Encoding: chunked, identity\r\n\r\n'],
    ['TE hidden by obs-fold', 'X-A: 1\r\n Transfer-Encoding: chunked\r\n\r\n'],
    ['TE with whitespace before the colon', 'Transfer-Encoding : chunked\r\n\r\n'],
    ['invalid chunk size in the body', 'Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'],
  ];
  it.each(attempts)('%s -> 400 and the connection is closed', async (_name, rest) => {
    const p = await proxyFor([origin.port]);
    const before = origin.seen.length;
    const text = `POST http://origin.test:${origin.port}/echo HTTP/1.1\r\nHost: origin.test:${origin.port}\r\n${rest}`;
    const { answers } = await exchange(p.port, `${text}${get('/bytes/5')}`, ['POST', 'GET']);
    expect(answers).toHaveLength(1);
    expect(answers[0]!.status).toBe(400);
    expect(answers[0]!.headers['x-palisade-reason']).toMatch(/^(ambiguous_framing|malformed_request)$/);
    // The chunk-size case reaches the origin with its head only; nothing after the bad chunk is ever forwarded.
    expect(origin.seen.slice(before).filter((s) => s.startsWith('GET'))).toEqual([]);
  });
});

describe('http1 relay: framing', () => {
  it('pipelined requests are answered in order on one connection, and Connection: close ends it', async () => {
    const p = await proxyFor([origin.port]);
    const text = get('/bytes/100') + get('/bytes/2000') + get('/bytes/30', 'Connection: close\r\n');
    const { answers } = await exchange(p.port, text, ['GET', 'GET', 'GET']);
    expect(answers.map((a) => [a.status, a.headers['x-path'], a.body.length])).toEqual([
      [200, '/bytes/100', 100],
      [200, '/bytes/2000', 2000],
      [200, '/bytes/30', 30],
    ]);
    expect(answers[2]!.body.equals(body(30))).toBe(true);
    expect(answers[2]!.headers.connection).toBe('close');
  });

  it('HEAD, 204 and 304 carry no body and the connection stays usable', async () => {
    const p = await proxyFor([origin.port]);
    const head = `HEAD http://origin.test:${origin.port}/bytes/500 HTTP/1.1\r\nHost: origin.test\r\n\r\n`;
    const text = head + get('/empty') + get('/not-modified') + get('/bytes/7', 'Connection: close\r\n');
    const { answers } = await exchange(p.port, text, ['HEAD', 'GET', 'GET', 'GET']);
    expect(answers.map((a) => a.status)).toEqual([200, 204, 304, 200]);
    expect(answers[0]!.headers['content-length']).toBe('500');
    expect(answers[3]!.body.equals(body(7))).toBe(true);
  });

  it('a chunked request body with trailers reaches the origin intact and stays chunked', async () => {
    const p = await proxyFor([origin.port]);
    const data = body(20_000, 'up');
    let chunked = '';
    for (let off = 0; off < data.length; off += 3000) {
      const part = data.subarray(off, off + 3000);
      chunked += `${part.length.toString(16)};ext=1\r\n${part.toString('latin1')}\r\n`;
    }
    chunked += '0\r\nX-Sum: 42\r\n\r\n';
    const text =
      `POST http://origin.test:${origin.port}/echo HTTP/1.1\r\nHost: origin.test\r\nTransfer-Encoding: chunked\r\n` +
      `Trailer: X-Sum\r\nConnection: close\r\n\r\n${chunked}`;
    const { answers } = await exchange(p.port, Buffer.from(text, 'latin1'), ['POST']);
    expect(answers[0]!.status).toBe(200);
    expect(answers[0]!.headers['x-seen-te']).toBe('chunked');
    expect(answers[0]!.headers['x-seen-cl']).toBe('undefined');
    expect(answers[0]!.headers['x-trailer']).toBe('42');
    expect(answers[0]!.body.equals(data)).toBe(true);
  });

  it('a chunked response reaches an HTTP/1.1 client chunked, and an HTTP/1.0 client decoded and closed', async () => {
    const p = await proxyFor([origin.port]);
    const one = await exchange(p.port, get('/chunked/50000', 'Connection: close\r\n'), ['GET']);
    expect(one.answers[0]!.headers['transfer-encoding']).toBe('chunked');
    expect(one.answers[0]!.body.equals(body(50_000, 'chunked'))).toBe(true);
    const zero = await exchange(p.port, `GET http://origin.test:${origin.port}/chunked/50000 HTTP/1.0\r\n\r\n`, [
      'GET',
    ]);
    expect(zero.answers[0]!.headers['transfer-encoding']).toBeUndefined();
    expect(zero.answers[0]!.headers.connection).toBe('close');
    expect(zero.answers[0]!.body.equals(body(50_000, 'chunked'))).toBe(true);
  });

  it('a client that half-closes after its requests still gets every answer', async () => {
    const p = await proxyFor([origin.port]);
    const post = `POST http://origin.test:${origin.port}/echo HTTP/1.1\r\nHost: origin.test\r\nContent-Length: 5\r\n\r\nhello`;
    const { answers } = await exchange(p.port, get('/bytes/300') + post, ['GET', 'POST'], true);
    expect(answers.map((a) => [a.status, a.body.length])).toEqual([
      [200, 300],
      [200, 5],
    ]);
    expect(answers[1]!.body.toString()).toBe('hello');
  });

  it('a request body cut by the client closing is never completed upstream', async () => {
    const p = await proxyFor([origin.port]);
    const before = origin.seen.length;
    const post = `POST http://origin.test:${origin.port}/echo HTTP/1.1\r\nHost: origin.test\r\nContent-Length: 50\r\n\r\nonly-part`;
    const { answers } = await exchange(p.port, post, ['POST'], true);
    expect(answers).toEqual([]);
    await new Promise((r) => setTimeout(r, 100));
    expect(origin.seen.length - before).toBeLessThanOrEqual(1); // the head may arrive; the origin never answers it
    expect(p.log.access.at(-1)).toMatchObject({ status: 499 });
  });

  it('upstream connections are reused across requests and clients', async () => {
    const own = await startOrigin();
    const p = await proxyFor([own.port]);
    const req = (path: string, extra = '') =>
      `GET http://origin.test:${own.port}${path} HTTP/1.1\r\nHost: origin.test\r\n${extra}\r\n`;
    for (let i = 0; i < 5; i++) {
      const { answers } = await exchange(p.port, req('/bytes/64') + req('/bytes/65', 'Connection: close\r\n'), [
        'GET',
        'GET',
      ]);
      expect(answers.map((a) => a.body.length)).toEqual([64, 65]);
    }
    expect(own.seen).toHaveLength(10);
    expect(own.connections()).toBe(1);
    await closeServer(own.server);
  });
});

/** A raw TCP origin that answers every request with `reply` (then closes when `close`). */
async function rawOrigin(reply: string, close: boolean): Promise<{ port: number; server: NetServer }> {
  const server = createNetServer((s) => {
    s.on('error', () => {});
    let buf = '';
    s.on('data', (c: Buffer) => {
      buf += c.toString('latin1');
      while (buf.includes('\r\n\r\n')) {
        buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
        if (close) s.end(Buffer.from(reply, 'latin1'));
        else s.write(Buffer.from(reply, 'latin1'));
      }
    });
  });
  return { port: await listenOn(server), server };
}

describe('http1 relay: misbehaving origins', () => {
  const cases: Array<[string, string, boolean, number, string]> = [
    [
      'a response with both framings is refused',
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\nok',
      false,
      502,
      'upstream_bad_response',
    ],
    ['garbage instead of a status line is refused', 'SSH-2.0-nope\r\n\r\n', false, 502, 'upstream_bad_response'],
    [
      'an unrequested 101 is refused',
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n',
      false,
      502,
      'upstream_bad_response',
    ],
    ['an origin that closes without answering', '', true, 502, 'upstream_error'],
  ];
  it.each(cases)('%s', async (_n, reply, close, status, reason) => {
    const o = await rawOrigin(reply, close);
    const p = await proxyFor([o.port]);
    const text = `GET http://origin.test:${o.port}/ HTTP/1.1\r\nHost: origin.test\r\n\r\n`;
    const { answers } = await exchange(p.port, text, ['GET']);
    expect(answers[0]!.status).toBe(status);
    expect(answers[0]!.headers['x-palisade-reason']).toBe(reason);
    await closeServer(o.server);
  });

  it('a reused connection the origin closes unanswered: GET is sent again on a fresh one, POST is not', async () => {
    // Each connection answers its first request and drops the second unanswered, as a server closing an idle
    // connection just as a request arrives.
    let connections = 0;
    const server = createNetServer((s) => {
      connections++;
      let requests = 0;
      let buf = '';
      s.on('error', () => {});
      s.on('data', (c: Buffer) => {
        buf += c.toString('latin1');
        while (buf.includes('\r\n\r\n')) {
          buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
          if (++requests === 1) s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
          else s.destroy();
        }
      });
    });
    const port = await listenOn(server);
    const p = await proxyFor([port]);
    const req = (method: string) =>
      `${method} http://origin.test:${port}/ HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n`;
    expect((await exchange(p.port, req('GET'), ['GET'])).answers[0]!.status).toBe(200);
    expect((await exchange(p.port, req('GET'), ['GET'])).answers[0]!.body.toString()).toBe('ok');
    expect(connections).toBe(2);
    const post = await exchange(p.port, req('POST'), ['POST']);
    expect(post.answers[0]!.status).toBe(502);
    expect(post.answers[0]!.headers['x-palisade-reason']).toBe('upstream_error');
    expect(connections).toBe(2);
    await closeServer(server);
  });

  it('a close-delimited response is relayed whole and then the client connection is closed', async () => {
    const data = body(30_000, 'close');
    const o = await rawOrigin(`HTTP/1.1 200 OK\r\nX-Kind: close\r\n\r\n${data.toString('latin1')}`, true);
    const p = await proxyFor([o.port]);
    const text = `GET http://origin.test:${o.port}/ HTTP/1.1\r\nHost: origin.test\r\n\r\n`;
    const { answers } = await exchange(p.port, text, ['GET']);
    expect(answers[0]!.headers.connection).toBe('close');
    expect(answers[0]!.body.equals(data)).toBe(true);
    await closeServer(o.server);
  });

  it('a response cut before its Content-Length is complete cuts the client connection too', async () => {
    const o = await rawOrigin('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly-this', true);
    const p = await proxyFor([o.port]);
    const text = `GET http://origin.test:${o.port}/ HTTP/1.1\r\nHost: origin.test\r\n\r\n`;
    const { raw } = await exchange(p.port, text, ['GET']);
    const got = raw.toString('latin1');
    expect(got).toMatch(/^HTTP\/1\.1 200 /);
    expect(got.endsWith('only-this')).toBe(true);
    await closeServer(o.server);
  });
});
