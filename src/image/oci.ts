import { IntegrityError, UserInputError } from '../core/errors.js';
import type { BlobStore } from './blob-store.js';
import { ReadBudget } from './budget.js';
import { isObject, parseImageConfig, parseJsonDocument } from './config.js';
import { hasherFor, parseDigest } from './digest.js';
import { readLayer } from './layer-reader.js';
import { printable } from './paths.js';
import type { LayerRef, Limits, OpenedImage, OpenOptions } from './types.js';

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

const REF_NAME = 'org.opencontainers.image.ref.name';
const MAX_INDEX_DEPTH = 4;

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** "os/arch[/variant]", default linux/amd64. */
export function parsePlatform(s: string | undefined): Platform {
  const parts = (s ?? 'linux/amd64').split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/i.test(p))) {
    throw new UserInputError(`--platform "${printable(s ?? '')}" is not os/arch[/variant]`);
  }
  return { os: parts[0]!, architecture: parts[1]!, ...(parts[2] ? { variant: parts[2] } : {}) };
}

function platformMatches(d: Descriptor, want: Platform): boolean {
  const p = d.platform;
  if (!p) return false;
  if (p.os !== want.os || p.architecture !== want.architecture) return false;
  if (!want.variant) return true;
  // arm64 images usually omit "v8"; treat the missing variant as the default one.
  return (p.variant ?? (p.architecture === 'arm64' ? 'v8' : undefined)) === want.variant;
}

function platformName(d: Descriptor): string {
  const p = d.platform;
  return p ? [p.os, p.architecture, p.variant].filter(Boolean).join('/') : '?';
}

/** Reads a blob named by a descriptor, bounded, and checks its digest and size. */
export async function readVerified(store: BlobStore, d: Descriptor, max: number, what: string): Promise<Buffer> {
  const { algorithm, hex } = parseDigest(d.digest, `${store.where}: ${what}`);
  const name = `blobs/${algorithm}/${hex}`;
  if ((await store.size(name)) === undefined) {
    throw new UserInputError(`${store.where}: ${what} blob ${d.digest} is missing`);
  }
  const data = await store.readSmall(name, max);
  const actual = `${algorithm}:${hasherFor(d.digest).update(data).digest('hex')}`;
  if (actual !== d.digest) {
    throw new IntegrityError(`${store.where}: ${what} digest mismatch: expected ${d.digest}, got ${actual}`);
  }
  if (d.size !== undefined && d.size !== data.length) {
    throw new IntegrityError(`${store.where}: ${what} ${d.digest} has ${data.length} bytes, descriptor says ${d.size}`);
  }
  return data;
}

function asDescriptor(v: unknown, where: string): Descriptor {
  if (!isObject(v)) throw new UserInputError(`${where}: descriptor is not an object`);
  parseDigest(v.digest, where);
  if (v.size !== undefined && (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0)) {
    throw new UserInputError(`${where}: descriptor size is not a non-negative integer`);
  }
  return v as unknown as Descriptor;
}

function descriptorList(doc: Record<string, unknown>, key: 'manifests' | 'layers', where: string): Descriptor[] {
  const list = doc[key];
  if (!Array.isArray(list)) throw new UserInputError(`${where} has no "${key}" array`);
  return list.map((d) => asDescriptor(d, where));
}

/**
 * Opens an image from an OCI layout held by `store` (a directory or an archive): index.json ->
 * optional tag (org.opencontainers.image.ref.name) -> nested indexes by platform -> manifest -> config.
 * Every document is read bounded and checked against its descriptor's digest.
 */
export async function openOciLayout(
  store: BlobStore,
  opts: {
    target: string;
    sourceKind: string;
    tag?: string;
    options: OpenOptions;
    limits: Limits;
    close?: () => Promise<void>;
  },
): Promise<OpenedImage> {
  const { limits } = opts;
  if ((await store.size('oci-layout')) === undefined) {
    throw new UserInputError(`${store.where}: not an OCI image layout (no oci-layout file)`);
  }
  const index = parseJsonDocument(
    await store.readSmall('index.json', limits.maxManifestBytes),
    `${store.where}: index.json`,
  );
  let candidates = descriptorList(index, 'manifests', `${store.where}: index.json`);
  const tags = candidates.map((d) => d.annotations?.[REF_NAME]).filter((t): t is string => typeof t === 'string');
  if (opts.tag !== undefined) {
    candidates = candidates.filter((d) => d.annotations?.[REF_NAME] === opts.tag);
    if (candidates.length === 0) {
      throw new UserInputError(
        `${store.where}: no image tagged "${printable(opts.tag)}" (tags: ${tags.join(', ') || 'none'})`,
      );
    }
  }
  const platform = parsePlatform(opts.options.platform);
  let chosen = choose(candidates, platform, `${store.where}: index.json`, tags);
  let manifestBytes: Buffer | undefined;
  let manifest: Record<string, unknown> | undefined;
  for (let depth = 0; depth <= MAX_INDEX_DEPTH; depth++) {
    manifestBytes = await readVerified(store, chosen, limits.maxManifestBytes, 'manifest');
    const doc = parseJsonDocument(manifestBytes, `${store.where}: manifest ${chosen.digest}`);
    const mediaType = chosen.mediaType ?? (typeof doc.mediaType === 'string' ? doc.mediaType : undefined);
    const isIndex =
      mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList || (!mediaType && 'manifests' in doc);
    if (!isIndex) {
      manifest = doc;
      break;
    }
    const where = `${store.where}: index ${chosen.digest}`;
    chosen = choose(descriptorList(doc, 'manifests', where), platform, where, []);
  }
  if (!manifest || !manifestBytes) {
    throw new UserInputError(`${store.where}: indexes nested deeper than ${MAX_INDEX_DEPTH}`);
  }
  const manifestDigest = chosen.digest;
  const where = `${store.where}: manifest ${manifestDigest}`;
  const configDesc = asDescriptor(manifest.config, `${where} config`);
  const configDoc = parseJsonDocument(
    await readVerified(store, configDesc, limits.maxManifestBytes, 'config'),
    `${store.where}: config ${configDesc.digest}`,
  );
  const config = parseImageConfig(configDoc);
  const layerDescs = descriptorList(manifest, 'layers', where);
  const diffIds = config.rootfs?.diff_ids;
  if (diffIds && diffIds.length !== layerDescs.length) {
    throw new UserInputError(`${where}: ${layerDescs.length} layers but the config lists ${diffIds.length} diff_ids`);
  }
  const budget = new ReadBudget();
  const layers: LayerRef[] = [];
  for (const [i, d] of layerDescs.entries()) {
    const { algorithm, hex } = parseDigest(d.digest, `${where} layer ${i}`);
    const name = `blobs/${algorithm}/${hex}`;
    const size = await store.size(name);
    if (size === undefined) throw new UserInputError(`${store.where}: layer blob ${d.digest} is missing`);
    if (d.size !== undefined && d.size !== size) {
      throw new IntegrityError(`${store.where}: layer ${d.digest} has ${size} bytes, manifest says ${d.size}`);
    }
    const diffId = diffIds?.[i];
    if (diffId !== undefined) parseDigest(diffId, `${store.where}: config diff_id ${i}`);
    layers.push({
      digest: d.digest,
      ...(diffId !== undefined ? { diffId } : {}),
      ...(d.mediaType ? { mediaType: d.mediaType } : {}),
      size,
      entries: (lim, shared) =>
        readLayer(
          { digest: d.digest, open: () => store.open(name), blobDigest: d.digest, ...(diffId ? { diffId } : {}) },
          {
            limits: lim,
            budget: shared ?? budget,
            index: i,
            total: layerDescs.length,
            size,
            ...(opts.options.signal ? { signal: opts.options.signal } : {}),
            ...(opts.options.onProgress ? { onProgress: opts.options.onProgress } : {}),
          },
        ),
    });
  }
  const names = tags.length && opts.tag !== undefined ? [opts.tag] : tags;
  let closed = false;
  return {
    target: opts.target,
    sourceKind: opts.sourceKind,
    names,
    manifestDigest,
    configDigest: configDesc.digest,
    config,
    layers,
    close: async () => {
      if (closed) return;
      closed = true;
      await opts.close?.();
    },
  };
}

/** One descriptor out of an index: by platform when the entries carry one, else the only one. */
function choose(list: Descriptor[], platform: Platform, where: string, tags: string[]): Descriptor {
  if (list.length === 0) throw new UserInputError(`${where} lists no manifests`);
  const withPlatform = list.filter((d) => d.platform);
  if (withPlatform.length > 0) {
    const match = withPlatform.find((d) => platformMatches(d, platform));
    if (match) return match;
    const have = withPlatform
      .map(platformName)
      .filter((p) => !p.startsWith('unknown'))
      .join(', ');
    throw new UserInputError(
      `${where}: no image for platform ${[platform.os, platform.architecture, platform.variant].filter(Boolean).join('/')} (has ${have})`,
    );
  }
  if (list.length === 1) return list[0]!;
  throw new UserInputError(
    `${where} holds ${list.length} images; name one with a tag (tags: ${tags.join(', ') || 'none'})`,
  );
}
