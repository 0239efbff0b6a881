import type { Limits, OpenedImage } from '../image/types.js';
import type { EntryVisitor } from '../image/visitor.js';
import { whiteoutOf } from '../image/whiteout.js';

export interface WalkOptions {
  limits: Limits;
  signal?: AbortSignal;
}

/**
 * Reads every layer once, as a stream, and hands each entry's bytes only to the visitors that asked
 * (DESIGN.md "A scan, as data", steps 1-2). The body is read once, with the largest budget asked for.
 */
export async function walkImage(
  image: OpenedImage,
  visitors: readonly EntryVisitor[],
  opts: WalkOptions,
): Promise<void> {
  const interested: { visitor: EntryVisitor; bytes: number }[] = [];
  for (const [index, layer] of image.layers.entries()) {
    for await (const entry of layer.entries(opts.limits)) {
      opts.signal?.throwIfAborted();
      const wh = whiteoutOf(entry.path);
      if (wh) {
        for (const v of visitors) v.whiteout?.(wh.path, wh.opaque, index);
        continue;
      }
      interested.length = 0;
      let budget = 0;
      for (const visitor of visitors) {
        const bytes = visitor.interest(entry);
        if (bytes === undefined) continue;
        interested.push({ visitor, bytes });
        if (bytes > budget) budget = bytes;
      }
      if (interested.length === 0) continue;
      const readable = entry.type === 'file' || entry.type === 'hardlink';
      const body =
        readable && budget > 0
          ? await entry.read(Math.min(budget, opts.limits.maxFileBytes))
          : { data: Buffer.alloc(0), truncated: readable && entry.size > 0 };
      for (const { visitor, bytes } of interested) {
        const data = body.data.length > bytes ? body.data.subarray(0, bytes) : body.data;
        const truncated = body.truncated || data.length < body.data.length;
        await visitor.visit({ entry, data, truncated, layerIndex: index, layerDigest: layer.digest });
      }
    }
    for (const v of visitors) await v.layerDone?.(index, layer.digest);
  }
}
