import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { dpkgInfoList, dpkgStatus, dpkgStatusDMd5sums } from '../../../src/inventory/dpkg.js';
import { osRelease, pickOs } from '../../../src/inventory/os-release.js';
import { input } from './helpers.js';

const run = promisify(execFile);

/** Same default as scripts/test-images.sh. */
const imagesDir =
  process.env.PALISADE_TEST_IMAGES ??
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'palisade', 'test-images');
const rootfs = join(imagesDir, 'debian', 'rootfs');
const admindir = join(rootfs, 'var', 'lib', 'dpkg');

beforeAll(() => {
  if (!existsSync(join(imagesDir, 'debian', '.done'))) {
    throw new Error(`Debian test image missing in ${imagesDir}: run scripts/test-images.sh first`);
  }
});

/** `dpkg-query -L` for many packages in one run: it prints one block per package, blank-line separated. */
async function dpkgList(pkgs: string[]): Promise<Map<string, string[]>> {
  const { stdout } = await run('dpkg-query', [`--admindir=${admindir}`, '-L', ...pkgs], { maxBuffer: 64 << 20 });
  const blocks = stdout.replace(/\n$/, '').split('\n\n');
  expect(blocks).toHaveLength(pkgs.length);
  // dpkg -L also prints diversion notes ("package diverts others to: ..."); only paths are recorded.
  return new Map(
    pkgs.map((p, i) => [
      p,
      blocks[i]!.split('\n')
        .filter((l) => l.startsWith('/') && l !== '/.')
        .map((l) => l.replace(/^\/+/, '')),
    ]),
  );
}

const read = (rel: string) => input(rel, readFileSync(join(rootfs, rel)));

describe('debootstrap bookworm minbase rootfs', () => {
  it('dpkg status inventory equals dpkg-query -W: name, version, source name, source version, arch', async () => {
    const { stdout } = await run('dpkg-query', [
      `--admindir=${admindir}`,
      '-W',
      '-f',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax, not a JS template
      '${Package}\t${Version}\t${source:Package}\t${source:Version}\t${Architecture}\n',
    ]);
    const want = stdout.trim().split('\n').sort();
    const result = await dpkgStatus.analyze(read('var/lib/dpkg/status'));
    const got = (result.packages ?? [])
      .map((p) => [p.name, p.version, p.source?.name, p.source?.version, p.arch].join('\t'))
      .sort();
    expect(want.length).toBeGreaterThan(50);
    expect(got).toEqual(want);
    expect(result.warnings).toBeUndefined();
  });

  it('info/*.list ownership equals dpkg-query -L for every package', async () => {
    const lists = readdirSync(join(admindir, 'info')).filter((f) =>
      dpkgInfoList.wants(`var/lib/dpkg/info/${f}`, 0o100644, 0),
    );
    expect(lists.length).toBeGreaterThan(50);
    const listed = await dpkgList(lists.map((f) => f.slice(0, -'.list'.length)));
    for (const f of lists) {
      const result = await dpkgInfoList.analyze(read(`var/lib/dpkg/info/${f}`));
      const pkg = f.slice(0, -'.list'.length);
      expect(result.ownedFiles).toEqual({ [`deb/${pkg.split(':')[0]}`]: listed.get(pkg) });
    }
  });

  it('a distroless-style status.d (one stanza file per package, no Status) gives the same inventory as status', async () => {
    const full = await dpkgStatus.analyze(read('var/lib/dpkg/status'));
    const text = readFileSync(join(admindir, 'status'), 'utf8');
    const fromDir = [];
    for (const stanza of text.split(/\n\n+/).filter((s) => s.trim() !== '')) {
      const name = /^Package: (.+)$/m.exec(stanza)![1]!;
      const path = `var/lib/dpkg/status.d/${name}`;
      expect(dpkgStatus.wants(path, 0o100644, 0)).toBe(true);
      const r = await dpkgStatus.analyze(input(path, stanza.replace(/^Status: .*\n/m, '')));
      fromDir.push(...(r.packages ?? []));
    }
    expect(fromDir).toEqual(full.packages);
  });

  it('md5sums files name only files that dpkg -L lists for the same package', async () => {
    const sums = readdirSync(join(admindir, 'info')).filter((f) => f.endsWith('.md5sums'));
    expect(sums.length).toBeGreaterThan(50);
    const listed = await dpkgList(sums.map((f) => f.slice(0, -'.md5sums'.length)));
    for (const f of sums) {
      // Read as distroless would store it (status.d/<pkg>.md5sums).
      const r = await dpkgStatusDMd5sums.analyze(
        input(`var/lib/dpkg/status.d/${f}`, readFileSync(join(admindir, 'info', f))),
      );
      const pkg = f.slice(0, -'.md5sums'.length);
      const files = r.ownedFiles?.[`deb/${pkg.split(':')[0]}`];
      expect(files?.length).toBeGreaterThan(0);
      const paths = new Set(listed.get(pkg));
      expect(files!.filter((p) => !paths.has(p))).toEqual([]);
    }
  });

  it('OS is Debian 12 bookworm from os-release, with debian_version as a lower-rank answer', async () => {
    const found = [];
    for (const rel of ['etc/os-release', 'usr/lib/os-release', 'etc/debian_version']) {
      expect(osRelease.wants(rel, 0o100644, 0)).toBe(true);
      const { os } = await osRelease.analyze(read(rel));
      found.push({ path: rel, os: os! });
    }
    expect(pickOs(found)).toEqual({
      family: 'debian',
      version: '12',
      prettyName: 'Debian GNU/Linux 12 (bookworm)',
      codename: 'bookworm',
    });
    expect(found[2]!.os.version).toBe(readFileSync(join(rootfs, 'etc/debian_version'), 'utf8').trim());
  });
});
