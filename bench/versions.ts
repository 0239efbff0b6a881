/**
 * Version comparison and OSV range evaluation throughput. Run: `npx tsx bench/versions.ts` or
 * through `npm run bench` (bench/run.ts calls run()).
 */
import { performance } from 'node:perf_hooks';
import nodeSemver from 'semver';
import { isAffected, type OsvAffected } from '../src/vuln/affected.js';
import {
  apk,
  type Comparator,
  dpkg,
  go,
  maven,
  mavenSpec,
  npm,
  nuget,
  packagist,
  pep440,
  rpm,
  rubygems,
  semver,
} from '../src/vuln/versions/index.js';

/** Realistic version shapes per scheme; `i` varies them so parse caches are not hit. */
const SHAPES: [Comparator, (i: number) => string][] = [
  [dpkg, (i) => `1:${i % 9}.${i % 31}.${i % 7}-${i % 5}+deb12u${i % 4}~bpo1`],
  [apk, (i) => `${i % 9}.${i % 31}.${i % 13}_rc${i % 3}-r${i % 7}`],
  [rpm, (i) => `${i % 2}:${i % 9}.${i % 31}.${i % 13}-${i % 50}.el9_${i % 4}`],
  [npm, (i) => `${i % 9}.${i % 31}.${i % 13}${i % 5 === 0 ? `-beta.${i % 4}` : ''}`],
  [semver, (i) => `${i % 9}.${i % 31}.${i % 13}`],
  [
    go,
    (i) =>
      `v0.0.0-2024${String(i % 12).padStart(2, '0')}01000000-${(i * 2654435761).toString(16).slice(-12).padStart(12, '0')}`,
  ],
  [nuget, (i) => `${i % 9}.${i % 31}.${i % 13}.${i % 3}`],
  [pep440, (i) => `${i % 9}.${i % 31}.${i % 13}${i % 4 === 0 ? `rc${i % 3}` : ''}${i % 7 === 0 ? '.post1' : ''}`],
  [maven, (i) => `${i % 9}.${i % 31}.${i % 13}${i % 4 === 0 ? '-RC1' : '.Final'}`],
  [mavenSpec, (i) => `${i % 9}.${i % 31}.${i % 13}${i % 4 === 0 ? '-RC1' : '.Final'}`],
  [rubygems, (i) => `${i % 9}.${i % 31}.${i % 13}${i % 4 === 0 ? '.beta1' : ''}`],
  [packagist, (i) => `v${i % 9}.${i % 31}.${i % 13}${i % 4 === 0 ? '-RC1' : ''}`],
];

/** CPU time of this process in ms: wall time is meaningless on a loaded machine. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function rate(n: number, ms: number): string {
  return `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;
}

export async function run(): Promise<void> {
  console.log(`versions: load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`);
  // A scan's matching step: 1,000 installed packages, each checked against 8 advisories of
  // three intervals (introduced/fixed/last_affected), with the ecosystem's comparator.
  const packages = 1000;
  const scenarios: [string, Comparator, (i: number) => string, (k: number) => string[]][] = [
    [
      'dpkg',
      dpkg,
      (i) => `1:${i % 9}.${i % 7}.${i % 5}-${i % 3}+deb12u${i % 2}`,
      (k) => [`1:${k}.2.3-1+deb12u1`, `1:${k}.5.0-1`, `1:${k}.5.4-2`, `1:${k + 1}.0.0-1`, `1:${k + 1}.1.0-3`],
    ],
    [
      'rpm',
      rpm,
      (i) => `${i % 2}:${i % 9}.${i % 7}.${i % 5}-${i % 3}.el9_${i % 2}`,
      (k) => [
        `1:${k}.2.3-1.el9`,
        `1:${k}.5.0-1.el9`,
        `1:${k}.5.4-2.el9_2`,
        `1:${k + 1}.0.0-1.el9`,
        `1:${k + 1}.1.0-3.el9`,
      ],
    ],
    [
      'apk',
      apk,
      (i) => `${i % 9}.${i % 7}.${i % 5}-r${i % 3}`,
      (k) => [`${k}.2.3-r1`, `${k}.5.0-r0`, `${k}.5.4-r2`, `${k + 1}.0.0-r0`, `${k + 1}.1.0-r3`],
    ],
    [
      'npm',
      npm,
      (i) => `${i % 9}.${i % 7}.${i % 5}`,
      (k) => [`${k}.2.3`, `${k}.5.0`, `${k}.5.4`, `${k + 1}.0.0`, `${k + 1}.1.0`],
    ],
  ];
  for (const [label, cmp, make, points] of scenarios) {
    const installed = Array.from({ length: packages }, (_, i) => make(i));
    const es: OsvAffected[] = Array.from({ length: 8 }, (_, k) => {
      const [f1, i2, f2, i3, l3] = points(k);
      return {
        package: { ecosystem: 'x', name: 'p' },
        ranges: [
          {
            type: 'ECOSYSTEM',
            events: [
              { introduced: '0' },
              { fixed: f1! },
              { introduced: i2! },
              { fixed: f2! },
              { introduced: i3! },
              { last_affected: l3! },
            ],
          },
        ],
      };
    });
    for (const phase of ['cold', 'warm']) {
      const wall = performance.now();
      const t = cpuMs();
      let hits = 0;
      for (const v of installed) for (const e of es) if (isAffected(v, e, cmp)) hits++;
      const ms = cpuMs() - t;
      const w = performance.now() - wall;
      console.log(
        `  match ${label.padEnd(4)} ${packages} packages x ${es.length} advisories (${phase}): ${ms.toFixed(1)} ms CPU (${w.toFixed(1)} ms wall), ${hits} hits; goal < 100 ms`,
      );
    }
  }

  console.log('versions: compares per CPU second (cold = new strings, parse + compare; warm = parsed once)');
  for (const [c, make] of SHAPES) {
    const N = 200_000;
    const strings = Array.from({ length: N }, (_, i) => make(i * 7919 + 13));
    let t = cpuMs();
    let sink = 0;
    for (let i = 1; i < N; i++) sink += c.compare(strings[i - 1]!, strings[i]!);
    const cold = cpuMs() - t;
    const parsed = strings.slice(0, 1000).map((s) => c.parse(s)!);
    t = cpuMs();
    for (let k = 0; k < 200; k++) for (let i = 1; i < 1000; i++) sink += c.compareParsed(parsed[i - 1], parsed[i]);
    const warm = cpuMs() - t;
    console.log(
      `  ${c.name.padEnd(10)} cold ${rate(N - 1, cold).padStart(12)}  warm ${rate(200 * 999, warm).padStart(13)}  (${sink & 1})`,
    );
    if (c === npm) {
      // The peer: node-semver, the reference implementation, on the same strings.
      let u = cpuMs();
      for (let i = 1; i < N; i++) sink += nodeSemver.compare(strings[i - 1]!, strings[i]!);
      const peerCold = cpuMs() - u;
      const objs = strings.slice(0, 1000).map((s) => new nodeSemver.SemVer(s));
      u = cpuMs();
      for (let k = 0; k < 200; k++) for (let i = 1; i < 1000; i++) sink += objs[i - 1]!.compare(objs[i]!);
      const peerWarm = cpuMs() - u;
      console.log(
        `  ${'node-semver'.padEnd(10)} cold ${rate(N - 1, peerCold).padStart(12)}  warm ${rate(200 * 999, peerWarm).padStart(13)}  speed ours/peer: cold ${(peerCold / cold).toFixed(2)}x, warm ${(peerWarm / warm).toFixed(2)}x`,
      );
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
