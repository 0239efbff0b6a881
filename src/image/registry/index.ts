/**
 * `registry:HOST/REPO[:TAG|@DIGEST]`: pulls an image over the Registry HTTP API v2. Resolves the tag or
 * digest to an image manifest (choosing the platform in an index), reads and verifies the config, and
 * returns layers that stream their blobs only when the walker asks for their entries.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import { IntegrityError, UserInputError } from '../../core/errors.js';
import { ReadBudget } from '../budget.js';
import { readLayer } from '../layer-reader.js';
import { DEFAULT_LIMITS, type LayerRef, type Limits, type OpenedImage, type OpenOptions } from '../types.js';
import { type Credentials, dockerConfigCredentials } from './auth.js';
import { RegistryClient } from './client.js';
import { DEFAULT_TIMEOUTS, HttpClient, type Timeouts } from './http.js';
import { parseImageConfig } from './image-config.js';
import { type Descriptor, type Manifest, parseManifest, parsePlatform, selectPlatform } from './manifest.js';
import { formatReference, parseReference } from './reference.js';

export { parseChallenges } from './auth.js';
export { DEFAULT_TIMEOUTS, type Timeouts } from './http.js';
export { formatPlatform, parsePlatform, selectPlatform } from './manifest.js';
export { formatReference, parseReference, type RegistryReference } from './reference.js';

export interface RegistryOpenOptions extends OpenOptions {
  /** Network timeouts; defaults in DEFAULT_TIMEOUTS. */
  timeouts?: Partial<Timeouts>;
}

/** What a registry pull opens: an OpenedImage, plus the index digest when the reference named an index. */
export interface RegistryImage extends OpenedImage {
  /** Digest of the index or manifest list the tag or digest resolved to (what admission checks pin). */
  indexDigest?: string;
}

/** An index may point at an index; real registries nest at most once, so a little slack and no more. */
const MAX_INDEX_DEPTH = 3;

async function credentialsFor(host: string, opts: OpenOptions): Promise<Credentials | undefined> {
  if (opts.username !== undefined || opts.password !== undefined) {
    if (opts.username === undefined || opts.password === undefined) {
      throw new UserInputError('registry credentials need both a username and a password');
    }
    return { username: opts.username, password: opts.password };
  }
  const dir = opts.dockerConfigDir ?? process.env.DOCKER_CONFIG ?? join(homedir(), '.docker');
  return dockerConfigCredentials(host, dir);
}

/**
 * The blob's bytes, requested on first use. Destroying the stream (a consumer that stops early, or a
 * failure) releases the connection at once, even while the body is stalled.
 */
function lazyBlob(client: RegistryClient, desc: Descriptor): Readable {
  const out = new PassThrough();
  client.openBlob(desc).then(
    (body) => {
      if (out.destroyed) body.destroy();
      else pipeline(body, out, () => {});
    },
    (err: Error) => out.destroy(err),
  );
  return out;
}

export async function openRegistryImage(ref: string, opts: RegistryOpenOptions = {}): Promise<RegistryImage> {
  const reference = parseReference(ref);
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const platform = parsePlatform(opts.platform ?? 'linux/amd64');
  const creds = await credentialsFor(reference.host, opts);
  const http = new HttpClient({
    timeouts: { ...DEFAULT_TIMEOUTS, ...opts.timeouts },
    insecure: opts.insecureRegistry === true,
    ...(opts.signal !== undefined && { signal: opts.signal }),
  });
  const client = new RegistryClient(reference, http, creds, opts.insecureRegistry === true ? 'http' : 'https');
  const name = formatReference(reference);

  try {
    let fetched = await client.manifest(
      reference.digest ?? reference.tag!,
      name,
      limits.maxManifestBytes,
      reference.digest !== undefined ? { digest: reference.digest } : undefined,
    );
    let manifest: Manifest = parseManifest(fetched.bytes, fetched.contentType, `manifest ${name}`);
    const indexDigest = manifest.kind === 'index' ? fetched.digest : undefined;
    for (let depth = 0; manifest.kind === 'index'; depth++) {
      if (depth >= MAX_INDEX_DEPTH) throw new UserInputError(`${name}: image indexes nested too deeply`);
      const chosen: Descriptor = selectPlatform(manifest.manifests, platform, name);
      fetched = await client.manifest(chosen.digest, `${name} (${chosen.digest})`, limits.maxManifestBytes, chosen);
      manifest = parseManifest(fetched.bytes, fetched.contentType, `manifest ${chosen.digest}`);
    }
    const image = manifest;

    const configBytes = await client.blobBytes(image.config, 'image config', limits.maxManifestBytes);
    const config = parseImageConfig(configBytes, `${name}: config ${image.config.digest}`);
    const diffIds = config.rootfs?.diff_ids;
    if (diffIds !== undefined && diffIds.length !== image.layers.length) {
      throw new IntegrityError(
        `${name}: the config lists ${diffIds.length} layer diff ids, the manifest ${image.layers.length} layers`,
      );
    }

    const total = image.layers.length;
    const budget = new ReadBudget();
    const layers: LayerRef[] = image.layers.map((desc, index) => {
      const diffId = diffIds?.[index];
      return {
        digest: desc.digest,
        ...(diffId !== undefined && { diffId }),
        mediaType: desc.mediaType,
        size: desc.size,
        entries: (layerLimits: Limits, shared?: ReadBudget) =>
          readLayer(
            {
              digest: desc.digest,
              // The request goes out only when the walker reaches this layer.
              open: () => lazyBlob(client, desc),
              blobDigest: desc.digest,
              ...(diffId !== undefined && { diffId }),
            },
            {
              limits: layerLimits,
              budget: shared ?? budget,
              index,
              total,
              size: desc.size,
              ...(opts.signal !== undefined && { signal: opts.signal }),
              ...(opts.onProgress !== undefined && { onProgress: opts.onProgress }),
            },
          ),
      };
    });

    return {
      target: `registry:${ref}`,
      sourceKind: 'registry',
      names: reference.tag !== undefined ? [`${reference.host}/${reference.repository}:${reference.tag}`] : [],
      manifestDigest: fetched.digest,
      ...(indexDigest !== undefined && { indexDigest }),
      configDigest: image.config.digest,
      config,
      layers,
      close: () => http.close(),
    };
  } catch (err) {
    await http.close();
    throw err;
  }
}
