import { stat } from 'node:fs/promises';
import { UserInputError } from '../core/errors.js';
import { DirStore, TarStore } from './blob-store.js';
import { openDir } from './dir.js';
import { openDockerArchive } from './docker-archive.js';
import { openOciLayout } from './oci.js';
import { printable } from './paths.js';
import { type ParsedTarget, parseTarget } from './target.js';
import { DEFAULT_LIMITS, type Limits, type OpenedImage, type OpenOptions } from './types.js';

export { ReadBudget } from './budget.js';
export { type LayerBlob, type ReadContext, readLayer } from './layer-reader.js';
export { normaliseEntryPath, resolveInRoot } from './paths.js';
export { type ParsedTarget, parseTarget } from './target.js';
export * from './types.js';
export { isOpaqueWhiteout, isWhiteout, LayeredTree, whiteoutTarget } from './whiteout.js';

/**
 * Opens an image named by a target: `docker-archive:PATH[:NAME]`, `oci:DIR[:TAG]`, `oci-archive:PATH[:TAG]`,
 * `dir:PATH`, `registry:HOST/REPO[:TAG|@DIGEST]`, or a bare path whose kind is detected (a directory with
 * `oci-layout` is an OCI layout, another directory a root filesystem; a tar with manifest.json or
 * repositories is a docker archive, one with oci-layout/index.json an OCI archive).
 */
export async function openImage(target: string, opts: OpenOptions = {}): Promise<OpenedImage> {
  opts.signal?.throwIfAborted();
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const parsed = await settle(parseTarget(target));
  switch (parsed.kind) {
    case 'registry': {
      // Loaded on demand: its HTTP client costs more start-up time than every other source together.
      const { openRegistryImage } = await import('./registry/index.js');
      return openRegistryImage(parsed.ref, opts);
    }
    case 'dir':
      return openDir(parsed.path, { target, options: opts, limits });
    case 'oci':
      await mustBe(parsed.path, 'directory', target);
      return openOciLayout(new DirStore(parsed.path), {
        target,
        sourceKind: 'oci',
        ...(parsed.tag !== undefined ? { tag: parsed.tag } : {}),
        options: opts,
        limits,
      });
    case 'oci-archive': {
      await mustBe(parsed.path, 'file', target);
      const store = await TarStore.open(parsed.path, limits.maxEntries);
      return openOciLayout(store, {
        target,
        sourceKind: 'oci-archive',
        ...(parsed.tag !== undefined ? { tag: parsed.tag } : {}),
        options: opts,
        limits,
      });
    }
    case 'docker-archive': {
      await mustBe(parsed.path, 'file', target);
      const store = await TarStore.open(parsed.path, limits.maxEntries);
      return openDockerArchive(store, {
        target,
        ...(parsed.ref !== undefined ? { ref: parsed.ref } : {}),
        options: opts,
        limits,
      });
    }
    case 'auto':
      return openImage(await detect(parsed.path, limits), opts).then((img) => ({ ...img, target }));
  }
}

/** A path that contains ":" exists as a whole: then the split parseTarget made was not meant. */
async function settle(parsed: ParsedTarget): Promise<ParsedTarget> {
  if (parsed.kind === 'docker-archive' && parsed.ref !== undefined) {
    const whole = `${parsed.path}:${parsed.ref}`;
    if (await kindOf(whole)) return { kind: 'docker-archive', path: whole };
  }
  if ((parsed.kind === 'oci' || parsed.kind === 'oci-archive') && parsed.tag !== undefined) {
    const whole = `${parsed.path}:${parsed.tag}`;
    if (!(await kindOf(parsed.path)) && (await kindOf(whole))) return { kind: parsed.kind, path: whole };
  }
  return parsed;
}

async function detect(path: string, limits: Limits): Promise<string> {
  const kind = await kindOf(path);
  if (!kind) {
    throw new UserInputError(
      `target "${printable(path)}" does not exist (or use a prefix: docker-archive:, oci:, oci-archive:, dir:, registry:)`,
    );
  }
  if (kind === 'directory') {
    return (await kindOf(`${path}/oci-layout`)) === 'file' ? `oci:${path}` : `dir:${path}`;
  }
  const store = await TarStore.open(path, limits.maxEntries);
  if (store.has('manifest.json') || store.has('repositories')) return `docker-archive:${path}`;
  if (store.has('oci-layout') || store.has('index.json')) return `oci-archive:${path}`;
  throw new UserInputError(`"${printable(path)}" is a tar but not an image archive (no manifest.json or oci-layout)`);
}

async function kindOf(path: string): Promise<'file' | 'directory' | undefined> {
  try {
    const st = await stat(path);
    return st.isDirectory() ? 'directory' : st.isFile() ? 'file' : undefined;
  } catch {
    return undefined;
  }
}

async function mustBe(path: string, kind: 'file' | 'directory', target: string): Promise<void> {
  const actual = await kindOf(path);
  if (actual !== kind) {
    throw new UserInputError(
      `target "${printable(target)}": ${printable(path)} is ${actual ? `a ${actual}, not a ${kind}` : 'missing'}`,
    );
  }
}
