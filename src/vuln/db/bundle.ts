import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { IntegrityError, LimitExceededError, UserInputError } from '../../core/errors.js';
import { openVulnDb } from './read.js';
import { openChecked, SCHEMA_VERSION } from './schema.js';
import { durableRename, tempPathFor } from './writer.js';

/**
 * Air-gapped transfer: one tar holding `manifest.json` (format, schema version, created,
 * ecosystems, size and sha256 of the DB) and `vuln.db`. Import verifies the sha256 before the DB
 * replaces anything; a mismatch is an IntegrityError and the current DB stays.
 */

export const BUNDLE_FORMAT = 'palisade-vulndb-bundle';
const MANIFEST = 'manifest.json';
const DB_ENTRY = 'vuln.db';
const MAX_MANIFEST = 1024 * 1024;
const DEFAULT_MAX_DB = 16 * 1024 * 1024 * 1024;

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  bundleVersion: 1;
  schemaVersion: number;
  created: string;
  /** The DB's own last update time. */
  updatedAt: string;
  records: number;
  ecosystems: string[];
  size: number;
  sha256: string;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** Writes the bundle for the DB at `dbPath` to `bundlePath` (atomically) and returns its manifest. */
export async function exportBundle(dbPath: string, bundlePath: string): Promise<BundleManifest> {
  const db = openVulnDb(dbPath);
  const status = db.status();
  db.close();
  // The DB file only ever changes by rename, so the bytes hashed here are the bytes shipped.
  const { size } = await stat(dbPath);
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    bundleVersion: 1,
    schemaVersion: SCHEMA_VERSION,
    created: new Date().toISOString(),
    updatedAt: status.updatedAt,
    records: status.records,
    ecosystems: status.ecosystems.map((e) => e.ecosystem),
    size,
    sha256: await sha256File(dbPath),
  };
  await mkdir(dirname(bundlePath), { recursive: true });
  const tmp = tempPathFor(bundlePath);
  try {
    const pack = tar.pack();
    const out = pipeline(pack, createWriteStream(tmp, { flags: 'wx' }));
    const body = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    pack.entry({ name: MANIFEST, size: body.length, mode: 0o644, mtime: new Date(manifest.created) }, body);
    const entry = pack.entry({ name: DB_ENTRY, size, mode: 0o644, mtime: new Date(manifest.created) });
    await pipeline(createReadStream(dbPath), entry as unknown as Writable);
    pack.finalize();
    await out;
    await durableRename(tmp, bundlePath);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return manifest;
}

/** Installs the DB from a bundle at `target` after verifying size, sha256, schema version and the DB itself. */
export async function importBundle(
  bundlePath: string,
  target: string,
  opts: { maxDbBytes?: number } = {},
): Promise<BundleManifest> {
  const maxDb = opts.maxDbBytes ?? DEFAULT_MAX_DB;
  await mkdir(dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  try {
    const { manifest, size, sha256 } = await readBundle(bundlePath, tmp, maxDb);
    if (manifest.schemaVersion !== SCHEMA_VERSION)
      throw new UserInputError(
        `bundle ${bundlePath} holds schema version ${manifest.schemaVersion}; this palisade reads ${SCHEMA_VERSION}`,
      );
    if (size !== manifest.size || sha256 !== manifest.sha256)
      throw new IntegrityError(
        `bundle ${bundlePath}: vuln.db has sha256 ${sha256} (${size} bytes), the manifest promises ${manifest.sha256} (${manifest.size} bytes)`,
      );
    openChecked(tmp, true).db.close();
    await durableRename(tmp, target);
    return manifest;
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function readBundle(
  bundlePath: string,
  dbOut: string,
  maxDb: number,
): Promise<{ manifest: BundleManifest; size: number; sha256: string }> {
  let manifest: BundleManifest | undefined;
  let size = -1;
  let sha256 = '';
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const fail = (err: Error) => {
      // The extractor destroys the entry stream with this error too; the pipeline below reports it once.
      stream.on('error', () => {});
      stream.resume();
      next(err);
    };
    if (header.type !== 'file')
      return fail(new UserInputError(`bundle ${bundlePath}: unexpected ${header.type} entry`));
    if (header.name === MANIFEST && !manifest) {
      if ((header.size ?? 0) > MAX_MANIFEST)
        return fail(new LimitExceededError(`bundle ${bundlePath}: manifest too large`));
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => {
        chunks.push(c as Buffer);
      });
      stream.on('end', () => {
        try {
          manifest = parseManifest(JSON.parse(Buffer.concat(chunks).toString('utf8')), bundlePath);
          next();
        } catch (err) {
          next(err instanceof UserInputError ? err : new UserInputError(`bundle ${bundlePath}: unreadable manifest`));
        }
      });
      return;
    }
    if (header.name === DB_ENTRY && size < 0) {
      if ((header.size ?? 0) > maxDb)
        return fail(new LimitExceededError(`bundle ${bundlePath}: vuln.db exceeds ${maxDb} bytes`));
      const hash = createHash('sha256');
      let n = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          n += chunk.length;
          hash.update(chunk);
          cb(null, chunk);
        },
      });
      pipeline(stream, meter, createWriteStream(dbOut, { flags: 'wx' })).then(
        () => {
          size = n;
          sha256 = hash.digest('hex');
          next();
        },
        (err: Error) => next(err),
      );
      return;
    }
    fail(new UserInputError(`bundle ${bundlePath}: unexpected entry ${JSON.stringify(header.name)}`));
  });
  try {
    await pipeline(createReadStream(bundlePath), extract);
  } catch (err) {
    if (err instanceof UserInputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserInputError(`bundle not found: ${bundlePath}`);
    throw new UserInputError(`bundle ${bundlePath} is not a readable tar (${(err as Error).message})`);
  }
  if (!manifest) throw new UserInputError(`bundle ${bundlePath} has no ${MANIFEST}`);
  if (size < 0) throw new UserInputError(`bundle ${bundlePath} has no ${DB_ENTRY}`);
  return { manifest, size, sha256 };
}

function parseManifest(raw: unknown, where: string): BundleManifest {
  const m = raw as Partial<BundleManifest> | null;
  if (
    !m ||
    m.format !== BUNDLE_FORMAT ||
    typeof m.schemaVersion !== 'number' ||
    typeof m.size !== 'number' ||
    typeof m.sha256 !== 'string' ||
    !/^[0-9a-f]{64}$/.test(m.sha256)
  )
    throw new UserInputError(`bundle ${where}: manifest is not a ${BUNDLE_FORMAT} manifest`);
  return m as BundleManifest;
}
