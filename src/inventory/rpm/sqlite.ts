import Database from 'better-sqlite3';
import { UserInputError } from '../../core/errors.js';

/**
 * rpm >= 4.16's `rpmdb.sqlite`: table `Packages(hnum INTEGER PRIMARY KEY, blob BLOB)`, one header blob
 * per installed package. Opened from memory (SQLite deserialize): nothing is written to disk.
 */

const MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

export function readSqliteBlobs(file: Buffer): Buffer[] {
  if (file.length < 100 || !file.subarray(0, 16).equals(MAGIC))
    throw new UserInputError('rpmdb.sqlite: not an SQLite database');
  // rpm keeps the database in WAL mode (header bytes 18/19 = 2); an in-memory database cannot use a WAL,
  // so SQLite refuses to open it. Marking our private copy as rollback-journal reads the same pages.
  const copy = Buffer.from(file);
  if (copy[18] === 2) copy[18] = 1;
  if (copy[19] === 2) copy[19] = 1;
  let db: Database.Database | undefined;
  try {
    db = new Database(copy, { readonly: true });
    // The schema comes from the image: do not let it run functions with side effects.
    db.pragma('trusted_schema = OFF');
    // A hostile file could make "Packages" a recursive view or a generated column that never ends or
    // fills memory; only a plain table with a stored blob column is read.
    const kind = db.prepare("SELECT type FROM sqlite_schema WHERE name = 'Packages'").get() as
      | { type: string }
      | undefined;
    if (kind?.type !== 'table') throw new UserInputError('rpmdb.sqlite: no Packages table');
    const cols = db.prepare("SELECT name, hidden FROM pragma_table_xinfo('Packages')").all() as Array<{
      name: string;
      hidden: number;
    }>;
    const blobCol = cols.find((c) => c.name.toLowerCase() === 'blob');
    if (blobCol?.hidden !== 0) throw new UserInputError('rpmdb.sqlite: Packages has no stored blob column');
    const rows = db.prepare('SELECT blob FROM Packages ORDER BY hnum').raw().all() as unknown[][];
    return rows.map(([blob], i) => {
      if (!Buffer.isBuffer(blob)) throw new UserInputError(`rpmdb.sqlite: row ${i + 1} of Packages holds no blob`);
      return blob;
    });
  } catch (err) {
    if (err instanceof UserInputError) throw err;
    throw new UserInputError(`rpmdb.sqlite: unreadable database: ${(err as Error).message}`, { cause: err });
  } finally {
    db?.close();
  }
}
