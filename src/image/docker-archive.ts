import { createHash } from 'node:crypto';
import { IntegrityError, UserInputError } from '../core/errors.js';
import type { TarStore } from './blob-store.js';
import { ReadBudget } from './budget.js';
import { isObject, jsonProblem, parseImageConfig, parseJsonDocument } from './config.js';
import { parseDigest } from './digest.js';
import { readLayer } from './layer-reader.js';
import { normaliseEntryPath, printable } from './paths.js';
import type { ImageConfig, LayerRef, Limits, OpenedImage, OpenOptions } from './types.js';

interface LayerPlan {
  name: string;
  digest: string;
  blobDigest?: string;
  diffId?: string;
}

/**
 * Opens what `docker save` (or skopeo/podman) writes: manifest.json naming the config and the layer
 * tars, or the legacy layout (`repositories` + `<id>/json` + `<id>/layer.tar`). The archive is indexed
 * once; layers stream from their offsets. `ref` picks one image when the archive holds several.
 */
export async function openDockerArchive(
  store: TarStore,
  opts: { target: string; ref?: string; options: OpenOptions; limits: Limits },
): Promise<OpenedImage> {
  const { limits } = opts;
  const where = store.where;
  let config: ImageConfig;
  let configDigest: string | undefined;
  let names: string[];
  let plans: LayerPlan[];

  if (store.has('manifest.json')) {
    const doc = parseJsonList(await store.readSmall('manifest.json', limits.maxManifestBytes), where);
    const entry = pickManifestEntry(doc, opts.ref, where);
    const configName = memberName(entry.Config, `${where}: manifest.json Config`);
    const configBytes = await readMember(store, configName, limits);
    configDigest = `sha256:${createHash('sha256').update(configBytes).digest('hex')}`;
    // The config's file name is its digest (the image id) in every writer we know; check it when it is.
    const named = digestInName(configName);
    if (named && named !== configDigest) {
      throw new IntegrityError(`${where}: config digest mismatch: expected ${named}, got ${configDigest}`);
    }
    config = parseImageConfig(parseJsonDocument(configBytes, `${where}: config ${configName}`));
    const layerNames = entry.Layers;
    if (!Array.isArray(layerNames)) throw new UserInputError(`${where}: manifest.json entry has no Layers array`);
    const diffIds = config.rootfs?.diff_ids;
    if (!diffIds || diffIds.length !== layerNames.length) {
      throw new UserInputError(
        `${where}: manifest.json lists ${layerNames.length} layers but the config has ${diffIds?.length ?? 0} diff_ids`,
      );
    }
    plans = layerNames.map((n, i) => {
      const name = memberName(n, `${where}: manifest.json Layers[${i}]`);
      const diffId = diffIds[i]!;
      parseDigest(diffId, `${where}: config diff_id ${i}`);
      // Docker >= 25 stores layers as OCI blobs: their file name is the blob digest, worth checking too.
      const blob = name.startsWith('blobs/') ? digestInName(name) : undefined;
      return { name, digest: blob ?? diffId, diffId, ...(blob ? { blobDigest: blob } : {}) };
    });
    names = Array.isArray(entry.RepoTags) ? entry.RepoTags.filter((t): t is string => typeof t === 'string') : [];
  } else if (store.has('repositories')) {
    ({ config, names, plans } = await openLegacy(store, opts.ref, limits));
  } else {
    throw new UserInputError(`${where}: not a docker archive (no manifest.json or repositories)`);
  }

  for (const p of plans) {
    if ((await store.size(p.name)) === undefined) throw new UserInputError(`${where}: layer ${p.name} is missing`);
  }
  const budget = new ReadBudget();
  const layers: LayerRef[] = [];
  for (const [i, p] of plans.entries()) {
    const size = (await store.size(p.name))!;
    layers.push({
      digest: p.digest,
      ...(p.diffId ? { diffId: p.diffId } : {}),
      size,
      entries: (lim, shared) =>
        readLayer(
          {
            digest: p.digest,
            open: () => store.open(p.name),
            ...(p.blobDigest ? { blobDigest: p.blobDigest } : {}),
            ...(p.diffId ? { diffId: p.diffId } : {}),
          },
          {
            limits: lim,
            budget: shared ?? budget,
            index: i,
            total: plans.length,
            size,
            ...(opts.options.signal ? { signal: opts.options.signal } : {}),
            ...(opts.options.onProgress ? { onProgress: opts.options.onProgress } : {}),
          },
        ),
    });
  }
  return {
    target: opts.target,
    sourceKind: 'docker-archive',
    names,
    ...(configDigest ? { configDigest } : {}),
    config,
    layers,
    close: async () => {},
  };
}

function parseJsonList(data: Buffer, where: string): unknown[] {
  let v: unknown;
  try {
    v = JSON.parse(data.toString('utf8'));
  } catch (err) {
    throw new UserInputError(`${where}: manifest.json is not valid JSON: ${jsonProblem(err)}`);
  }
  if (!Array.isArray(v)) throw new UserInputError(`${where}: manifest.json is not a JSON array`);
  return v;
}

interface ManifestEntry {
  Config?: unknown;
  RepoTags?: unknown;
  Layers?: unknown;
}

function pickManifestEntry(doc: unknown[], ref: string | undefined, where: string): ManifestEntry {
  const entries = doc.filter(isObject) as ManifestEntry[];
  if (entries.length === 0 || entries.length !== doc.length) {
    throw new UserInputError(`${where}: manifest.json has no valid image entries`);
  }
  const tagsOf = (e: ManifestEntry): string[] =>
    Array.isArray(e.RepoTags) ? e.RepoTags.filter((t): t is string => typeof t === 'string') : [];
  if (ref !== undefined) {
    const found = entries.find((e) => tagsOf(e).some((t) => sameRef(t, ref)));
    if (!found) {
      const all = entries.flatMap(tagsOf).join(', ') || 'none';
      throw new UserInputError(`${where}: no image named "${printable(ref)}" (names: ${all})`);
    }
    return found;
  }
  if (entries.length > 1) {
    const all = entries.flatMap(tagsOf).join(', ') || 'untagged';
    throw new UserInputError(`${where} holds ${entries.length} images; name one as docker-archive:PATH:NAME (${all})`);
  }
  return entries[0]!;
}

/** "nginx:1" and "docker.io/library/nginx:1" name the same image. */
function sameRef(a: string, b: string): boolean {
  const canon = (r: string): string => r.replace(/^docker\.io\//, '').replace(/^library\//, '');
  return canon(a) === canon(b);
}

function memberName(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw new UserInputError(`${what} is not a file name`);
  return normaliseEntryPath(v, what);
}

/** "blobs/sha256/<hex>" or "<hex>.json"/"<hex>.tar" carry the content digest in the name. */
function digestInName(name: string): string | undefined {
  const m = /^(?:blobs\/sha256\/([a-f0-9]{64})|([a-f0-9]{64})\.(?:json|tar))$/.exec(name);
  const hex = m?.[1] ?? m?.[2];
  return hex ? `sha256:${hex}` : undefined;
}

async function readMember(store: TarStore, name: string, limits: Limits): Promise<Buffer> {
  if ((await store.size(name)) === undefined) throw new UserInputError(`${store.where}: ${printable(name)} is missing`);
  return store.readSmall(name, limits.maxManifestBytes);
}

/**
 * The pre-1.10 layout: `repositories` maps repo -> tag -> top layer id; each `<id>/json` names its parent.
 * Nothing in it records a content digest, so each layer.tar is hashed once here to give the layer an
 * identity (its diff_id when uncompressed); there is nothing to verify it against.
 */
async function openLegacy(
  store: TarStore,
  ref: string | undefined,
  limits: Limits,
): Promise<{ config: ImageConfig; names: string[]; plans: LayerPlan[] }> {
  const where = store.where;
  const repos = parseJsonDocument(await readMember(store, 'repositories', limits), `${where}: repositories`);
  const tops: { name: string; id: string }[] = [];
  for (const [repo, tags] of Object.entries(repos)) {
    if (!isObject(tags)) continue;
    for (const [tag, id] of Object.entries(tags)) if (typeof id === 'string') tops.push({ name: `${repo}:${tag}`, id });
  }
  const ids = new Set(tops.map((t) => t.id));
  let top: { name: string; id: string } | undefined;
  if (ref !== undefined) top = tops.find((t) => sameRef(t.name, ref));
  else if (ids.size === 1) top = tops[0];
  if (!top) {
    const all = tops.map((t) => t.name).join(', ') || 'none';
    throw new UserInputError(
      ref !== undefined
        ? `${where}: no image named "${printable(ref)}" (names: ${all})`
        : `${where} holds ${ids.size} images; name one as docker-archive:PATH:NAME (${all})`,
    );
  }
  const chain: string[] = [];
  let topJson: Record<string, unknown> | undefined;
  for (let id: unknown = top.id; typeof id === 'string' && id !== ''; ) {
    if (!/^[a-f0-9]{64}$/.test(id)) throw new UserInputError(`${where}: malformed legacy layer id "${printable(id)}"`);
    if (chain.includes(id) || chain.length > 1000) throw new UserInputError(`${where}: legacy layer chain loops`);
    chain.push(id);
    const json = parseJsonDocument(await readMember(store, `${id}/json`, limits), `${where}: ${id}/json`);
    topJson ??= json;
    id = json.parent;
  }
  chain.reverse();
  const plans: LayerPlan[] = [];
  for (const id of chain) {
    const name = `${id}/layer.tar`;
    if ((await store.size(name)) === undefined) throw new UserInputError(`${where}: layer ${name} is missing`);
    const hash = createHash('sha256');
    for await (const chunk of store.open(name)) hash.update(chunk as Buffer);
    plans.push({ name, digest: `sha256:${hash.digest('hex')}` });
  }
  const names = tops.filter((t) => t.id === top.id).map((t) => t.name);
  return { config: parseImageConfig(topJson ?? {}), names, plans };
}
