import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/image/types.js';
import type { Analyzer } from '../../src/inventory/analyzer.js';
import { InventoryCollector } from '../../src/inventory/collect.js';
import { walkImage } from '../../src/scan/walk.js';
import { type MemEntry, memoryImage } from '../helpers/memory-image.js';

/** A line-per-package format: "name version" per line, in any file named pkgs.txt. */
const lines: Analyzer = {
  name: 'lines',
  version: 1,
  wants: (path) => path.endsWith('pkgs.txt'),
  analyze: (file) => ({
    packages: file.content
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [name, version] = l.split(' ');
        return { type: 'generic' as const, name: name!, version: version! };
      }),
  }),
};

async function collect(layers: MemEntry[][]) {
  const image = memoryImage(layers);
  const c = new InventoryCollector([lines]);
  await walkImage(image, [c], { limits: DEFAULT_LIMITS });
  const r = c.result();
  const layerIndex = (digest: string) => image.layers.findIndex((l) => l.digest === digest);
  return r.packages.map((p) => `${p.path}:${p.name}@${p.version}#${layerIndex(p.layer)}`).sort();
}

describe('inventory collector: merging layers with whiteouts', () => {
  const cases: { name: string; layers: MemEntry[][]; want: string[] }[] = [
    {
      name: 'a file rewritten by a later layer: the newest content wins, unchanged packages keep their first layer',
      layers: [[{ path: 'a/pkgs.txt', content: 'x 1\ny 1' }], [{ path: 'a/pkgs.txt', content: 'x 1\ny 2\nz 1' }]],
      want: ['a/pkgs.txt:x@1#0', 'a/pkgs.txt:y@2#1', 'a/pkgs.txt:z@1#1'],
    },
    {
      name: 'a whiteout deletes the file from the final view',
      layers: [
        [
          { path: 'a/pkgs.txt', content: 'x 1' },
          { path: 'b/pkgs.txt', content: 'y 1' },
        ],
        [{ path: 'a/.wh.pkgs.txt' }],
      ],
      want: ['b/pkgs.txt:y@1#0'],
    },
    {
      name: 'a whiteout of a parent directory deletes everything below it',
      layers: [
        [
          { path: 'a/b/pkgs.txt', content: 'x 1' },
          { path: 'ab/pkgs.txt', content: 'y 1' },
        ],
        [{ path: '.wh.a' }],
      ],
      want: ['ab/pkgs.txt:y@1#0'],
    },
    {
      name: 'an opaque directory hides lower layers but keeps its own layer’s files, in any entry order',
      layers: [
        [
          { path: 'd/pkgs.txt', content: 'x 1' },
          { path: 'd/sub/pkgs.txt', content: 'y 1' },
          { path: 'e/pkgs.txt', content: 'z 1' },
        ],
        [{ path: 'd/sub/pkgs.txt', content: 'w 1' }, { path: 'd/.wh..wh..opq' }],
      ],
      want: ['d/sub/pkgs.txt:w@1#1', 'e/pkgs.txt:z@1#0'],
    },
    {
      name: 'a file deleted and re-added is attributed to the layer that re-added it',
      layers: [
        [{ path: 'pkgs.txt', content: 'x 1' }],
        [{ path: '.wh.pkgs.txt' }],
        [{ path: 'pkgs.txt', content: 'x 1' }],
      ],
      want: ['pkgs.txt:x@1#2'],
    },
    {
      name: 'a file replaced by a symlink no longer contributes packages',
      layers: [[{ path: 'pkgs.txt', content: 'x 1' }], [{ path: 'pkgs.txt', type: 'symlink', linkTarget: 'other' }]],
      want: [],
    },
    {
      name: 'whiteouts in the same layer as the file do not delete it',
      layers: [[{ path: 'keep/pkgs.txt', content: 'x 1' }, { path: 'keep/.wh..wh..opq' }]],
      want: ['keep/pkgs.txt:x@1#0'],
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      expect(await collect(c.layers)).toEqual(c.want);
    });
  }

  it('an analyzer that throws becomes a warning naming the file, and the rest is kept', async () => {
    const broken: Analyzer = {
      name: 'broken',
      version: 1,
      wants: (p) => p === 'bad',
      analyze: () => {
        throw new Error('boom');
      },
    };
    const c = new InventoryCollector([broken, lines]);
    await walkImage(memoryImage([[{ path: 'bad' }, { path: 'pkgs.txt', content: 'x 1' }]]), [c], {
      limits: DEFAULT_LIMITS,
    });
    const r = c.result();
    expect(r.warnings).toEqual(['broken: bad: boom']);
    expect(r.packages.map((p) => p.name)).toEqual(['x']);
  });
});
