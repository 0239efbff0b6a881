import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LimitExceededError, UserInputError } from '../../../src/core/errors.js';
import { type DecodeEvent, runDecoder, type WorkerInput, type WorkerMessage } from '../../../src/vuln/db/decode.js';
import { DEFAULT_LIMITS, type ImportProgress, importInputs, openVulnDb } from '../../../src/vuln/db/index.js';
import type { Source } from '../../../src/vuln/db/inputs.js';
import type { PreparedRecord } from '../../../src/vuln/db/rows.js';
import { fromWire, toWire } from '../../../src/vuln/db/wire.js';
import { FIX, type Json, makeZip, readJsonFiles, tempDir, zipOfRecords } from './helpers.js';

/**
 * Decoding shared between the writing thread and workers (large imports) must give exactly what
 * decoding on one thread gives, whoever decodes which chunk.
 */
describe('db import: decoding shared with worker threads', () => {
  const dirs = ['ghsa-npm', 'pypa', 'debian-osv', 'alpine-secdb', 'nodejs-wg-npm', 'bad'].map((d) => FIX + d);

  it.each([
    [2, 1, true],
    [2, 1, false],
    [1, 3, false],
  ])(
    'every fixture format (OSV, Alpine secdb, nodejs security-wg, bad records) gives the same report and DB with %i workers, chunks of %i (the writer decoding too: %s)',
    async (workers, chunk, writerDecodes) => {
      const dir = await tempDir();
      const seen: Record<string, string[]> = { inline: [], worker: [] };
      const inline = await importInputs(join(dir, 'inline.db'), dirs, {
        workers: 0,
        onWarning: (m) => seen.inline!.push(m),
      });
      const worker = await importInputs(join(dir, 'worker.db'), dirs, {
        workers,
        chunk,
        writerDecodes,
        onWarning: (m) => seen.worker!.push(m),
      });
      const { seconds: _a, ...ri } = inline;
      const { seconds: _b, ...rw } = worker;
      expect(rw).toEqual(ri);
      expect(seen.worker).toEqual(seen.inline);
      expect(ri.converted.alpineSecdb).toBeGreaterThan(0);
      expect(ri.converted.nodejsWg).toBeGreaterThan(0);
      expect(ri.skipped).toBeGreaterThan(0);
      const a = openVulnDb(join(dir, 'inline.db'));
      const b = openVulnDb(join(dir, 'worker.db'));
      const { updatedAt: _u, path: _p, ...sa } = a.status();
      const { updatedAt: _v, path: _q, ...sb } = b.status();
      // Converted secdb records are stamped with their import's start time; everything else must match.
      const unstamp = <T extends { ecosystem: string; newestModified: string | null }>(e: T) =>
        e.ecosystem.startsWith('Alpine') ? { ...e, newestModified: null } : e;
      expect({ ...sb, newestModified: null, ecosystems: sb.ecosystems.map(unstamp) }).toEqual({
        ...sa,
        newestModified: null,
        ecosystems: sa.ecosystems.map(unstamp),
      });
      const packages = new Set<string>();
      for (const d of ['ghsa-npm', 'pypa', 'debian-osv'])
        for (const { data } of await readJsonFiles(FIX + d))
          for (const x of (data.affected ?? []) as Json[])
            if (x.package) packages.add(`${x.package.ecosystem}\0${x.package.name}`);
      for (const p of [...packages, 'Alpine:v3.10\0openssl', 'Alpine:v3.10\0ansible', 'npm\0qs']) {
        const [eco, name] = p.split('\0') as [string, string];
        const strip = (cs: ReturnType<typeof a.lookup>) =>
          cs.map((c) => (c.origin === 'alpine-secdb' ? { ...c, modified: '' } : c));
        expect(strip(b.lookup(eco, name)), p).toEqual(strip(a.lookup(eco, name)));
        if (eco.startsWith('Alpine')) expect(a.lookup(eco, name).length, p).toBeGreaterThan(0);
      }
      a.close();
      b.close();
    },
  );

  it.each([
    ['a missing input', async (_d: string) => ['/nonexistent/osv'], {}, UserInputError, /import input not found/],
    [
      'a zip over the inflated-size bound',
      async (d: string) => {
        const records = (await readJsonFiles(`${FIX}ghsa-npm`)).map((f) => f.data as { id: string });
        await writeFile(join(d, 'big.zip'), zipOfRecords(records));
        return [join(d, 'big.zip')];
      },
      { limits: { ...DEFAULT_LIMITS, maxZipBytes: 20_000 } },
      LimitExceededError,
      /inflates to more than 20000 bytes/,
    ],
    [
      'a truncated zip',
      async (d: string) => {
        const records = (await readJsonFiles(`${FIX}ghsa-npm`)).map((f) => f.data as { id: string });
        const z = zipOfRecords(records);
        await writeFile(join(d, 'cut.zip'), z.subarray(0, Math.floor(z.length * 0.6)));
        return [join(d, 'cut.zip')];
      },
      {},
      UserInputError,
      /not a readable zip/,
    ],
    [
      'a zip with a damaged entry midway',
      async (d: string) => {
        const records = (await readJsonFiles(`${FIX}ghsa-npm`)).map((f) => f.data as { id: string });
        const entries = records.map((r, i) => ({
          name: `${r.id}.json`,
          data: Buffer.from(JSON.stringify(r)),
          badCrc: i === 30,
        }));
        await writeFile(join(d, 'crc.zip'), makeZip(entries));
        return [join(d, 'crc.zip')];
      },
      {},
      UserInputError,
      /crc\.zip!.*CRC-32 mismatch/,
    ],
  ])(
    '%s: the error keeps its class, whichever thread meets it, and the old DB stays',
    async (_what, make, opts, Cls, message) => {
      const dir = await tempDir();
      const path = join(dir, 'v.db');
      await importInputs(path, [`${FIX}debian-osv`], { workers: 0 });
      const err = await importInputs(path, await make(dir), {
        workers: 2,
        chunk: 1,
        writerDecodes: false,
        ...opts,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Cls);
      expect((err as Error).message).toMatch(message);
      const db = openVulnDb(path);
      expect(db.status().records).toBe(5);
      expect(db.lookup('npm', 'lodash')).toEqual([]);
      db.close();
    },
  );

  it('applies records in document order across chunks: the newest of a repeated id wins, the first of equal ones', async () => {
    const dir = await tempDir();
    const base = (await readJsonFiles(`${FIX}ghsa-npm`)).map((f) => f.data as Json);
    const rec = (i: number, summary: string, modified: string) => ({ ...base[i % base.length], summary, modified });
    // The same three ids, each several times, spread over many one-document chunks near the end,
    // where the workers are running too.
    const records = [];
    for (let i = 3; i < base.length; i++) records.push(base[i]);
    for (let k = 0; k < 3; k++) {
      records.push(rec(k, `first ${k}`, '2024-01-01T00:00:00Z'));
      records.push(rec(k, `newest ${k}`, '2024-06-01T00:00:00Z'));
      records.push(rec(k, `same date, later ${k}`, '2024-06-01T00:00:00Z'));
      records.push(rec(k, `older ${k}`, '2023-01-01T00:00:00Z'));
    }
    const zip = join(dir, 'dups.zip');
    await writeFile(
      zip,
      makeZip(
        records.map((r, i) => ({ name: `${String(i).padStart(3, '0')}.json`, data: Buffer.from(JSON.stringify(r)) })),
      ),
    );
    const one = await importInputs(join(dir, 'one.db'), [zip], { workers: 0 });
    const shared = await importInputs(join(dir, 'shared.db'), [zip], { workers: 2, chunk: 1, writerDecodes: false });
    expect({ ...shared, seconds: 0 }).toEqual({ ...one, seconds: 0 });
    expect(one.unchanged).toBe(6);
    const a = openVulnDb(join(dir, 'one.db'));
    const b = openVulnDb(join(dir, 'shared.db'));
    for (let k = 0; k < 3; k++) {
      const id = base[k].id as string;
      const pkg = (base[k].affected as Json[])[0].package;
      const got = b.lookup(pkg.ecosystem, pkg.name).find((c) => c.id === id);
      expect(got?.summary).toBe(`newest ${k}`);
      expect(b.lookup(pkg.ecosystem, pkg.name)).toEqual(a.lookup(pkg.ecosystem, pkg.name));
    }
    a.close();
    b.close();
  });
  it.each([1, 2])(
    'numbers documents alike across zips and JSON files in one directory, whoever decodes them (chunks of %i)',
    async (chunk) => {
      const dir = await tempDir();
      const src = join(dir, 'mixed');
      const records = (await readJsonFiles(`${FIX}ghsa-npm`)).map((f) => f.data as { id: string });
      await mkdir(join(src, 'b'), { recursive: true });
      // Sorted walk order: a.json, b/one.zip, b/two.json, c.zip, d.json.
      await writeFile(join(src, 'a.json'), JSON.stringify(records[0]));
      await writeFile(join(src, 'b', 'one.zip'), zipOfRecords(records.slice(1, 12)));
      await writeFile(join(src, 'b', 'two.json'), JSON.stringify(records[12]));
      await writeFile(join(src, 'c.zip'), zipOfRecords(records.slice(13, 30)));
      await writeFile(join(src, 'd.json'), JSON.stringify(records[30]));
      const one = await importInputs(join(dir, 'one.db'), [src], { workers: 0 });
      const shared = await importInputs(join(dir, 'shared.db'), [src], { workers: 2, chunk, writerDecodes: false });
      expect(one.documents).toBe(31);
      expect({ ...shared, seconds: 0 }).toEqual({ ...one, seconds: 0 });
      const a = openVulnDb(join(dir, 'one.db'));
      const b = openVulnDb(join(dir, 'shared.db'));
      for (const pkg of ['lodash', 'qs', 'express', 'minimist'])
        expect(b.lookup('npm', pkg)).toEqual(a.lookup('npm', pkg));
      a.close();
      b.close();
    },
  );

  it('reports progress chunk by chunk, in order, then the index build', async () => {
    const dir = await tempDir();
    const seen: ImportProgress[] = [];
    const r = await importInputs(join(dir, 'p.db'), [`${FIX}ghsa-npm`], {
      workers: 1,
      chunk: 5,
      onProgress: (p) => seen.push(p),
    });
    const docs = seen.filter((p) => p.stage === 'documents').map((p) => p.documents);
    expect(docs).toEqual([...docs].sort((a, b) => a - b));
    expect(docs.length).toBe(Math.ceil(r.documents / 5));
    expect(docs.at(-1)).toBe(r.documents);
    expect(seen.at(-1)).toEqual({ stage: 'indexes', documents: r.documents, total: r.documents });
    expect(seen.every((p) => p.total === r.documents)).toBe(true);
  });
});

describe('the decoding worker', () => {
  const input = (sources: Source[], documents: number): WorkerInput => ({
    sources,
    limits: DEFAULT_LIMITS,
    documents,
    chunk: 2,
    claims: new SharedArrayBuffer(4),
  });
  const run = async (i: WorkerInput) => {
    const posted: WorkerMessage[] = [];
    let ack = () => {};
    await runDecoder(
      i,
      (m) => {
        posted.push(m);
        // The writer acknowledges each chunk once it has applied it.
        if ('wire' in m) setImmediate(ack);
      },
      (fn) => {
        ack = fn;
      },
    );
    return posted;
  };

  it('claims every chunk, posts each once, and says when it is done', async () => {
    const sources: Source[] = (await readJsonFiles(`${FIX}ghsa-npm`)).map((f) => ({ kind: 'json', path: f.path }));
    const posted = await run(input(sources, sources.length));
    const chunks = posted.flatMap((m) => ('chunk' in m ? [m.chunk] : []));
    expect(chunks).toEqual([...Array(Math.ceil(sources.length / 2)).keys()]);
    expect(posted.at(-1)).toEqual({ done: true });
    const puts = posted.flatMap((m) => ('wire' in m ? fromWire(m.wire) : [])).filter((e) => e.kind === 'put');
    expect(puts.length).toBe(sources.length);
  });

  it('reports a damaged zip as an error of its class, and inputs that changed under it', async () => {
    const dir = await tempDir();
    const records = (await readJsonFiles(`${FIX}ghsa-npm`)).map((f) => f.data as { id: string });
    const z = zipOfRecords(records);
    await writeFile(join(dir, 'cut.zip'), z.subarray(0, Math.floor(z.length * 0.6)));
    const damaged = await run(input([{ kind: 'zip', path: join(dir, 'cut.zip') }], 46));
    expect(damaged).toEqual([
      { error: { name: 'UserInputError', message: expect.stringMatching(/not a readable zip/) } },
    ]);
    const sources: Source[] = [
      { kind: 'json', path: `${FIX}ghsa-npm/${(await readJsonFiles(`${FIX}ghsa-npm`))[0]!.path.split('/').pop()}` },
    ];
    const changed = await run(input(sources, 7));
    expect(changed).toEqual([
      {
        error: {
          name: 'UserInputError',
          message: expect.stringMatching(/inputs changed while it ran \(7 documents, then 1\)/),
        },
      },
    ]);
  });
});

describe('decode events on the wire', () => {
  it('come back as they went, in order, nulls and rare events included', () => {
    const record = (id: string, withSummary: boolean): PreparedRecord => ({
      id,
      modified: '2024-01-01T00:00:00.000Z',
      withdrawn: false,
      head: `{"id":"${id}"}`,
      detail: '{"origin":"osv"}',
      refs: '[]',
      aliases: [`CVE-${id}`, `OTHER-${id}`],
      groups: [
        {
          ecosystem: 'Debian:12',
          ecoBase: 'debian',
          name: 'openssl',
          entries: '[{"versions":["1.0"]}]',
          summary: withSummary ? '|x' : null,
          low: withSummary ? 'x' : null,
          high: null,
          severity: withSummary ? 'HIGH' : null,
        },
        { ecosystem: 'npm', ecoBase: 'npm', name: 'é-ü', entries: '[]', summary: '', low: '', high: '', severity: '' },
      ],
    });
    const events: DecodeEvent[] = [
      { kind: 'document' },
      { kind: 'put', record: record('A', true), merge: false },
      { kind: 'skip', message: 'x: skipped' },
      { kind: 'document' },
      { kind: 'put', record: { ...record('B', false), withdrawn: true, aliases: [], groups: [] }, merge: true },
      { kind: 'warn', message: 'w' },
      { kind: 'converted', format: 'nodejsWg', count: 1 },
      { kind: 'secdb', data: { distroversion: 'v3.19', packages: [] }, where: 'main.json' },
    ];
    const wire = toWire(events);
    expect(fromWire(structuredClone(wire))).toEqual(events);
  });

  it('refuse a damaged chunk instead of misreading it', () => {
    const wire = toWire([
      {
        kind: 'put',
        record: {
          id: 'A',
          modified: 'm',
          withdrawn: false,
          head: 'h',
          detail: 'd',
          refs: 'r',
          aliases: [],
          groups: [],
        },
        merge: false,
      },
    ]);
    expect(() => fromWire({ ...wire, strings: wire.strings.slice(0, 2) })).toThrow(/damaged/);
    expect(() => fromWire({ ...wire, ints: wire.ints.slice(0, 3) })).toThrow(/damaged|ends early/);
    expect(() => fromWire({ ...wire, ints: Int32Array.from([7]) })).toThrow(/damaged/);
  });
});
