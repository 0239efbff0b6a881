import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A loopback HTTP receiver that records requests; it can go down (refusing connections) and come back. */
export class TestReceiver {
  readonly received: Received[] = [];
  /** Decides the answer per request; default 200 "ok". */
  answer: (r: Received) => { status: number; body?: string } = () => ({ status: 200, body: 'ok' });
  private server: Server | undefined;
  port = 0;

  async up(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        this.received.push(r);
        const a = this.answer(r);
        res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body ?? '');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  url(path = '/'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition') {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}
