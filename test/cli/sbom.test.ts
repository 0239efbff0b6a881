import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { palisade } from '../helpers/cli.js';
import { startRegistry } from '../helpers/registry.js';
import { errorsOf, schemas } from '../helpers/schemas.js';
import { testImage } from '../helpers/test-images.js';

interface JsonPackage {
  ecosystem: string;
  name: string;
  version: string;
  purl: string;
  source?: { name: string; version?: string };
  layer: string | null;
  path: string;
}

async function sbomJson(
  target: string,
): Promise<{ packages: JsonPackage[]; image: { os: { family: string; version: string } } }> {
  const r = await palisade(['sbom', target, '--format', 'json', '--quiet']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

const key = (p: JsonPackage) =>
  `${p.ecosystem} ${p.name} ${p.version} ${p.source?.name ?? ''} ${p.source?.version ?? ''} ${p.path}`;

describe('palisade sbom on the real Debian image', () => {
  const dir = testImage('debian');

  it('equals dpkg-query run on the rootfs: every package, version, source name and source version', async () => {
    const { stdout } = await promisify(execFile)('dpkg-query', [
      `--admindir=${join(dir, 'rootfs/var/lib/dpkg')}`,
      '-W',
      '-f',
      '${Package}\t${Version}\t${source:Package}\t${source:Version}\n',
    ]);
    const want = stdout.trim().split('\n').sort();
    const sbom = await sbomJson(`oci:${dir}/oci:bookworm`);
    const got = sbom.packages
      .filter((p) => p.ecosystem === 'Debian:12')
      .map((p) => `${p.name}\t${p.version}\t${p.source?.name ?? p.name}\t${p.source?.version ?? p.version}`)
      .sort();
    expect(got.length).toBeGreaterThan(80);
    expect(got).toEqual(want);
    expect(sbom.image.os).toMatchObject({ family: 'debian', version: '12' });
  });

  it('every source kind gives the same package list (docker-archive, OCI layout, OCI archive, zstd OCI, dir)', async () => {
    const targets = [
      `docker-archive:${dir}/image.docker.tar`,
      `oci:${dir}/oci:bookworm`,
      `oci-archive:${dir}/image.oci.tar`,
      `oci:${dir}/oci-zstd:bookworm`,
      `dir:${dir}/rootfs`,
      `${dir}/image.docker.tar`,
    ];
    const lists = await Promise.all(targets.map(async (t) => (await sbomJson(t)).packages.map(key).sort()));
    for (const [i, l] of lists.entries()) expect(l, targets[i]).toEqual(lists[0]);
  });

  it('pulled from a real Docker Distribution registry (with basic auth), the same package list as the OCI layout', async () => {
    const registry = await startRegistry({ htpasswd: { username: 'scanner', password: 'a-registry-password' } });
    try {
      await registry.pushImage('debian', 'palisade/debian:bookworm');
      const r = await palisade(
        [
          'sbom',
          `registry:${registry.host}/palisade/debian:bookworm`,
          '--insecure-registry',
          '--username',
          'scanner',
          '--password-stdin',
          '--format',
          'json',
          '-q',
        ],
        { input: 'a-registry-password\n' },
      );
      expect(r.code, r.stderr).toBe(0);
      const pulled = (JSON.parse(r.stdout) as { packages: JsonPackage[] }).packages.map(key).sort();
      const local = (await sbomJson(`oci:${dir}/oci:bookworm`)).packages.map(key).sort();
      expect(pulled.length).toBeGreaterThan(80);
      expect(pulled).toEqual(local);
      // A wrong password: exit 2, one line, and the password never printed.
      const bad = await palisade(
        [
          'sbom',
          `registry:${registry.host}/palisade/debian:bookworm`,
          '--insecure-registry',
          '--username',
          'scanner',
          '--password-stdin',
          '-q',
        ],
        { input: 'wrong-password-123\n' },
      );
      expect(bad.code).toBe(2);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      expect(bad.stderr).not.toContain('wrong-password-123');
    } finally {
      await registry.stop();
    }
  });

  it('CycloneDX 1.6 and SPDX 2.3 outputs of the real image validate against the official schemas', async () => {
    const cdx = JSON.parse((await palisade(['sbom', `oci:${dir}/oci:bookworm`, '-q', '--format', 'cyclonedx'])).stdout);
    const vc = schemas.cyclonedx();
    expect(vc(cdx), errorsOf(vc)).toBe(true);
    expect(cdx.components.length).toBeGreaterThan(80);
    const spdx = JSON.parse((await palisade(['sbom', `oci:${dir}/oci:bookworm`, '-q', '--format', 'spdx'])).stdout);
    const vs = schemas.spdx();
    expect(vs(spdx), errorsOf(vs)).toBe(true);
  });
});

describe('palisade sbom: the layer that brought each package', () => {
  it('npm-app: Debian packages come from the base layer, the application layer adds the npm packages', async () => {
    const dir = testImage('npm-app');
    const sbom = await sbomJson(`oci:${dir}/oci:app`);
    const layers = new Set(sbom.packages.filter((p) => p.ecosystem === 'Debian:12').map((p) => p.layer));
    expect(layers.size).toBe(1);
    const npm = sbom.packages.filter((p) => p.ecosystem === 'npm');
    expect(npm.length).toBeGreaterThan(50);
    for (const p of npm) expect(layers.has(p.layer)).toBe(false);
  });
});

describe('palisade sbom: bad input', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'palisade-sbom-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('a missing image: exit 2, one line, no output file', async () => {
    const out = join(work, 'out.json');
    const r = await palisade(['sbom', `docker-archive:${join(work, 'nope.tar')}`, '-o', out]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^palisade: /);
    expect(existsSync(out)).toBe(false);
  });

  it('a corrupted layer blob: exit 2 naming the digest problem, no output file written', async () => {
    const dir = testImage('debian');
    const copy = join(work, 'layout');
    await promisify(execFile)('cp', ['-a', join(dir, 'oci'), copy]);
    const blobs = join(copy, 'blobs/sha256');
    // Replace the largest blob (the layer) with another valid gzip stream: only the digest can tell.
    const files = await Promise.all(
      (await readdir(blobs)).map(async (f) => ({ f, size: (await stat(join(blobs, f))).size })),
    );
    const layer = files.sort((a, b) => b.size - a.size)[0]!.f;
    await writeFile(join(blobs, layer), gzipSync(Buffer.from('not the layer the manifest promised')));
    const out = join(work, 'out2.json');
    const r = await palisade(['sbom', `oci:${copy}:bookworm`, '-o', out, '-q']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/digest|sha256/i);
    expect(existsSync(out)).toBe(false);
  });

  it('an unknown format: exit 2 with the allowed values', async () => {
    const r = await palisade(['sbom', 'dir:.', '--format', 'xml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--format: "xml" is not one of cyclonedx, spdx, json, table');
  });
});
