import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { dpkgInfoList, dpkgStatus } from '../../../src/inventory/dpkg.js';
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
    for (const f of lists) {
      const result = await dpkgInfoList.analyze(read(`var/lib/dpkg/info/${f}`));
      const [key, files] = Object.entries(result.ownedFiles ?? {})[0]!;
      const pkg = f.slice(0, -'.list'.length);
      const { stdout } = await run('dpkg-query', [`--admindir=${admindir}`, '-L', pkg]);
      const want = stdout
        .split('\n')
        // dpkg -L also prints diversion notes ("package diverts others to: ..."); only paths are recorded.
        .filter((l) => l.startsWith('/') && l !== '/.')
        .map((l) => l.replace(/^\/+/, ''));
      expect(key).toBe(`deb/${pkg.split(':')[0]}`);
      expect(files).toEqual(want);
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
