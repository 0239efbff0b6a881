import type { ReadBudget } from './budget.js';

/**
 * What every image source produces. A source resolves a target to a manifest and config and then
 * yields layers bottom-up; each layer is read once, as a stream of entries (DESIGN.md, "A scan, as data").
 */

/** The parts of the OCI/Docker image config that the stages read. `raw` keeps the rest. */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    ExposedPorts?: Record<string, unknown>;
    Healthcheck?: { Test?: string[] } & Record<string, unknown>;
    Labels?: Record<string, string> | null;
    WorkingDir?: string;
    Volumes?: Record<string, unknown> | null;
  };
  rootfs?: { type: string; diff_ids: string[] };
  history?: { created?: string; created_by?: string; empty_layer?: boolean; comment?: string }[];
  raw: unknown;
}

export type EntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

/**
 * One entry of a layer. `path` is normalised: no leading "/", no "." or ".." segments, no trailing "/".
 * The body can be read at most once and only until the iterator advances; unread bodies are drained.
 */
export interface LayerEntry {
  path: string;
  type: EntryType;
  /** Permission and special bits (0o7777 range: setuid 0o4000, setgid 0o2000, sticky 0o1000). */
  mode: number;
  size: number;
  uid?: number;
  gid?: number;
  /** Symlink target as written, or normalised hardlink target path. */
  linkTarget?: string;
  /**
   * Reads up to `maxBytes` of the body. Returns the bytes and whether the body was longer.
   * Only for type 'file' (and 'hardlink', resolved to the earlier entry's bytes when available).
   * `maxBytes` is clamped to Limits.maxFileBytes. A hard link whose target body was not kept (not read
   * before, or over 1 MiB) answers `{ data: empty, truncated: true }`. Other types answer empty data.
   */
  read(maxBytes: number): Promise<{ data: Buffer; truncated: boolean }>;
}

export interface LayerRef {
  /**
   * The blob digest as the manifest names it ("sha256:…"). docker-archive: the uncompressed diff_id
   * (the archive stores no blob digest), legacy docker-archive: sha256 of layer.tar computed at open;
   * `dir:`: sha256 of "dir:" + the directory's real path (an identifier, not a content digest).
   */
  digest: string;
  /** Uncompressed digest from the config's rootfs.diff_ids, when known. */
  diffId?: string;
  mediaType?: string;
  /** Compressed size in bytes, when known. */
  size?: number;
  /**
   * Streams the layer's entries. Verifies the blob digest (and the diff_id, when known) while streaming;
   * a mismatch throws IntegrityError at the END of the iteration, so everything derived from the entries
   * already yielded must be discarded when the iteration throws.
   * `budget` counts entries and uncompressed bytes against the image-wide limits; by default every layer
   * of one OpenedImage shares one budget (reading a layer twice counts it twice).
   */
  entries(limits: Limits, budget?: ReadBudget): AsyncIterable<LayerEntry>;
}

export interface OpenedImage {
  /** The target as the user wrote it. */
  target: string;
  /** "docker-archive" | "oci" | "oci-archive" | "registry" | "dir". */
  sourceKind: string;
  /** repo:tag names known for the image. */
  names: string[];
  /** Digest of the manifest, when the source has one. */
  manifestDigest?: string;
  configDigest?: string;
  config: ImageConfig;
  layers: LayerRef[];
  /** Releases temp files, sockets. Idempotent. */
  close(): Promise<void>;
}

/** Bounds that keep hostile images from exhausting memory or disk. All configurable by flags. */
export interface Limits {
  /** Total entries across all layers. */
  maxEntries: number;
  /** Bytes an analyzer may read of one file. */
  maxFileBytes: number;
  /** Uncompressed bytes across all layers. */
  maxTotalBytes: number;
  /** Largest uncompressed/compressed ratio accepted once past `ratioGraceBytes` of output. */
  maxCompressionRatio: number;
  ratioGraceBytes: number;
  /** Manifest, index and config documents. */
  maxManifestBytes: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxEntries: 1_000_000,
  maxFileBytes: 128 * 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024 * 1024,
  maxCompressionRatio: 200,
  ratioGraceBytes: 64 * 1024 * 1024,
  maxManifestBytes: 8 * 1024 * 1024,
};

export interface OpenOptions {
  /** "os/arch[/variant]" for multi-platform indexes; default linux/amd64. */
  platform?: string;
  limits?: Partial<Limits>;
  /** Registry options. */
  insecureRegistry?: boolean;
  username?: string;
  password?: string;
  /** Directory for ~/.docker/config.json lookups; defaults to $DOCKER_CONFIG or ~/.docker. */
  dockerConfigDir?: string;
  /** Progress callback: bytes read of compressed blobs. */
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
}

export type ProgressEvent =
  | { kind: 'layer-start'; index: number; total: number; digest: string; size?: number }
  /** `bytes`: compressed bytes of this layer read so far (cumulative), reported about every MiB. */
  | { kind: 'bytes'; index: number; bytes: number }
  | { kind: 'layer-done'; index: number; digest: string };
