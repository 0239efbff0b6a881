import type { LayerEntry } from './types.js';

/** What a visitor is handed for one entry it asked for. */
export interface Visit {
  entry: LayerEntry;
  /** The first bytes of the body (empty for non-files or when 0 bytes were asked for). */
  data: Buffer;
  truncated: boolean;
  layerIndex: number;
  layerDigest: string;
}

/**
 * Something that rides the single pass over an image's layers: the inventory, secrets, malware,
 * image-configuration checks. Every visitor sees every layer in order, bottom-up.
 */
export interface EntryVisitor {
  readonly name: string;
  /**
   * Cheap, no I/O: how many bytes of this entry's body the visitor needs, 0 for the entry without
   * its body, or undefined when it is not interested.
   */
  interest(entry: LayerEntry): number | undefined;
  visit(visit: Visit): void | Promise<void>;
  /** A whiteout in layer `layerIndex` deletes `path` (and below); `opaque` empties the directory `path`. */
  whiteout?(path: string, opaque: boolean, layerIndex: number): void;
  layerDone?(layerIndex: number, layerDigest: string): void | Promise<void>;
}
