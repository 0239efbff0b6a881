import { describe, expect, it } from 'vitest';
import { UserInputError } from '../../../src/core/errors.js';
import type { Analyzer } from '../../../src/inventory/analyzer.js';
import { apkInstalled } from '../../../src/inventory/apk.js';
import { dpkgInfoList, dpkgStatus, dpkgStatusDMd5sums } from '../../../src/inventory/dpkg.js';
import { osRelease } from '../../../src/inventory/os-release.js';
import { rpmDatabase } from '../../../src/inventory/rpm/analyzer.js';
import { fixtureBytes, input } from './helpers.js';

/**
 * Deterministic corruption of real database files: whatever the bytes, an analyzer either answers or
 * throws UserInputError (never RangeError, TypeError or a hang). A seeded generator keeps failures
 * reproducible.
 */
function rng(seed: number) {
  let s = seed;
  return (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
    return s % n;
  };
}

async function survives(
  analyzer: Analyzer,
  path: string,
  original: Buffer,
  rounds: number,
  seed: number,
  span?: [number, number],
) {
  const rand = rng(seed);
  let answered = 0;
  let refused = 0;
  for (let round = 0; round < rounds; round++) {
    const b = Buffer.from(original);
    const [from, to] = span ?? [0, b.length];
    for (let k = 0; k < 1 + rand(8); k++) b[from + rand(to - from)] = rand(256);
    // Sometimes cut the file short too, as a truncated layer would.
    const content = round % 5 === 0 ? b.subarray(0, rand(b.length)) : b;
    try {
      await analyzer.analyze(input(path, content));
      answered++;
    } catch (err) {
      if (!(err instanceof UserInputError)) throw err;
      refused++;
    }
  }
  return { answered, refused };
}

describe('corrupted inputs only ever give an answer or UserInputError', () => {
  it('dpkg status', async () => {
    const r = await survives(
      dpkgStatus,
      'var/lib/dpkg/status',
      fixtureBytes('trivy/dpkg/valid/rootfs/var/lib/dpkg/status'),
      300,
      1,
    );
    expect(r.answered + r.refused).toBe(300);
  });

  it('dpkg info list and status.d md5sums', async () => {
    const sums = fixtureBytes('trivy/dpkg/md5sums/rootfs/var/lib/dpkg/info/tar.md5sums');
    await survives(dpkgInfoList, 'var/lib/dpkg/info/tar.list', sums, 200, 2);
    await survives(dpkgStatusDMd5sums, 'var/lib/dpkg/status.d/tar.md5sums', sums, 200, 3);
  });

  it('apk installed', async () => {
    const r = await survives(
      apkInstalled,
      'lib/apk/db/installed',
      fixtureBytes('trivy/apk/happy-path/rootfs/lib/apk/db/installed'),
      300,
      4,
    );
    expect(r.answered).toBeGreaterThan(0);
  });

  it('os-release', async () => {
    await survives(
      osRelease,
      'etc/os-release',
      Buffer.from('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'),
      300,
      5,
    );
  });

  it('rpm Berkeley DB (metadata, hash and overflow pages)', async () => {
    const bdb = fixtureBytes('rpmdb/libuuid/Packages');
    const r = await survives(rpmDatabase, 'var/lib/rpm/Packages', bdb, 400, 6, [0, 3 * 4096]);
    expect(r.refused).toBeGreaterThan(0);
    await survives(rpmDatabase, 'var/lib/rpm/Packages', bdb, 200, 7);
  });

  it('rpm ndb (header, slots and blobs)', async () => {
    const ndb = fixtureBytes('rpmdb/sle15-bci/Packages.db');
    const r = await survives(rpmDatabase, 'var/lib/rpm/Packages.db', ndb, 400, 8, [0, 4096]);
    expect(r.refused).toBeGreaterThan(0);
    await survives(rpmDatabase, 'var/lib/rpm/Packages.db', ndb, 100, 9);
  });

  it('rpm sqlite', async () => {
    const sqlite = fixtureBytes('rpmdb/cbl-mariner-2.0/rpmdb.sqlite');
    const r = await survives(rpmDatabase, 'var/lib/rpm/rpmdb.sqlite', sqlite, 60, 10);
    expect(r.answered + r.refused).toBe(60);
  });
});
