/**
 * Vulnerability DB benchmark: import of 300,000 realistic synthetic OSV records from an OSV-style
 * all.zip (goal >= 20,000 records/s), the DB size, and lookup throughput cold and warm (goal
 * >= 50,000 lookups/s warm). `npm run bench vulndb`; VULNDB_BENCH_RECORDS overrides the count.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { importInputs, openVulnDb } from '../src/vuln/db/index.js';
import { writeZipFile } from '../test/vuln/db/helpers.js';
import { packageName, syntheticRecords } from '../test/vuln/db/synthetic.js';

const IMPORT_GOAL = 20_000;
const LOOKUP_GOAL = 50_000;

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export async function run(): Promise<void> {
  const n = Number(process.env.VULNDB_BENCH_RECORDS ?? 300_000);
  const dir = await mkdtemp(join(tmpdir(), 'palisade-bench-vulndb-'));
  const out = (s: string) => process.stdout.write(`${s}\n`);
  try {
    out(
      `load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on this machine`,
    );
    let t = performance.now();
    const zip = join(dir, 'all.zip');
    const count = writeZipFile(
      zip,
      (function* () {
        for (const r of syntheticRecords(n, 42)) yield { name: `${r.id}.json`, data: Buffer.from(JSON.stringify(r)) };
      })(),
    );
    out(
      `generated ${count} records into a zip of ${mb((await stat(zip)).size)} in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );

    const db = join(dir, 'vuln.db');
    let peakRss = 0;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 100);
    const first = await importInputs(db, [zip], { fresh: true });
    clearInterval(sampler);
    const rate = first.documents / first.seconds;
    out(
      `import (fresh): ${first.documents} records in ${first.seconds.toFixed(1)} s = ${Math.round(rate)} records/s ` +
        `(goal ${IMPORT_GOAL}: ${(rate / IMPORT_GOAL).toFixed(2)}x); stored ${first.records}, withdrawn ${first.withdrawn}, ` +
        `peak RSS ${mb(peakRss)}`,
    );
    out(`DB size: ${mb((await stat(db)).size)} (${Math.round((await stat(db)).size / first.records)} bytes/record)`);

    const again = await importInputs(db, [zip]);
    out(
      `re-import (idempotent, all unchanged): ${again.seconds.toFixed(1)} s = ${Math.round(again.documents / again.seconds)} records/s; ` +
        `unchanged ${again.unchanged}`,
    );

    // Queries drawn like an image's inventory: popular and rare packages, hits and misses, releases.
    const ecos = [
      'npm',
      'PyPI',
      'Maven',
      'Go',
      'Debian:12',
      'Ubuntu:22.04:LTS',
      'Alpine:v3.19',
      'crates.io',
      'RubyGems',
    ];
    const queries: Array<[string, string]> = [];
    for (let i = 0; i < 5000; i++) {
      const eco = ecos[i % ecos.length]!;
      const base = eco.split(':')[0]!;
      queries.push([eco, packageName(base, (i * 7919) % 30_000)]);
    }
    t = performance.now();
    const vdb = openVulnDb(db);
    const openMs = performance.now() - t;
    t = performance.now();
    let hits = 0;
    for (const [e, p] of queries.slice(0, 1000)) hits += vdb.lookup(e, p).length;
    const coldMs = performance.now() - t;
    out(`open: ${openMs.toFixed(1)} ms; first 1,000 lookups (cold): ${coldMs.toFixed(1)} ms, ${hits} candidates`);
    const rounds = 40;
    t = performance.now();
    let candidates = 0;
    for (let r = 0; r < rounds; r++) for (const [e, p] of queries) candidates += vdb.lookup(e, p).length;
    const warmS = (performance.now() - t) / 1000;
    const lps = (rounds * queries.length) / warmS;
    out(
      `warm lookups: ${rounds * queries.length} in ${warmS.toFixed(2)} s = ${Math.round(lps)} lookups/s ` +
        `(goal ${LOOKUP_GOAL}: ${(lps / LOOKUP_GOAL).toFixed(2)}x); ${(candidates / (rounds * queries.length)).toFixed(2)} candidates/lookup`,
    );
    vdb.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && /vulndb\.ts$/.test(process.argv[1])) await run();
