import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import tar from 'tar-stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { IntegrityError, UserInputError } from '../../../src/core/errors.js';
import { exportBundle, importBundle, importInputs, openVulnDb, SCHEMA_VERSION } from '../../../src/vuln/db/index.js';
import { FIX, tempDir } from './helpers.js';

/** Reads a tar into {name -> bytes}. */
async function entries(path: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const ex = tar.extract();
  ex.on('entry', (h, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    stream.on('end', () => {
      out.set(h.name, Buffer.concat(chunks));
      next();
    });
  });
  ex.end(await readFile(path));
  await new Promise<void>((r) => ex.on('finish', () => r()));
  return out;
}

async function packTar(files: Array<[string, Buffer]>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, body] of files) pack.entry({ name }, body);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('db export --bundle / import --bundle', () => {
  let dir: string;
  let source: string;
  let bundle: string;

  beforeAll(async () => {
    dir = await tempDir();
    source = join(dir, 'source.db');
    await importInputs(source, [`${FIX}ghsa-npm`, `${FIX}debian-osv`]);
    bundle = join(dir, 'vulndb.bundle');
    await exportBundle(source, bundle);
  });

  it('writes one tar: a manifest with sha256, schema version, created, ecosystems, and the DB', async () => {
    const files = await entries(bundle);
    expect([...files.keys()]).toEqual(['manifest.json', 'vuln.db']);
    const m = JSON.parse(files.get('manifest.json')!.toString('utf8'));
    const db = files.get('vuln.db')!;
    const { createHash } = await import('node:crypto');
    expect(m.sha256).toBe(createHash('sha256').update(db).digest('hex'));
    expect(m.sha256).toBe(
      createHash('sha256')
        .update(await readFile(source))
        .digest('hex'),
    );
    expect(m.size).toBe(db.length);
    expect(m.schemaVersion).toBe(SCHEMA_VERSION);
    expect(Date.parse(m.created)).not.toBeNaN();
    expect(m.ecosystems).toEqual(['Debian:7', 'Debian:9', 'RubyGems', 'npm']);
    expect(m.records).toBe(43 + 5);
  });

  it('installs the DB on the air-gapped side with the same answers', async () => {
    const target = join(dir, 'gapped', 'vuln.db');
    const m = await importBundle(bundle, target);
    expect(m.records).toBe(48);
    const a = openVulnDb(source);
    const b = openVulnDb(target);
    expect(b.lookup('npm', 'lodash')).toEqual(a.lookup('npm', 'lodash'));
    expect(b.status().ecosystems).toEqual(a.status().ecosystems);
    a.close();
    b.close();
  });

  async function existingTarget(name: string): Promise<string> {
    const target = join(dir, name, 'vuln.db');
    await importInputs(target, [`${FIX}debian-osv`]);
    return target;
  }

  async function expectKept(target: string) {
    const db = openVulnDb(target);
    expect(db.status().records).toBe(5);
    expect(db.lookup('npm', 'lodash')).toEqual([]);
    db.close();
  }

  it('refuses a bundle whose DB bytes were changed (IntegrityError) and keeps the current DB', async () => {
    const tampered = join(dir, 'tampered.bundle');
    await writeFile(tampered, await readFile(bundle));
    const fh = await open(tampered, 'r+');
    // Inside vuln.db's data (after the manifest's header+body and the DB's tar header): flip one byte.
    const pos = 512 + 1024 + 512 + 40_000;
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, pos);
    b[0] = b[0]! ^ 0xff;
    await fh.write(b, 0, 1, pos);
    await fh.close();
    const target = await existingTarget('tampered');
    const err = await importBundle(tampered, target).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toMatch(/sha256 .* the manifest promises/);
    await expectKept(target);
  });

  it.each([
    [
      'a manifest of another schema version',
      async () => {
        const files = await entries(bundle);
        const m = { ...JSON.parse(files.get('manifest.json')!.toString()), schemaVersion: 99 };
        return packTar([
          ['manifest.json', Buffer.from(JSON.stringify(m))],
          ['vuln.db', files.get('vuln.db')!],
        ]);
      },
      /schema version 99/,
    ],
    [
      'a bundle without a manifest',
      async () => packTar([['vuln.db', (await entries(bundle)).get('vuln.db')!]]),
      /has no manifest\.json/,
    ],
    [
      'a bundle with an extra entry',
      async () => {
        const files = await entries(bundle);
        return packTar([...files, ['../evil', Buffer.from('x')]] as Array<[string, Buffer]>);
      },
      /unexpected entry/,
    ],
    [
      'a manifest that is not ours',
      async () => {
        const files = await entries(bundle);
        return packTar([
          ['manifest.json', Buffer.from('{"format":"other"}')],
          ['vuln.db', files.get('vuln.db')!],
        ]);
      },
      /not a palisade-vulndb-bundle manifest/,
    ],
    [
      'a truncated bundle',
      async () => (await readFile(bundle)).subarray(0, 30_000),
      /not a readable tar|has no|sha256/,
    ],
    ['a file that is not a tar', async () => Buffer.from('hello'.repeat(300)), /not a readable tar|has no/],
  ])('refuses %s and keeps the current DB', async (name, make, message) => {
    const path = join(dir, `${name.replace(/\W+/g, '-')}.bundle`);
    await writeFile(path, await make());
    const target = await existingTarget(name.replace(/\W+/g, '-'));
    const err = await importBundle(path, target).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserInputError);
    expect((err as Error).message).toMatch(message);
    await expectKept(target);
  });
});
