import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../src/core/checks.js';
import { DEFAULT_LIMITS } from '../../src/image/types.js';
import { endOfLife } from '../../src/misconfig/eol.js';
import { ImageFilesystemChecks, imageConfigFindings } from '../../src/misconfig/image.js';
import { walkImage } from '../../src/scan/walk.js';
import { type MemEntry, memoryImage } from '../helpers/memory-image.js';

async function fsFindings(layers: MemEntry[][]) {
  const checks = new ImageFilesystemChecks();
  await walkImage(memoryImage(layers), [checks], { limits: DEFAULT_LIMITS });
  return checks.findings().map((f) => `${f.id} ${f.path}`);
}

describe('image filesystem checks', () => {
  it('flags setuid, setgid, world-writable files, sshd and package caches in the final filesystem', async () => {
    expect(
      await fsFindings([
        [
          { path: 'usr/bin/passwd', mode: 0o4755, content: 'x' },
          { path: 'usr/bin/wall', mode: 0o2755, content: 'x' },
          { path: 'usr/bin/ls', mode: 0o755, content: 'x' },
          { path: 'srv/data', type: 'directory', mode: 0o777 },
          { path: 'tmp', type: 'directory', mode: 0o1777 },
          { path: 'var/tmp/x', mode: 0o666, content: 'x' },
          { path: 'etc/app.conf', mode: 0o666, content: 'x' },
          { path: 'usr/sbin/sshd', mode: 0o755, content: 'x' },
          { path: 'var/lib/apt/lists/deb_dists_bookworm_InRelease', content: 'x' },
          { path: 'var/lib/apt/lists/deb_dists_bookworm_main_Packages', content: 'x' },
          { path: 'var/lib/apt/lists/lock', content: '' },
        ],
      ]),
    ).toEqual([
      'IMG-PACKAGE-CACHE var/lib/apt/lists',
      'IMG-SETUID-FILE usr/bin/passwd',
      'IMG-SETUID-FILE usr/bin/wall',
      'IMG-SSHD usr/sbin/sshd',
      'IMG-WORLD-WRITABLE etc/app.conf',
      'IMG-WORLD-WRITABLE srv/data',
    ]);
  });

  it('a later layer that deletes or fixes the file clears the finding', async () => {
    expect(
      await fsFindings([
        [
          { path: 'usr/bin/a', mode: 0o4755, content: 'x' },
          { path: 'usr/bin/b', mode: 0o4755, content: 'x' },
          { path: 'var/cache/apt/archives/x.deb', content: 'x' },
          { path: 'usr/sbin/sshd', mode: 0o755, content: 'x' },
        ],
        [
          { path: 'usr/bin/.wh.a' },
          { path: 'usr/bin/b', mode: 0o755, content: 'x' },
          { path: 'var/cache/apt/.wh..wh..opq' },
        ],
        [{ path: 'usr/sbin/.wh.sshd' }],
      ]),
    ).toEqual([]);
  });
});

describe('image configuration checks', () => {
  const base = { raw: {}, config: { User: 'app', Healthcheck: { Test: ['CMD', 'true'] } } };
  const ids = (fs: { id: string }[]) => fs.map((f) => f.id).sort();

  it('a hardened configuration has no findings', () => {
    expect(
      imageConfigFindings({
        config: base,
        target: 'registry:r.example/app@sha256:abc',
        os: { family: 'debian', version: '12' },
        now: new Date('2026-11-29'),
      }),
    ).toEqual([]);
  });

  it('finds root, remote ADD, unpinned tag, no health check, port 22 and an end-of-life OS', () => {
    const found = imageConfigFindings({
      config: {
        raw: {},
        config: { ExposedPorts: { '22/tcp': {}, '8080/tcp': {} } },
        history: [{ created_by: '/bin/sh -c #(nop) ADD https://example.invalid/tool.tgz /opt/' }],
      },
      target: 'registry:r.example/app:latest',
      os: { family: 'debian', version: '10.13' },
      now: new Date('2026-11-29'),
    });
    expect(ids(found)).toEqual([
      'IMG-ADD-REMOTE',
      'IMG-EOL-OS',
      'IMG-NO-HEALTHCHECK',
      'IMG-PORT-22',
      'IMG-ROOT-USER',
      'IMG-UNPINNED-REFERENCE',
    ]);
    expect(found.find((f) => f.id === 'IMG-EOL-OS')?.detail).toBe('debian 10.13 reached end of life on 2024-06-30');
  });

  it('USER 0 and root:root count as root', () => {
    for (const User of ['0', 'root:root', '0:0']) {
      expect(
        ids(imageConfigFindings({ config: { ...base, config: { ...base.config, User } }, target: 'oci:x' })),
      ).toEqual(['IMG-ROOT-USER']);
    }
  });

  it('EOL keys: major for Debian, major.minor for Alpine and Ubuntu; unknown releases are not judged', () => {
    expect(endOfLife('debian', '11.9')).toBe('2026-08-31');
    expect(endOfLife('alpine', '3.18.4')).toBe('2025-05-09');
    expect(endOfLife('ubuntu', '22.04')).toBe('2027-06-01');
    expect(endOfLife('plan9', '4')).toBeUndefined();
  });

  it('every image check id is in the NIST/PCI table with risk 3.1.x', () => {
    for (const c of CHECKS.filter((c) => c.id.startsWith('IMG-'))) expect(c.nist[0]).toMatch(/^3\.1\.[1-5]$/);
  });
});
