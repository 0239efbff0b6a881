import { describe, expect, it } from 'vitest';
import { LimitExceededError } from '../../../src/core/errors.js';
import type { OsInfo } from '../../../src/core/types.js';
import { isDistroless, osRelease, parseOsRelease, pickOs } from '../../../src/inventory/os-release.js';
import { input } from './helpers.js';

async function os(path: string, text: string): Promise<OsInfo | undefined> {
  return (await osRelease.analyze(input(path, text))).os;
}

// Real release files as the distributions ship them.
const ALPINE_OS_RELEASE = `NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.19.1
PRETTY_NAME="Alpine Linux v3.19"
HOME_URL="https://alpinelinux.org/"
BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"
`;
const UBUNTU_OS_RELEASE = `PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
UBUNTU_CODENAME=jammy
`;
const SID_OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux trixie/sid"
NAME="Debian GNU/Linux"
VERSION_CODENAME=trixie
ID=debian
`;
const DISTROLESS_OS_RELEASE = `PRETTY_NAME="Distroless"
NAME="Debian GNU/Linux"
ID="debian"
VERSION_ID="12"
VERSION="Debian GNU/Linux 12 (bookworm)"
HOME_URL="https://github.com/GoogleContainerTools/distroless"
`;
const MARINER_OS_RELEASE = `NAME="Common Base Linux Mariner"
VERSION="2.0.20240123"
ID=mariner
VERSION_ID="2.0"
PRETTY_NAME="CBL-Mariner/Linux"
`;
const UBI_OS_RELEASE = `NAME="Red Hat Enterprise Linux"
VERSION="9.3 (Plow)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="9.3"
PRETTY_NAME="Red Hat Enterprise Linux 9.3 (Plow)"
`;

describe('os-release files', () => {
  it.each([
    ['Alpine', ALPINE_OS_RELEASE, { family: 'alpine', version: '3.19.1', prettyName: 'Alpine Linux v3.19' }],
    [
      'Ubuntu',
      UBUNTU_OS_RELEASE,
      { family: 'ubuntu', version: '22.04', prettyName: 'Ubuntu 22.04.4 LTS', codename: 'jammy' },
    ],
    [
      'Debian sid (no VERSION_ID)',
      SID_OS_RELEASE,
      { family: 'debian', version: '', prettyName: 'Debian GNU/Linux trixie/sid', codename: 'trixie' },
    ],
    [
      'CBL-Mariner (ID=mariner)',
      MARINER_OS_RELEASE,
      { family: 'cbl-mariner', version: '2.0', prettyName: 'CBL-Mariner/Linux' },
    ],
    ['RHEL UBI', UBI_OS_RELEASE, { family: 'rhel', version: '9.3', prettyName: 'Red Hat Enterprise Linux 9.3 (Plow)' }],
  ])('%s', async (_n, text, want) => {
    expect(await os('etc/os-release', text)).toEqual(want);
    expect(await os('usr/lib/os-release', text)).toEqual(want);
  });

  it.each([
    ['double quotes with escapes', 'X="a \\"b\\" \\$c \\\\ d"', 'a "b" $c \\ d'],
    ['single quotes are literal', 'X=\'a \\n "b"\'', 'a \\n "b"'],
    ['unquoted', 'X=bookworm', 'bookworm'],
    ['unquoted with escaped space', 'X=a\\ b', 'a b'],
    ['concatenated quoting', 'X="a"\'b\'c', 'abc'],
    ['empty', 'X=', ''],
  ])('quoting: %s', (_n, line, value) => {
    expect(parseOsRelease(`${line}\n`).X).toBe(value);
  });

  it('comments, blank lines, CRLF, non-assignments and unclosed quotes are ignored', () => {
    expect(parseOsRelease('# ID=evil\n\nnot an assignment\nID=debian\r\nNAME="unclosed\n')).toEqual({ ID: 'debian' });
  });

  it('ID is lower-cased into the family', async () => {
    expect((await os('etc/os-release', 'ID=Fedora\nVERSION_ID=39\n'))?.family).toBe('fedora');
  });

  it('an os-release without ID gives a warning, no OS', async () => {
    const r = await osRelease.analyze(input('etc/os-release', 'NAME=x\n'));
    expect(r.os).toBeUndefined();
    expect(r.warnings).toHaveLength(1);
  });

  it('distroless: family stays debian (Debian packages), detected by PRETTY_NAME', async () => {
    const o = await os('etc/os-release', DISTROLESS_OS_RELEASE);
    expect(o).toMatchObject({ family: 'debian', version: '12' });
    expect(isDistroless(o)).toBe(true);
    expect(isDistroless(await os('etc/os-release', UBUNTU_OS_RELEASE))).toBe(false);
  });
});

describe('distro release files', () => {
  it.each([
    ['etc/alpine-release', '3.19.1\n', { family: 'alpine', version: '3.19.1' }],
    ['etc/debian_version', 'trixie/sid\n', { family: 'debian', version: 'trixie/sid' }],
    ['etc/debian_version', '12.5\n', { family: 'debian', version: '12.5' }],
    [
      'etc/redhat-release',
      'Red Hat Enterprise Linux release 8.9 (Ootpa)\n',
      { family: 'rhel', version: '8.9', codename: 'Ootpa' },
    ],
    [
      'etc/centos-release',
      'CentOS Linux release 7.9.2009 (Core)\n',
      { family: 'centos', version: '7.9.2009', codename: 'Core' },
    ],
    ['etc/centos-release', 'CentOS Stream release 9\n', { family: 'centos', version: '9' }],
    [
      'etc/rocky-release',
      'Rocky Linux release 9.3 (Blue Onyx)\n',
      { family: 'rocky', version: '9.3', codename: 'Blue Onyx' },
    ],
    [
      'etc/redhat-release',
      'AlmaLinux release 9.3 (Shamrock Pearl Jaguar)\n',
      { family: 'almalinux', version: '9.3', codename: 'Shamrock Pearl Jaguar' },
    ],
  ])('%s: %s', async (path, text, want) => {
    expect(await os(path, text)).toMatchObject(want);
  });

  it('an unknown or empty release line gives a warning, not a guess', async () => {
    for (const [path, text] of [
      ['etc/redhat-release', 'Something else\n'],
      ['etc/alpine-release', '\n'],
    ] as const) {
      const r = await osRelease.analyze(input(path, text));
      expect(r.os).toBeUndefined();
      expect(r.warnings).toHaveLength(1);
    }
  });

  it('a truncated release file is refused', async () => {
    const f = { ...input('etc/os-release', 'ID=debian\n'), size: 1 << 20, truncated: true };
    await expect(async () => osRelease.analyze(f)).rejects.toThrow(LimitExceededError);
  });

  it.each([
    ['etc/os-release', true],
    ['usr/lib/os-release', true],
    ['etc/alpine-release', true],
    ['etc/debian_version', true],
    ['etc/redhat-release', true],
    ['etc/centos-release', true],
    ['etc/rocky-release', true],
    ['etc/os-release.bak', false],
    ['usr/etc/os-release', false],
  ])('wants %s: %s', (path, want) => {
    expect(osRelease.wants(path, 0o100644, 1)).toBe(want);
  });
});

describe('pickOs', () => {
  it('prefers etc/os-release over usr/lib/os-release over distro files', () => {
    const picked = pickOs([
      { path: 'etc/redhat-release', os: { family: 'centos', version: '7.9.2009' } },
      { path: 'usr/lib/os-release', os: { family: 'centos', version: '7' } },
      { path: 'etc/os-release', os: { family: 'rocky', version: '9.3' } },
    ]);
    expect(picked).toEqual({ family: 'rocky', version: '9.3' });
  });

  it('Debian testing/sid: version comes from debian_version when os-release lacks VERSION_ID', async () => {
    const picked = pickOs([
      { path: 'etc/debian_version', os: (await os('etc/debian_version', 'trixie/sid\n'))! },
      { path: 'etc/os-release', os: (await os('etc/os-release', SID_OS_RELEASE))! },
    ]);
    expect(picked).toEqual({
      family: 'debian',
      version: 'trixie/sid',
      prettyName: 'Debian GNU/Linux trixie/sid',
      codename: 'trixie',
    });
  });

  it('does not borrow a version from another family', () => {
    expect(
      pickOs([
        { path: 'etc/os-release', os: { family: 'ubuntu', version: '' } },
        { path: 'etc/debian_version', os: { family: 'debian', version: 'bookworm/sid' } },
      ]),
    ).toEqual({ family: 'ubuntu', version: '' });
  });

  it('nothing found gives undefined', () => {
    expect(pickOs([])).toBeUndefined();
  });
});
