import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/free-port.js';
import { waitFor } from '../../helpers/receiver.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const CLI = join(ROOT, 'test/helpers/watch-cli.ts');
const TOKEN = 'crash-test-token-0123456789';
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'palisade-crash-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let tempFiles = 0;

/** Ids in every complete lake file. A crash may leave `*.tmp-*` files: never read, removed by the sweep. */
function lakeIds(dir: string): string[] {
  const ids: string[] = [];
  tempFiles = 0;
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ndjson.gz')) {
        for (const l of gunzipSync(readFileSync(p)).toString('utf8').trim().split('\n'))
          ids.push(JSON.parse(l).id as string);
      } else if (/\.ndjson\.gz\.tmp-[0-9a-f]+$/.test(e.name)) tempFiles++;
      else throw new Error(`unexpected file in lake: ${p}`);
    }
  };
  walk(dir);
  return ids;
}

describe('watch process killed with SIGKILL mid-stream', () => {
  it('restarted, the lake holds every input event exactly once', async () => {
    const port = await freePort();
    const lake = join(tmp, 'lake');
    const cfg = join(tmp, 'watch.yaml');
    writeFileSync(
      cfg,
      `store: sqlite:${join(tmp, 'watch.db')}
http: { port: ${port}, tokens: [${TOKEN}] }
lake: { dir: ${lake}, maxFileSeconds: 0.5, intervalMs: 20 }
`,
    );
    let child: ChildProcess | undefined;
    const startChild = async () => {
      child = spawn(process.execPath, ['--import', 'tsx', CLI, 'watch', '--config', cfg], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (out += d));
      await waitFor(() => out.includes('running') || child!.exitCode !== null, 120_000, 'watch to start');
      if (child.exitCode !== null) throw new Error(`watch exited: ${out}`);
    };
    const t0 = Date.now();
    await startChild();

    const total = 12_000;
    const batch = 250;
    const sources = ['app', 'audit', 'proxy'];
    const line = (i: number) =>
      JSON.stringify({
        id: `ev-${i}`,
        time: new Date(Date.UTC(2026, 2, 1, 10, Math.floor(i / 1000) % 60, i % 60)).toISOString(),
        seq: i,
        msg: `event number ${i}`,
      });
    let kills = 0;
    let retries = 0;
    for (let start = 0; start < total; start += batch) {
      const body = Array.from({ length: batch }, (_, k) => line(start + k)).join('\n');
      const source = sources[(start / batch) % sources.length];
      // Kill twice, mid-stream, while batches are in flight and the lake writer is busy.
      if ((start === 4_000 || start === 8_500) && child) {
        const inflight = fetch(`http://127.0.0.1:${port}/ingest/v1/events?source=${source}`, {
          method: 'POST',
          body,
          headers: { authorization: `Bearer ${TOKEN}` },
        }).catch(() => null);
        await new Promise((r) => setTimeout(r, 5));
        child.kill('SIGKILL');
        await new Promise((r) => child!.once('exit', r));
        kills++;
        await inflight;
        await startChild();
      }
      // A shipper's contract: resend until the server says 200 (ids make the resend idempotent).
      for (;;) {
        const res = await fetch(`http://127.0.0.1:${port}/ingest/v1/events?source=${source}`, {
          method: 'POST',
          body,
          headers: { authorization: `Bearer ${TOKEN}` },
        }).catch(() => null);
        if (res?.status === 200) break;
        retries++;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    expect(kills).toBe(2);
    const streamed = Date.now();
    await waitFor(() => lakeIds(lake).length >= total, 120_000, 'lake to catch up');
    const caughtUp = Date.now();
    child!.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
    const ids = lakeIds(lake);
    expect(ids.length).toBe(total);
    expect(new Set(ids).size).toBe(total);
    const want = new Set(Array.from({ length: total }, (_, i) => `${sources[Math.floor(i / batch) % 3]}:ev-${i}`));
    expect(ids.filter((id) => !want.has(id))).toEqual([]);
    // The same through DuckDB (temp files are not matched by the lake glob).
    const { queryLake } = await import('../../../src/watch/lake/index.js');
    const q = await queryLake(lake, 'SELECT count(*) AS n, count(DISTINCT id) AS d FROM events');
    expect(q.rows).toEqual([{ n: String(total), d: String(total) }]);
    console.log(
      `crash test: stream ${streamed - t0} ms, catch-up ${caughtUp - streamed} ms, ${kills} kills, ${retries} resent batches, ${tempFiles} temp files left by the kills`,
    );
  }, 600_000);
});
