import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UserInputError } from '../core/errors.js';
import { ReadBudget } from './budget.js';
import { sha256Hex } from './digest.js';
import type { EntryType, LayerEntry, LayerRef, Limits, OpenedImage, OpenOptions } from './types.js';

const EMPTY: Buffer = Buffer.alloc(0);

/**
 * An unpacked root filesystem as one pseudo-layer. The tree is walked with lstat and never through a
 * symlink: links are reported with their target as written, and files are opened with O_NOFOLLOW and
 * checked to be the very inode that was listed. Entries come in sorted depth-first order.
 * The layer digest is sha256("dir:" + real path): a stable identifier, not a content digest.
 */
export async function openDir(
  path: string,
  opts: { target: string; options: OpenOptions; limits: Limits },
): Promise<OpenedImage> {
  let root: string;
  try {
    root = await realpath(path);
    if (!(await stat(root)).isDirectory()) throw new UserInputError(`dir:${path} is not a directory`);
  } catch (err) {
    if (err instanceof UserInputError) throw err;
    throw new UserInputError(`dir:${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const digest = `sha256:${sha256Hex(`dir:${root}`)}`;
  const budget = new ReadBudget();
  const layer: LayerRef = {
    digest,
    entries: (limits, shared) => walk(root, digest, limits, shared ?? budget, opts.options),
  };
  return {
    target: opts.target,
    sourceKind: 'dir',
    names: [],
    config: { raw: null },
    layers: [layer],
    close: async () => {},
  };
}

async function* walk(
  root: string,
  digest: string,
  limits: Limits,
  budget: ReadBudget,
  options: OpenOptions,
): AsyncGenerator<LayerEntry> {
  options.onProgress?.({ kind: 'layer-start', index: 0, total: 1, digest });
  let bytesRead = 0;
  // Explicit stack: one frame per directory on the current path, each with its sorted names.
  const stack: Frame[] = [newFrame('', await list(root))];
  while (stack.length > 0) {
    options.signal?.throwIfAborted();
    const frame = stack[stack.length - 1]!;
    if (frame.i >= frame.names.length) {
      stack.pop();
      continue;
    }
    const name = frame.names[frame.i]!;
    const rel = frame.rel ? `${frame.rel}/${name}` : name;
    const abs = join(root, rel);
    const st = await nextStat(root, frame);
    budget.countEntry(limits, digest);
    const type: EntryType = st.isFile()
      ? 'file'
      : st.isDirectory()
        ? 'directory'
        : st.isSymbolicLink()
          ? 'symlink'
          : 'other';
    let used = false;
    const entry: LayerEntry = {
      path: rel,
      type,
      mode: st.mode & 0o7777,
      size: type === 'file' ? st.size : 0,
      uid: st.uid,
      gid: st.gid,
      ...(type === 'symlink' ? { linkTarget: await readlink(abs) } : {}),
      read: async (maxBytes: number) => {
        if (used) throw new Error(`entry ${rel}: body already read or iterator advanced`);
        used = true;
        if (type !== 'file') return { data: EMPTY, truncated: false };
        const max = Math.max(0, Math.min(maxBytes, limits.maxFileBytes));
        const data = await readNoFollow(abs, rel, st.dev, st.ino, Math.min(max, st.size));
        budget.countBytes(limits, digest, data.length);
        bytesRead += data.length;
        options.onProgress?.({ kind: 'bytes', index: 0, bytes: bytesRead });
        return { data, truncated: st.size > max };
      },
    };
    yield entry;
    used = true;
    if (type === 'directory') stack.push(newFrame(rel, await list(abs)));
  }
  options.onProgress?.({ kind: 'layer-done', index: 0, digest });
}

interface Frame {
  rel: string;
  names: string[];
  i: number;
  /** lstat results already asked for, by index: a small window ahead hides file-system latency. */
  ahead: Map<number, Promise<Stats>>;
}

const STAT_WINDOW = 32;

function newFrame(rel: string, names: string[]): Frame {
  return { rel, names, i: 0, ahead: new Map() };
}

/** The lstat of the frame's current name (advancing it), with up to STAT_WINDOW lstat calls in flight. */
async function nextStat(root: string, f: Frame): Promise<Stats> {
  for (let j = f.i; j < Math.min(f.names.length, f.i + STAT_WINDOW); j++) {
    if (f.ahead.has(j)) continue;
    const p = lstat(join(root, f.rel, f.names[j]!));
    p.catch(() => {}); // awaited below when its turn comes; never an unhandled rejection
    f.ahead.set(j, p);
  }
  const st = f.ahead.get(f.i)!;
  f.ahead.delete(f.i);
  f.i++;
  return st;
}

async function list(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  return names.sort();
}

/** Opens without following a final symlink and insists on the inode that lstat listed. */
async function readNoFollow(abs: string, rel: string, dev: number, ino: number, want: number): Promise<Buffer> {
  const fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.dev !== dev || st.ino !== ino) {
      throw new UserInputError(`dir: ${rel} changed while it was being read; refused`);
    }
    const buf = Buffer.alloc(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await fh.read(buf, got, want - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === want ? buf : buf.subarray(0, got);
  } finally {
    await fh.close();
  }
}
