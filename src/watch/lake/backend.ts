/** Where lake files live: a local directory or an S3 bucket. Keys are `/`-separated, relative to the lake root. */
export interface LakeBackend {
  readonly description: string;
  /** Writes the whole object atomically: readers see either nothing or the complete file, never a part. */
  put(key: string, bytes: Buffer): Promise<void>;
  list(prefix?: string): AsyncIterable<{ key: string; size: number }>;
  delete(key: string): Promise<void>;
}

/** Keys are built by us, but check anyway: a lake key never climbs out of the root. */
export function checkKey(key: string): string {
  if (!key || key.startsWith('/') || key.split('/').some((p) => p === '..' || p === '.' || p === '')) {
    throw new Error(`invalid lake key ${JSON.stringify(key)}`);
  }
  return key;
}
