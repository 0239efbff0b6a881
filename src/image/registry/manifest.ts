/**
 * Manifest documents as registries serve them: OCI image index, Docker manifest list, OCI image manifest
 * and Docker schema2 manifest; strict structural checks (a registry that answers garbage gets a clear
 * error), media types that are not container images refused, and platform selection in indexes.
 */
import { NotFoundError, UnavailableError, UserInputError } from '../../core/errors.js';
import { isDigest } from './reference.js';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

/** What we send as Accept on manifest GETs, in order of preference. */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerList,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifest,
].join(', ');

const INDEX_TYPES = new Set<string>([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList]);
const IMAGE_TYPES = new Set<string>([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]);
const CONFIG_TYPES = new Set<string>([MEDIA_TYPES.ociConfig, MEDIA_TYPES.dockerConfig]);
const LAYER_TYPES = new Set<string>([
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  // Not in Docker's spec but written by containerd-based tools; the reader sniffs the compression anyway.
  'application/vnd.docker.image.rootfs.diff.tar',
  'application/vnd.docker.image.rootfs.diff.tar.zstd',
  'application/vnd.docker.image.rootfs.foreign.diff.tar',
]);

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
}

export type Manifest =
  | { kind: 'index'; mediaType: string; manifests: Descriptor[] }
  | { kind: 'image'; mediaType: string; config: Descriptor; layers: Descriptor[] };

function garbage(what: string, why: string): UnavailableError {
  return new UnavailableError(`${what}: the registry answered an invalid manifest (${why})`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function descriptor(v: unknown, what: string, field: string): Descriptor {
  if (!isObject(v)) throw garbage(what, `${field} is not an object`);
  const { mediaType, digest, size, platform } = v;
  if (typeof mediaType !== 'string' || mediaType === '') throw garbage(what, `${field}.mediaType missing`);
  if (typeof digest !== 'string' || !isDigest(digest)) throw garbage(what, `${field}.digest is not a digest`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw garbage(what, `${field}.size is not a byte count`);
  }
  const d: Descriptor = { mediaType, digest, size };
  if (isObject(platform) && typeof platform.os === 'string' && typeof platform.architecture === 'string') {
    d.platform = { os: platform.os, architecture: platform.architecture };
    if (typeof platform.variant === 'string' && platform.variant !== '') d.platform.variant = platform.variant;
  }
  return d;
}

/**
 * Parses a manifest body. The type comes from the document's `mediaType`, else the Content-Type, else its
 * shape (OCI allows both to be absent). `what` names the reference for messages.
 */
export function parseManifest(bytes: Buffer, contentType: string | undefined, what: string): Manifest {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw garbage(what, 'not JSON');
  }
  if (!isObject(doc)) throw garbage(what, 'not a JSON object');
  const ct = contentType?.split(';')[0]?.trim().toLowerCase();
  if (doc.schemaVersion === 1 || ct?.startsWith('application/vnd.docker.distribution.manifest.v1')) {
    throw new UserInputError(
      `${what}: Docker schema 1 manifests are not supported (re-push the image with a current client)`,
    );
  }
  if (doc.schemaVersion !== 2) throw garbage(what, 'schemaVersion is not 2');
  const mediaType =
    typeof doc.mediaType === 'string'
      ? doc.mediaType
      : ct !== undefined && (INDEX_TYPES.has(ct) || IMAGE_TYPES.has(ct))
        ? ct
        : Array.isArray(doc.manifests)
          ? MEDIA_TYPES.ociIndex
          : MEDIA_TYPES.ociManifest;

  if (INDEX_TYPES.has(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw garbage(what, 'index without "manifests"');
    return {
      kind: 'index',
      mediaType,
      manifests: doc.manifests.map((m, i) => descriptor(m, what, `manifests[${i}]`)),
    };
  }
  if (!IMAGE_TYPES.has(mediaType)) {
    throw new UserInputError(`${what}: media type "${mediaType}" is not a container image manifest or index`);
  }
  if (!Array.isArray(doc.layers)) throw garbage(what, 'manifest without "layers"');
  const config = descriptor(doc.config, what, 'config');
  if (!CONFIG_TYPES.has(config.mediaType)) {
    throw new UserInputError(`${what}: not a container image (config media type "${config.mediaType}")`);
  }
  const layers = doc.layers.map((l, i) => descriptor(l, what, `layers[${i}]`));
  for (const l of layers) {
    if (!LAYER_TYPES.has(l.mediaType)) {
      throw new UserInputError(`${what}: layer ${l.digest} has media type "${l.mediaType}", not a filesystem layer`);
    }
  }
  return { kind: 'image', mediaType, config, layers };
}

const ARCH_ALIASES: Readonly<Record<string, Platform['architecture']>> = {
  x86_64: 'amd64',
  'x86-64': 'amd64',
  aarch64: 'arm64',
  armhf: 'arm',
  armel: 'arm',
  i386: '386',
};

/** Normalises like containerd: aliases, arm64 defaults to v8 and arm to v7 when no variant is written. */
function normalise(p: Platform): Platform {
  const os = p.os.toLowerCase();
  const raw = p.architecture.toLowerCase();
  const architecture = ARCH_ALIASES[raw] ?? raw;
  let variant = p.variant?.toLowerCase();
  if (raw === 'armel') variant ??= 'v6';
  if (architecture === 'arm64') variant ??= 'v8';
  if (architecture === 'arm') variant ??= 'v7';
  return { os, architecture, ...(variant !== undefined && { variant }) };
}

export function parsePlatform(s: string): Platform {
  const parts = s.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(p))) {
    throw new UserInputError(`invalid platform "${s}": expected OS/ARCH[/VARIANT], e.g. linux/amd64`);
  }
  return { os: parts[0]!, architecture: parts[1]!, ...(parts[2] !== undefined && { variant: parts[2] }) };
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant !== undefined ? `/${p.variant}` : ''}`;
}

/**
 * Picks the manifest for `want` from an index. A wanted variant must match (after defaults); without one,
 * an entry with no variant wins over others. Attestation entries ("unknown/unknown") never match.
 */
export function selectPlatform(manifests: readonly Descriptor[], want: Platform, what: string): Descriptor {
  const w = normalise(want);
  const usable = manifests.filter((m) => IMAGE_TYPES.has(m.mediaType) || INDEX_TYPES.has(m.mediaType));
  if (usable.length === 1 && usable[0]!.platform === undefined) return usable[0]!;
  const candidates = usable.filter((m) => {
    if (m.platform === undefined || m.platform.os === 'unknown') return false;
    const p = normalise(m.platform);
    if (p.os !== w.os || p.architecture !== w.architecture) return false;
    return want.variant === undefined || p.variant === w.variant;
  });
  const exact = candidates.find((m) => normalise(m.platform!).variant === w.variant);
  const chosen = exact ?? candidates.find((m) => m.platform!.variant === undefined) ?? candidates[0];
  if (chosen !== undefined) return chosen;
  const available = usable
    .filter((m) => m.platform !== undefined && m.platform.os !== 'unknown')
    .map((m) => formatPlatform(m.platform!));
  throw new NotFoundError(
    `${what}: no ${formatPlatform(want)} image in the index (available: ${available.length > 0 ? available.join(', ') : 'none'})`,
  );
}
