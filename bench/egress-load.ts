/**
 * The egress bench's load generator, run as its own process (`node --import tsx bench/egress-load.ts JOB`) so
 * that its CPU is not charged to, nor taken from, the process that hosts the upstreams. The same generator
 * drives both proxies. JOB is JSON: {kind, proxyPort, upstreamPort, host, seconds, concurrency}; the result is
 * one JSON line on stdout.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface LoadJob {
  kind: 'http' | 'download' | 'tunnels';
  proxyPort: number;
  upstreamPort: number;
  host: string;
  seconds: number;
  concurrency: number;
  /** download: bytes the upstream sends. */
  bytes?: number;
}

export interface HttpResult {
  count: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}
export interface DownloadResult {
  mbps: number;
  short: number;
}
export interface TunnelResult {
  count: number;
  tps: number;
  errors: number;
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Keep-alive HTTP clients over raw sockets (a light generator leaves the CPU to the proxies). */
async function httpLoad(job: LoadJob): Promise<HttpResult> {
  const { host, upstreamPort } = job;
  const request = Buffer.from(`GET http://${host}:${upstreamPort}/ HTTP/1.1\r\nHost: ${host}:${upstreamPort}\r\n\r\n`);
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + job.seconds * 1000;
  const worker = () =>
    new Promise<void>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: job.proxyPort, noDelay: true });
      let buf: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      const send = (): void => {
        if (performance.now() >= deadline) {
          s.destroy();
          resolve();
          return;
        }
        sentAt = performance.now();
        s.write(request);
      };
      s.on('connect', send);
      s.on('data', (chunk: Buffer) => {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end === -1) return;
          const head = buf.subarray(0, end).toString('latin1');
          const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
          if (buf.length < end + 4 + len) return;
          if (!head.startsWith('HTTP/1.1 200')) errors++;
          buf = buf.subarray(end + 4 + len);
          latencies.push(performance.now() - sentAt);
          send();
        }
      });
      s.on('error', () => {
        errors++;
        resolve();
      });
      s.on('close', () => resolve());
    });
  const started = performance.now();
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  return {
    count: latencies.length,
    rps: latencies.length / elapsed,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    errors,
  };
}

function openTunnel(job: LoadJob, localAddress?: string): Promise<Socket> {
  const authority = `${job.host}:${job.upstreamPort}`;
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: job.proxyPort, noDelay: true, localAddress });
    s.on('error', reject);
    s.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      s.off('data', onData);
      // Removing the listener does not stop the flow: pause, or bytes that arrive before the caller listens are lost.
      s.pause();
      const status = buf.subarray(0, 12).toString();
      if (!status.startsWith('HTTP/1.1 200') && !status.startsWith('HTTP/1.0 200')) {
        s.destroy();
        reject(new Error(`CONNECT refused: ${buf.subarray(0, end).toString().split('\r\n')[0]}`));
        return;
      }
      const rest = buf.subarray(end + 4);
      if (rest.length) s.unshift(rest);
      resolve(s);
    };
    s.on('data', onData);
  });
}

async function download(job: LoadJob): Promise<DownloadResult> {
  const started = performance.now();
  const s = await openTunnel(job);
  let got = 0;
  await new Promise<void>((resolve, reject) => {
    s.on('data', (c: Buffer) => {
      got += c.length;
    });
    s.resume();
    s.on('end', () => resolve());
    s.on('error', reject);
  });
  s.destroy();
  // Throughput counts what arrived; a tunnel that loses its tail is reported, not hidden.
  return { mbps: got / 1e6 / ((performance.now() - started) / 1000), short: (job.bytes ?? 0) - got };
}

/** Each worker: open a tunnel, one byte there and back, close. Client sources rotate over 127.0.x.y to spread ports. */
async function tunnelLoad(job: LoadJob): Promise<TunnelResult> {
  let done = 0;
  let errors = 0;
  const deadline = performance.now() + job.seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: job.concurrency }, async (_, w) => {
      while (performance.now() < deadline) {
        try {
          const s = await openTunnel(job, `127.0.${1 + (w % 50)}.${1 + ((done + w) % 250)}`);
          await new Promise<void>((resolve, reject) => {
            s.once('data', () => resolve());
            s.once('error', reject);
            s.resume();
            s.write('x');
          });
          s.resetAndDestroy();
          done++;
        } catch {
          errors++;
        }
      }
    }),
  );
  return { count: done, tps: done / ((performance.now() - started) / 1000), errors };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as LoadJob;
  const result =
    job.kind === 'http' ? await httpLoad(job) : job.kind === 'download' ? await download(job) : await tunnelLoad(job);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
