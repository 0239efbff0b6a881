import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { IntegrityError, LimitExceededError, UserInputError } from '../../../src/core/errors.js';
import type { FoundPackage } from '../../../src/core/types.js';
import { rpmDatabase } from '../../../src/inventory/rpm/analyzer.js';
import { readBdbBlobs } from '../../../src/inventory/rpm/bdb.js';
import { parseSourceRpm, RpmHeader, readRpmPackage, TAG } from '../../../src/inventory/rpm/header.js';
import { adler32, readNdbBlobs } from '../../../src/inventory/rpm/ndb.js';
import { readSqliteBlobs } from '../../../src/inventory/rpm/sqlite.js';
import { fixtureBytes, fixtureJson, input } from './helpers.js';

const run = promisify(execFile);

const SQLITE = fixtureBytes('rpmdb/cbl-mariner-2.0/rpmdb.sqlite');
const BDB = fixtureBytes('rpmdb/libuuid/Packages');
const NDB = fixtureBytes('rpmdb/sle15-bci/Packages.db');

async function packages(path: string, content: Buffer): Promise<FoundPackage[]> {
  return (await rpmDatabase.analyze(input(path, content))).packages ?? [];
}

const evr = (p: FoundPackage) => (p.epoch !== undefined ? `${p.epoch}:${p.version}` : p.version);
const sourceRpm = (p: FoundPackage) => (p.source ? `${p.source.name}-${p.source.version}.src.rpm` : '');

describe('rpm databases: upstream and computed package lists', () => {
  it('sle15 NDB Packages.db: the 35 packages of rpm -qa (go-rpmdb SLE15WithNDB)', async () => {
    const want = fixtureJson<{
      packages: Array<{ name: string; evr: string; arch: string; source_rpm: string; license: string }>;
    }>('rpmdb/sle15-bci/expected.json').packages;
    const got = await packages('var/lib/rpm/Packages.db', NDB);
    expect(
      got.map((p) => ({ name: p.name, evr: evr(p), arch: p.arch, source_rpm: sourceRpm(p), license: p.licenses?.[0] })),
    ).toEqual(want.map(({ name, evr, arch, source_rpm, license }) => ({ name, evr, arch, source_rpm, license })));
    expect(got).toHaveLength(35);
  });

  it('cbl-mariner sqlite: all 129 packages with epoch, version, release, arch, source rpm and licence', async () => {
    const want = fixtureJson<{
      packages: Array<{
        name: string;
        epoch: number | null;
        evr: string;
        arch: string;
        source_rpm: string;
        license: string;
      }>;
    }>('rpmdb/cbl-mariner-2.0/computed-rpm-qa.json').packages;
    const got = await packages('var/lib/rpm/rpmdb.sqlite', SQLITE);
    const row = (p: {
      name: string;
      evr: string;
      arch?: string;
      source_rpm: string;
      license?: string;
      epoch?: number | null;
    }) => [p.name, p.epoch ?? '', p.evr, p.arch, p.source_rpm, p.license].join('|');
    expect(
      got
        .map((p) =>
          row({
            name: p.name,
            epoch: p.epoch,
            evr: evr(p),
            arch: p.arch,
            source_rpm: sourceRpm(p),
            license: p.licenses?.[0],
          }),
        )
        .sort(),
    ).toEqual(want.map(row).sort());
    expect(got).toHaveLength(129);
  });

  it('cbl-mariner sqlite: curl detail and installed file names (go-rpmdb)', async () => {
    const [detail] = fixtureJson<
      Array<{
        want: { Name: string; Version: string; Release: string; Arch: string; SourceRpm: string; License: string };
      }>
    >('rpmdb/cbl-mariner-2.0/expected-package-details.json');
    const files = fixtureJson<string[]>('rpmdb/cbl-mariner-2.0/curl_file_names.json');
    const curl = (await packages('var/lib/rpm/rpmdb.sqlite', SQLITE)).find((p) => p.name === 'curl')!;
    expect(curl.version).toBe(`${detail!.want.Version}-${detail!.want.Release}`);
    expect(curl.arch).toBe(detail!.want.Arch);
    expect(sourceRpm(curl)).toBe(detail!.want.SourceRpm);
    expect(curl.licenses).toEqual([detail!.want.License]);
    expect(curl.files).toEqual(files.map((f) => f.slice(1)));
  });

  it('libuuid Berkeley DB Packages: the one package with its details (go-rpmdb)', async () => {
    const [detail] = fixtureJson<
      Array<{
        want: { Name: string; Version: string; Release: string; Arch: string; SourceRpm: string; License: string };
      }>
    >('rpmdb/libuuid/expected-package-details.json');
    const got = await packages('var/lib/rpm/Packages', BDB);
    expect(got.map((p) => [p.name, p.version, p.arch, sourceRpm(p), p.licenses?.[0]])).toEqual([
      [
        detail!.want.Name,
        `${detail!.want.Version}-${detail!.want.Release}`,
        detail!.want.Arch,
        detail!.want.SourceRpm,
        detail!.want.License,
      ],
    ]);
    expect(got[0]!.source).toEqual({ name: 'util-linux', version: '2.32.1-42.el8_8' });
  });
});

describe('rpm databases: equal to rpm -qa of Debian rpm 4.18 (sqlite and bdb_ro backends)', () => {
  const QF = '@@%{NAME}\\t%{EPOCH}\\t%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\t%{LICENSE}\\n[%{FILENAMES}\\n]';
  it.each([
    ['rpmdb.sqlite', 'sqlite', SQLITE],
    ['Packages', 'bdb_ro', BDB],
  ])('%s: every package and every installed file', async (file, backend, content) => {
    // rpm writes lock and WAL files next to the database: give it a private copy.
    const dir = mkdtempSync(join(tmpdir(), 'palisade-rpmdb-'));
    try {
      writeFileSync(join(dir, file), content);
      const { stdout } = await run('rpm', ['--dbpath', dir, '--define', `_db_backend ${backend}`, '-qa', '--qf', QF], {
        maxBuffer: 64 << 20,
      });
      const want = stdout
        .split('@@')
        .filter((s) => s !== '')
        .map((s) => {
          const [head, ...files] = s.split('\n').filter((l) => l !== '' && l !== '(contains no files)');
          return `${head}\n${files.map((f) => f.replace(/^\/+/, '')).join('\n')}`;
        })
        .sort();
      const got = (await packages(`usr/lib/sysimage/rpm/${file}`, content))
        .map(
          (p) =>
            `${[p.name, p.epoch ?? '(none)', p.version, p.arch ?? '(none)', p.source ? sourceRpm(p) : '(none)', p.licenses?.[0] ?? '(none)'].join('\t')}\n${(p.files ?? []).join('\n')}`,
        )
        .sort();
      expect(want.length).toBeGreaterThan(0);
      expect(got).toEqual(want);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('rpm: which paths are wanted', () => {
  it.each([
    ['var/lib/rpm/rpmdb.sqlite', true],
    ['var/lib/rpm/Packages', true],
    ['var/lib/rpm/Packages.db', true],
    ['usr/lib/sysimage/rpm/rpmdb.sqlite', true],
    ['usr/lib/sysimage/rpm/Packages.db', true],
    ['var/lib/rpm/Name', false],
    ['var/lib/rpm/rpmdb.sqlite-wal', false],
    ['var/lib/rpm/x/Packages', false],
    ['var/lib/rpm/hasOwnProperty', false],
    ['opt/var/lib/rpm/Packages', false],
  ])('%s: %s', (path, want) => {
    expect(rpmDatabase.wants(path, 0o100644, 1)).toBe(want);
  });
});

describe('rpm: source rpm names', () => {
  it.each([
    ['util-linux-2.32.1-42.el8_8.src.rpm', { name: 'util-linux', version: '2.32.1-42.el8_8' }],
    ['gcc11-11.2.1+git610-1.3.9.src.rpm', { name: 'gcc11', version: '11.2.1+git610-1.3.9' }],
    ['kernel-5.14.0-1.nosrc.rpm', { name: 'kernel', version: '5.14.0-1' }],
    ['broken.src.rpm', undefined],
  ])('%s', (file, want) => {
    expect(parseSourceRpm(file)).toEqual(want);
  });
});

/** Builds a header blob: index entries (tag, type, offset, count) and a data store. */
function blob(
  entries: Array<[number, number, number, number]>,
  data: Buffer,
  il = entries.length,
  dl = data.length,
): Buffer {
  const b = Buffer.alloc(8 + entries.length * 16);
  b.writeUInt32BE(il, 0);
  b.writeUInt32BE(dl, 4);
  entries.forEach(([tag, type, offset, count], i) => {
    b.writeUInt32BE(tag, 8 + i * 16);
    b.writeUInt32BE(type, 12 + i * 16);
    b.writeInt32BE(offset, 16 + i * 16);
    b.writeUInt32BE(count, 20 + i * 16);
  });
  return Buffer.concat([b, data]);
}
const STRING = 6;
const INT32 = 4;
const STRING_ARRAY = 8;
// "bash\0" "5.1\0" "1\0" then 2 INT32 dir indexes at 12, then dirnames "/bin/\0/etc/\0" at 20, basenames "bash\0bashrc\0" at 32.
const DATA = Buffer.concat([
  Buffer.from('bash\x005.1\x001\x00\x00', 'latin1'),
  Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]),
  Buffer.from('/bin/\x00/etc/\x00', 'latin1'),
  Buffer.from('bash\x00bashrc\x00', 'latin1'),
]);
const GOOD: Array<[number, number, number, number]> = [
  [TAG.NAME, STRING, 0, 1],
  [TAG.VERSION, STRING, 5, 1],
  [TAG.RELEASE, STRING, 9, 1],
  [TAG.DIRINDEXES, INT32, 12, 2],
  [TAG.DIRNAMES, STRING_ARRAY, 20, 2],
  [TAG.BASENAMES, STRING_ARRAY, 32, 2],
];
const replace = (i: number, e: [number, number, number, number]) => GOOD.map((g, j) => (j === i ? e : g));

describe('rpm header blob: bounds', () => {
  it('a well-formed hand-built blob parses (the hostile cases below differ from it in one field)', () => {
    expect(readRpmPackage(blob(GOOD, DATA))).toEqual({
      name: 'bash',
      version: '5.1',
      release: '1',
      files: ['bin/bash', 'etc/bashrc'],
    });
  });

  it.each([
    ['shorter than the preamble', Buffer.from([0, 0, 0])],
    ['zero index entries', blob([], DATA, 0)],
    ['index count above rpm limit', blob(GOOD, DATA, 0x10000)],
    ['huge index count', blob(GOOD, DATA, 0xffffffff)],
    ['data length above rpm limit', blob(GOOD, DATA, GOOD.length, 0x10000000)],
    ['data length beyond the blob', blob(GOOD, DATA, GOOD.length, DATA.length + 1)],
    ['index beyond the blob', blob(GOOD, DATA, GOOD.length + 1)],
    ['string offset beyond the store', blob(replace(0, [TAG.NAME, STRING, DATA.length, 1]), DATA)],
    ['negative string offset', blob(replace(0, [TAG.NAME, STRING, -1, 1]), DATA)],
    ['unterminated string at the end', blob(replace(5, [TAG.BASENAMES, STRING_ARRAY, 32, 3]), DATA)],
    ['huge string-array count', blob(replace(5, [TAG.BASENAMES, STRING_ARRAY, 32, 0xffffffff]), DATA)],
    ['INT32 array past the store', blob(replace(3, [TAG.DIRINDEXES, INT32, 12, 0x40000000]), DATA)],
    ['INT32 offset overflowing', blob(replace(3, [TAG.DIRINDEXES, INT32, 0x7fffffff, 2]), DATA)],
    ['name with an integer type', blob(replace(0, [TAG.NAME, INT32, 12, 1]), DATA)],
    ['dir index past the dir names', blob(replace(4, [TAG.DIRNAMES, STRING_ARRAY, 20, 1]), DATA)],
    ['fewer dir indexes than base names', blob(replace(3, [TAG.DIRINDEXES, INT32, 12, 1]), DATA)],
    ['no NAME', blob(GOOD.slice(1), DATA)],
  ])('%s: UserInputError', (_n, b) => {
    expect(() => readRpmPackage(b)).toThrow(UserInputError);
  });

  it('random byte corruption of a real header never escapes as anything but UserInputError', () => {
    const real = readSqliteBlobs(SQLITE)[5]!;
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let threw = 0;
    for (let round = 0; round < 3000; round++) {
      const b = Buffer.from(real);
      // Corrupt mostly the index (where offsets and counts live), sometimes the data.
      const span = round % 3 === 0 ? b.length : Math.min(b.length, 8 + 16 * 40);
      for (let k = 0; k < 1 + rand(4); k++) b[rand(span)] = rand(256);
      try {
        readRpmPackage(b);
      } catch (err) {
        expect(err).toBeInstanceOf(UserInputError);
        threw++;
      }
    }
    expect(threw).toBeGreaterThan(0);
  });

  it('an index entry of a tag we do not read is never dereferenced', () => {
    const h = new RpmHeader(blob([...GOOD, [5000, STRING, 0x7fffffff, 0xffffffff]], DATA));
    expect(h.string(TAG.NAME)).toBe('bash');
  });
});

describe('rpm database files: hostile containers', () => {
  const u32le = (b: Buffer, at: number, v: number) => {
    b.writeUInt32LE(v, at);
    return b;
  };

  it.each([
    ['not SQLite', () => readSqliteBlobs(Buffer.alloc(4096, 7))],
    [
      'SQLite magic then garbage',
      () => readSqliteBlobs(Buffer.concat([SQLITE.subarray(0, 100), Buffer.alloc(8192, 0xab)])),
    ],
    ['SQLite cut in half', () => readSqliteBlobs(SQLITE.subarray(0, SQLITE.length / 2))],
    ['BDB: not a hash database', () => readBdbBlobs(Buffer.alloc(4096))],
    ['BDB: cut in half', () => readBdbBlobs(BDB.subarray(0, BDB.length / 2))],
    ['BDB: bad page size', () => readBdbBlobs(u32le(Buffer.from(BDB), 20, 1000))],
    ['BDB: last page beyond the file', () => readBdbBlobs(u32le(Buffer.from(BDB), 32, 0xffffffff))],
    // Page 22 is the last overflow page of the only value: point it back at page 3 (a cycle).
    ['BDB: overflow chain cycle', () => readBdbBlobs(u32le(Buffer.from(BDB), 22 * 4096 + 16, 3))],
    [
      'BDB: overflow page length beyond the page',
      () => readBdbBlobs(Buffer.from(BDB).fill(0xff, 5 * 4096 + 22, 5 * 4096 + 24)),
    ],
    ['NDB: not ndb', () => readNdbBlobs(Buffer.alloc(8192))],
    ['NDB: huge slot page count', () => readNdbBlobs(u32le(Buffer.from(NDB), 12, 0xffffffff))],
    ['NDB: cut in half', () => readNdbBlobs(NDB.subarray(0, NDB.length / 2))],
    ['NDB: slot block beyond the file', () => readNdbBlobs(u32le(Buffer.from(NDB), 32 + 8, 0x0fffffff))],
    ['NDB: slot pointing into the slot pages', () => readNdbBlobs(u32le(Buffer.from(NDB), 32 + 8, 1))],
    [
      'NDB: two slots sharing one block',
      () =>
        readNdbBlobs(
          u32le(u32le(Buffer.from(NDB), 48 + 8, NDB.readUInt32LE(32 + 8)), 48 + 12, NDB.readUInt32LE(32 + 12)),
        ),
    ],
    [
      'NDB: blob longer than its blocks',
      () => readNdbBlobs(u32le(Buffer.from(NDB), NDB.readUInt32LE(32 + 8) * 16 + 12, 0xffffff)),
    ],
  ])('%s: UserInputError', (_n, f) => {
    expect(f).toThrow(UserInputError);
  });

  it('NDB: a flipped byte inside a package blob is an IntegrityError (Adler-32 tail)', () => {
    const b = Buffer.from(NDB);
    const blobStart = NDB.readUInt32LE(32 + 8) * 16 + 16;
    b[blobStart + 100] = b[blobStart + 100]! ^ 0xff;
    expect(() => readNdbBlobs(b)).toThrow(IntegrityError);
  });

  it.each([
    ['', 1],
    ['a', 0x00620062],
    ['Wikipedia', 0x11e60398],
  ])('adler32("%s") = %i (RFC 1950 reference values)', (s, want) => {
    expect(adler32(Buffer.from(s))).toBe(want);
  });

  it('adler32 stays exact over long runs of 0xff (modulo chunking)', () => {
    const big = Buffer.alloc(100_000, 0xff);
    let a = 1;
    let b = 0;
    for (const x of big) {
      a = (a + x) % 65521;
      b = (b + a) % 65521;
    }
    expect(adler32(big)).toBe(((b << 16) | a) >>> 0);
  });

  it.each([
    [
      'a recursive view',
      'CREATE VIEW Packages AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x AS hnum, zeroblob(100000) AS blob FROM c',
    ],
    [
      'a generated blob column',
      'CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, n INT, blob BLOB GENERATED ALWAYS AS (zeroblob(n)) VIRTUAL)',
    ],
    ['no Packages table', 'CREATE TABLE Other (x)'],
  ])('SQLite whose Packages is %s is refused before any row is read', (_n, sql) => {
    const db = new Database(':memory:');
    db.exec(sql);
    if (sql.includes('GENERATED')) db.prepare('INSERT INTO Packages (hnum, n) VALUES (1, 10)').run();
    const file = db.serialize();
    db.close();
    expect(() => readSqliteBlobs(file)).toThrow(UserInputError);
  });

  it('a row whose blob is not a blob is refused', () => {
    const db = new Database(':memory:');
    db.exec("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB); INSERT INTO Packages VALUES (1, 'text')");
    const file = db.serialize();
    db.close();
    expect(() => readSqliteBlobs(file)).toThrow(/row 1/);
  });

  it('reading does not modify the caller’s buffer (the WAL flag is patched on a copy)', () => {
    const copy = Buffer.from(SQLITE);
    readSqliteBlobs(copy);
    expect(copy.equals(SQLITE)).toBe(true);
  });

  it('a truncated database file is refused by the analyzer', async () => {
    const f = { ...input('var/lib/rpm/rpmdb.sqlite', SQLITE.subarray(0, 1000)), size: SQLITE.length, truncated: true };
    await expect(async () => rpmDatabase.analyze(f)).rejects.toThrow(LimitExceededError);
  });
});
