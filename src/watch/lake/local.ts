import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { checkKey, type LakeBackend } from './backend.js';

/**
 * Lake on local disk. put() writes `<name>.tmp-<random>` beside the target, fsyncs it, renames it into place
 * and fsyncs the directory: a crash leaves either no file or the whole file (plus at worst a temp file, which
 * readers skip: their names do not end in .ndjson.gz, and the next sweep removes them).
 */
export function localLake(root: string): LakeBackend {
  return {
    description: `dir:${root}`,
    async put(key, bytes) {
      const target = join(root, checkKey(key));
      await mkdir(dirname(target), { recursive: true });
      const tmp = `${target}.tmp-${randomBytes(6).toString('hex')}`;
      const fh = await open(tmp, 'wx', 0o640);
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, target);
      const dh = await open(dirname(target), 'r');
      try {
        await dh.sync();
      } finally {
        await dh.close();
      }
    },
    async *list(prefix = '') {
      const start = join(root, prefix);
      const walk = async function* (dir: string): AsyncGenerator<{ key: string; size: number }> {
        let entries: import('node:fs').Dirent[];
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch (err) {
          if ((err as { code?: string }).code === 'ENOENT') return;
          throw err;
        }
        for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
          const p = join(dir, e.name);
          if (e.isDirectory()) yield* walk(p);
          else if (e.isFile()) yield { key: relative(root, p).split(sep).join('/'), size: (await stat(p)).size };
        }
      };
      yield* walk(start);
    },
    async delete(key) {
      await rm(join(root, checkKey(key)), { force: true });
    },
  };
}
