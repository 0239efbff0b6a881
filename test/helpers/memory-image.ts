import { createHash } from 'node:crypto';
import type { ImageConfig, LayerEntry, OpenedImage } from '../../src/image/types.js';

export type MemEntry = {
  path: string;
  content?: string;
  type?: LayerEntry['type'];
  mode?: number;
  linkTarget?: string;
};

/** An image held in memory, for unit tests of what happens after the layer reader (merge, whiteouts). */
export function memoryImage(layers: MemEntry[][], config: Partial<ImageConfig> = {}): OpenedImage {
  return {
    target: 'memory:test',
    sourceKind: 'memory',
    names: ['memory/test:latest'],
    config: { raw: {}, ...config },
    layers: layers.map((entries, i) => ({
      digest: `sha256:${createHash('sha256').update(`layer${i}`).digest('hex')}`,
      async *entries() {
        for (const e of entries) {
          const data = Buffer.from(e.content ?? '', 'latin1');
          yield {
            path: e.path,
            type: e.type ?? 'file',
            mode: e.mode ?? 0o644,
            size: data.length,
            linkTarget: e.linkTarget,
            async read(max: number) {
              return { data: data.subarray(0, max), truncated: data.length > max };
            },
          } satisfies LayerEntry;
        }
      },
    })),
    async close() {},
  };
}
