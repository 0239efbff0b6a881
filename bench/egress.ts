/**
 * Egress proxy benchmark: Palisade against Squid, same allowlist, everything on loopback.
 * Figures: plain-HTTP requests/s and p50/p99 latency at concurrency 50, CONNECT download throughput (MB/s),
 * and new tunnels/s, plus each proxy's CPU time per unit of work (from /proc/<pid>/stat: the figure that other
 * load on a shared machine does not distort). Both proxies run as child processes with an access log file and
 * upstream keep-alive; the upstreams run in this process, and the load generator (bench/egress-load.ts) runs as a
 * separate process per measurement, the same one for both proxies. After a warm-up, figures are measured in
 * alternating rounds (squid, palisade, squid, ...) and the median of the rounds is reported with its range.
 *
 *   npx tsx -e "import('./bench/egress.ts').then((m) => m.run())"
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DownloadResult, HttpResult, LoadJob, TunnelResult } from './egress-load.js';

const CONCURRENCY = 50;
const HTTP_SECONDS = 4;
const TUNNEL_SECONDS = 3;
const DOWNLOAD_BYTES = 512 * 1024 * 1024;
const HOST = 'bench.test';

interface Upstreams {
  http: number;
  /** TCP connections the HTTP upstream has accepted so far (shows whether a proxy reuses upstream connections). */
  httpConnections(): number;
  download: number;
  echo: number;
  close(): void;
}

function listen(server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
}

async function startUpstreams(): Promise<Upstreams> {
  const payload = Buffer.alloc(1024, 'x');
  const http = createHttpServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': payload.length });
    res.end(payload);
  });
  http.keepAliveTimeout = 60_000;
  let httpConnections = 0;
  http.on('connection', () => httpConnections++);
  const block = Buffer.alloc(1024 * 1024, 'd');
  const download = createServer((s) => {
    s.on('error', () => {});
    let sent = 0;
    const pump = (): void => {
      while (sent < DOWNLOAD_BYTES) {
        sent += block.length;
        if (!s.write(block)) return void s.once('drain', pump);
      }
      s.end();
    };
    pump();
  });
  const echo = createServer((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  const [h, d, e] = await Promise.all([listen(http), listen(download), listen(echo)]);
  return {
    http: h,
    httpConnections: () => httpConnections,
    download: d,
    echo: e,
    close() {
      http.closeAllConnections();
      http.close();
      download.close();
      echo.close();
    },
  };
}

async function freePort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, name: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((r) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not listen on ${port}`);
}

interface Proxy {
  name: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

async function startPalisade(dir: string, up: Upstreams): Promise<Proxy> {
  const port = await freePort();
  const repo = new URL('..', import.meta.url).pathname;
  const args = ['--import', 'tsx', join(repo, 'src/cli/main.ts'), 'egress', '--listen', `127.0.0.1:${port}`];
  for (const p of [up.http, up.download, up.echo]) args.push('--allow', `${HOST}:${p}`);
  args.push('--resolve', `${HOST}=127.0.0.1`, '--allow-cidr', '127.0.0.1/32', '--log', join(dir, 'palisade.log'));
  const child = spawn(process.execPath, args, { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort(port, child, 'palisade');
  return { name: 'palisade', port, pid: child.pid!, stop: () => stopChild(child, 'SIGTERM') };
}

function squidBinary(): string | null {
  for (const p of ['/usr/sbin/squid', '/usr/bin/squid']) {
    try {
      execFileSync(p, ['-v'], { stdio: 'ignore' });
      return p;
    } catch {}
  }
  return null;
}

async function startSquid(bin: string, dir: string, up: Upstreams): Promise<Proxy> {
  const port = await freePort();
  // The same allowlist: one name, the three upstream ports, CONNECT and plain HTTP; no caching (every request
  // goes upstream, as with Palisade); server-side keep-alive is Squid's default, like Palisade's pooled upstream
  // connections; the access log is written in batches, like Palisade's (Squid's default writes every line).
  const conf = `
http_port 127.0.0.1:${port}
pid_filename ${dir}/squid.pid
cache_log ${dir}/cache.log
access_log stdio:${dir}/access.log
buffered_logs on
coredump_dir ${dir}
hosts_file ${dir}/hosts
dns_nameservers 127.0.0.1
cache deny all
cache_mem 8 MB
pinger_enable off
shutdown_lifetime 0 seconds
max_filedescriptors 16384
acl bench_dst dstdomain ${HOST}
acl bench_ports port ${up.http} ${up.download} ${up.echo}
http_access allow bench_dst bench_ports
http_access deny all
`;
  writeFileSync(join(dir, 'squid.conf'), conf);
  writeFileSync(join(dir, 'hosts'), `127.0.0.1 ${HOST}\n`);
  chmodSync(dir, 0o777); // squid drops privileges to its own user and writes its logs here
  const child = spawn(bin, ['-N', '-f', join(dir, 'squid.conf')], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort(port, child, 'squid');
  return { name: 'squid', port, pid: child.pid!, stop: () => stopChild(child, 'SIGTERM') };
}

/** Runs one job of the load generator in its own process and returns its JSON result. */
function load<T>(job: LoadJob): Promise<T> {
  const repo = new URL('..', import.meta.url).pathname;
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(repo, 'bench/egress-load.ts'), JSON.stringify(job)],
      {
        cwd: repo,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`load generator exited with ${code}`));
      else resolve(JSON.parse(out) as T);
    });
  });
}

const httpLoad = (proxyPort: number, upstreamPort: number, seconds: number) =>
  load<HttpResult>({ kind: 'http', proxyPort, upstreamPort, host: HOST, seconds, concurrency: CONCURRENCY });
const download = (proxyPort: number, upstreamPort: number) =>
  load<DownloadResult>({
    kind: 'download',
    proxyPort,
    upstreamPort,
    host: HOST,
    seconds: 0,
    concurrency: 1,
    bytes: DOWNLOAD_BYTES,
  });
const tunnelLoad = (proxyPort: number, upstreamPort: number, seconds: number) =>
  load<TunnelResult>({ kind: 'tunnels', proxyPort, upstreamPort, host: HOST, seconds, concurrency: CONCURRENCY });

interface Figures {
  /** Per-round values, in round order (for ratios paired by round). */
  rounds: { rps: number[]; p50: number[]; p99: number[]; mbps: number[]; tps: number[] };
  rps: number;
  p50: number;
  p99: number;
  mbps: number;
  tps: number;
  errors: number;
  /** Proxy CPU time (ms) per 1,000 plain-HTTP requests, per GB tunnelled, per 1,000 new tunnels. */
  cpuPer1kRequests: number;
  cpuPerGb: number;
  cpuPer1kTunnels: number;
  /** New upstream TCP connections per 1,000 plain-HTTP requests (0 when the proxy keeps them alive). */
  upstreamConnsPer1k: number;
  /** Downloads (one per round) whose tunnel ended before the last byte arrived. */
  short: number;
  /** "min-max" over the rounds, for throughput figures: how far to trust the median. */
  range: { rps: string; mbps: string; tps: string };
}

const span = (xs: number[]): string => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;

const ROUNDS = 5;

interface Acc {
  rps: number[];
  p50: number[];
  p99: number[];
  mbps: number[];
  tps: number[];
  errors: number;
  short: number;
  cpuHttp: number;
  nHttp: number;
  upstreamConns: number;
  cpuGb: number;
  gb: number;
  cpuTun: number;
  nTun: number;
}

/** CPU time (user + system, ms) a process has used so far, from /proc: a figure the machine's other load does not distort. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Runs each figure in alternating rounds (squid, palisade, squid, palisade, ...) and keeps the median, so that
 * load from other processes on the machine falls on both proxies alike.
 */
async function measureAll(proxies: Proxy[], up: Upstreams): Promise<Record<string, Figures>> {
  const acc = new Map<string, Acc>();
  for (const p of proxies) {
    acc.set(p.name, {
      rps: [],
      p50: [],
      p99: [],
      mbps: [],
      tps: [],
      errors: 0,
      short: 0,
      cpuHttp: 0,
      nHttp: 0,
      upstreamConns: 0,
      cpuGb: 0,
      gb: 0,
      cpuTun: 0,
      nTun: 0,
    });
  }
  for (const p of proxies) {
    // Warm-up: JIT, connection pools, DNS caches; not counted.
    await httpLoad(p.port, up.http, 2);
    await tunnelLoad(p.port, up.echo, 1);
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const p of proxies) {
      const a = acc.get(p.name)!;
      let cpu = cpuMs(p.pid);
      const conns = up.httpConnections();
      const http = await httpLoad(p.port, up.http, HTTP_SECONDS);
      a.cpuHttp += cpuMs(p.pid) - cpu;
      a.nHttp += http.count;
      a.upstreamConns += up.httpConnections() - conns;
      a.rps.push(http.rps);
      a.p50.push(http.p50);
      a.p99.push(http.p99);
      a.errors += http.errors;
      cpu = cpuMs(p.pid);
      const d = await download(p.port, up.download);
      a.cpuGb += cpuMs(p.pid) - cpu;
      a.gb += DOWNLOAD_BYTES / 1e9;
      a.mbps.push(d.mbps);
      if (d.short !== 0) a.short++;
      cpu = cpuMs(p.pid);
      const t = await tunnelLoad(p.port, up.echo, TUNNEL_SECONDS);
      a.cpuTun += cpuMs(p.pid) - cpu;
      a.nTun += t.count;
      a.tps.push(t.tps);
      a.errors += t.errors;
    }
  }
  const out: Record<string, Figures> = {};
  for (const [name, a] of acc) {
    out[name] = {
      rounds: { rps: a.rps, p50: a.p50, p99: a.p99, mbps: a.mbps, tps: a.tps },
      rps: median(a.rps),
      p50: median(a.p50),
      p99: median(a.p99),
      mbps: median(a.mbps),
      tps: median(a.tps),
      errors: a.errors,
      short: a.short,
      cpuPer1kRequests: (a.cpuHttp / a.nHttp) * 1000,
      upstreamConnsPer1k: (a.upstreamConns / a.nHttp) * 1000,
      cpuPerGb: a.cpuGb / a.gb,
      cpuPer1kTunnels: (a.cpuTun / a.nTun) * 1000,
      range: { rps: span(a.rps), mbps: span(a.mbps), tps: span(a.tps) },
    };
  }
  return out;
}

function print(name: string, f: Figures): void {
  console.log(
    `egress ${name.padEnd(8)} http ${f.rps.toFixed(0)} req/s (${f.range.rps}) p50 ${f.p50.toFixed(2)} ms p99 ${f.p99.toFixed(2)} ms | ` +
      `connect ${f.mbps.toFixed(0)} MB/s (${f.range.mbps}; truncated downloads ${f.short}/${ROUNDS}) | ` +
      `new tunnels ${f.tps.toFixed(0)}/s (${f.range.tps}) | errors ${f.errors}`,
  );
  console.log(
    `egress ${name.padEnd(8)} proxy CPU: ${f.cpuPer1kRequests.toFixed(0)} ms/1k requests (${f.cpuPer1kRequests.toFixed(0)} us/request), ${f.cpuPerGb.toFixed(0)} ms/GB tunnelled, ` +
      `${f.cpuPer1kTunnels.toFixed(0)} ms/1k new tunnels | new upstream connections per 1k requests: ${f.upstreamConnsPer1k.toFixed(1)}`,
  );
}

export async function run(): Promise<void> {
  const up = await startUpstreams();
  const dir = mkdtempSync(join(tmpdir(), 'palisade-bench-egress-'));
  const proxies: Proxy[] = [];
  try {
    const bin = squidBinary();
    if (bin) proxies.push(await startSquid(bin, dir, up));
    else console.log('egress: squid not found; install it to compare (Debian: apt-get install -y squid)');
    proxies.push(await startPalisade(dir, up));
    const results = await measureAll(proxies, up);
    for (const [name, f] of Object.entries(results)) print(name, f);
    const s = results.squid;
    const p = results.palisade!;
    if (s) {
      // Ratios read "higher is better for Palisade": throughput palisade/squid, latency squid/palisade.
      console.log(
        `egress ratio palisade/squid: http req/s ${(p.rps / s.rps).toFixed(2)}x, p50 latency ${(s.p50 / p.p50).toFixed(2)}x better, ` +
          `p99 latency ${(s.p99 / p.p99).toFixed(2)}x better, connect MB/s ${(p.mbps / s.mbps).toFixed(2)}x, ` +
          `new tunnels/s ${(p.tps / s.tps).toFixed(2)}x`,
      );
      // Paired by round: each round runs the two proxies back to back, so a per-round ratio cancels most of the
      // drift in the machine's other load; the median of those ratios is the steadier comparison.
      const paired = (k: keyof Figures['rounds'], higherBetter: boolean): string =>
        median(p.rounds[k].map((v, i) => (higherBetter ? v / s.rounds[k][i]! : s.rounds[k][i]! / v))).toFixed(2);
      console.log(
        `egress ratio paired by round (median): http req/s ${paired('rps', true)}x, p50 ${paired('p50', false)}x, ` +
          `p99 ${paired('p99', false)}x, connect MB/s ${paired('mbps', true)}x, new tunnels/s ${paired('tps', true)}x`,
      );
      console.log(
        `egress ratio CPU efficiency squid/palisade (higher = Palisade cheaper): requests ${(s.cpuPer1kRequests / p.cpuPer1kRequests).toFixed(2)}x, ` +
          `tunnelled GB ${(s.cpuPerGb / p.cpuPerGb).toFixed(2)}x, new tunnels ${(s.cpuPer1kTunnels / p.cpuPer1kTunnels).toFixed(2)}x`,
      );
    }
  } finally {
    for (const p of proxies) await p.stop();
    up.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && /bench\/egress\.ts$/.test(process.argv[1])) {
  run().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
