import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LimitExceededError, UserInputError } from '../../src/core/errors.js';
import {
  DEFAULT_LIMITS,
  isOpaqueWhiteout,
  isWhiteout,
  type LayerEntry,
  LayeredTree,
  normaliseEntryPath,
  openImage,
  parseTarget,
  ReadBudget,
  resolveInRoot,
  whiteoutTarget,
} from '../../src/image/index.js';
import {
  gzip,
  makeDockerArchive,
  makeTar,
  rawTar,
  removeDir,
  sha256,
  tempDir,
  writeOciLayout,
  zstdRaw,
} from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await removeDir(dir);
});

describe('entry paths', () => {
  it.each([
    ['./etc/passwd', 'etc/passwd'],
    ['etc/', 'etc'],
    ['usr//lib/./x', 'usr/lib/x'],
    ['./', ''],
    ['.', ''],
    ['a/b/c/', 'a/b/c'],
  ])('normalises %j to %j', (name, want) => {
    expect(normaliseEntryPath(name, 'sha256:l')).toBe(want);
  });

  it.each([['/etc/passwd'], ['../x'], ['a/../../x'], ['a/..'], ['x\0y']])('refuses %j', (name) => {
    expect(() => normaliseEntryPath(name, 'sha256:l')).toThrow(UserInputError);
  });

  it.each([
    ['etc/os-release', '../usr/lib/os-release', 'usr/lib/os-release'],
    ['bin/sh', 'dash', 'bin/dash'],
    ['a/b', '/etc/passwd', 'etc/passwd'],
    ['a/b', '../../../../../etc/passwd', 'etc/passwd'],
    ['link', './x/./y', 'x/y'],
  ])('symlink %s -> %s resolves inside the root to %s', (link, target, want) => {
    expect(resolveInRoot(link, target)).toBe(want);
  });
});

describe('whiteouts', () => {
  it.each([
    ['usr/.wh.bin', true, false, 'usr/bin'],
    ['.wh.etc', true, false, 'etc'],
    ['usr/share/.wh..wh..opq', true, true, 'usr/share'],
    ['.wh..wh..opq', true, true, ''],
    ['usr/bin/x.wh.y', false, false, undefined],
    ['.wh..wh.plnk', true, false, undefined],
    ['usr/bin/ls', false, false, undefined],
  ])('%s: whiteout=%s opaque=%s target=%s', (path, wh, opq, target) => {
    expect(isWhiteout(path)).toBe(wh);
    expect(isOpaqueWhiteout(path)).toBe(opq);
    expect(whiteoutTarget(path)).toBe(target);
  });

  function merged(layers: [string, 'file' | 'directory'][][]): string[] {
    const tree = new LayeredTree<string>();
    layers.forEach((entries, i) => {
      const l = tree.layer();
      for (const [p, t] of entries) {
        if (t === 'directory') l.add(p, t);
        else l.add(p, t, `L${i}`);
      }
      l.commit();
    });
    return [...tree.entries()].map(([p, v]) => `${p}@${v}`);
  }

  it('a whiteout deletes a lower file and a whole lower directory', () => {
    expect(
      merged([
        [
          ['a/x', 'file'],
          ['b/c/d', 'file'],
          ['keep', 'file'],
        ],
        [
          ['a/.wh.x', 'file'],
          ['.wh.b', 'file'],
        ],
      ]),
    ).toEqual(['keep@L0']);
  });

  it('an opaque marker hides lower contents but not the same layer, in any order', () => {
    expect(
      merged([
        [
          ['d/old', 'file'],
          ['d/sub/older', 'file'],
          ['other', 'file'],
        ],
        [
          ['d/new', 'file'],
          ['d/.wh..wh..opq', 'file'],
        ],
      ]),
    ).toEqual(['d/new@L1', 'other@L0']);
  });

  it('a whiteout does not delete what its own layer adds; a later layer re-adds a deleted path', () => {
    expect(
      merged([
        [['f', 'file']],
        [
          ['.wh.f', 'file'],
          ['f', 'file'],
        ],
        [['g', 'file']],
        [['.wh.g', 'file']],
        [['g', 'file']],
      ]),
    ).toEqual(['f@L1', 'g@L4']);
  });

  it('a file replacing a lower directory hides everything below it; a directory replacing a file drops it', () => {
    expect(
      merged([
        [
          ['d/x', 'file'],
          ['f', 'file'],
        ],
        [
          ['d', 'file'],
          ['f', 'directory'],
          ['f/inner', 'file'],
        ],
      ]),
    ).toEqual(['d@L1', 'f/inner@L1']);
  });
});

describe('target parsing', () => {
  it.each([
    ['docker-archive:img.tar', { kind: 'docker-archive', path: 'img.tar' }],
    ['docker-archive:img.tar:repo/app:1.2', { kind: 'docker-archive', path: 'img.tar', ref: 'repo/app:1.2' }],
    ['oci:layout', { kind: 'oci', path: 'layout' }],
    ['oci:layout:app', { kind: 'oci', path: 'layout', tag: 'app' }],
    ['oci:/abs/layout:v1.0', { kind: 'oci', path: '/abs/layout', tag: 'v1.0' }],
    ['oci-archive:img.oci.tar', { kind: 'oci-archive', path: 'img.oci.tar' }],
    ['oci-archive:img.oci.tar:latest', { kind: 'oci-archive', path: 'img.oci.tar', tag: 'latest' }],
    ['dir:rootfs', { kind: 'dir', path: 'rootfs' }],
    ['registry:127.0.0.1:5000/app:1', { kind: 'registry', ref: '127.0.0.1:5000/app:1' }],
    ['registry:host/repo@sha256:abc', { kind: 'registry', ref: 'host/repo@sha256:abc' }],
    ['./image.tar', { kind: 'auto', path: './image.tar' }],
    ['/some/rootfs', { kind: 'auto', path: '/some/rootfs' }],
  ])('%s', (target, want) => {
    expect(parseTarget(target)).toEqual(want);
  });

  it.each([[''], ['oci:'], ['dir:'], ['registry:']])('%j is refused', (target) => {
    expect(() => parseTarget(target)).toThrow(UserInputError);
  });

  it('a registry target reaches the registry source', async () => {
    // Nothing listens on 127.0.0.1:1; whatever the registry source answers, it is not a local path lookup.
    const err = await openImage('registry:127.0.0.1:1/none:latest').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).not.toMatch(/does not exist|oci layout|archive/);
  });

  it('a path that contains ":" is taken whole when it exists', async () => {
    const file = join(dir, 'odd:name.tar');
    await writeFile(file, await makeDockerArchive([rawTar([{ name: 'a', body: 'a' }])]));
    const img = await openImage(`docker-archive:${file}`);
    expect(img.sourceKind).toBe('docker-archive');
  });
});

/** Every entry of a one-layer image, with the body read up to `max` bytes. */
async function entriesOf(target: string, max = 1024 * 1024, limits = DEFAULT_LIMITS) {
  const img = await openImage(target);
  const out: (Omit<LayerEntry, 'read'> & { data: string; truncated: boolean })[] = [];
  for await (const e of img.layers[0]!.entries(limits)) {
    const { data, truncated } = await e.read(max);
    const { read: _r, ...rest } = e;
    out.push({ ...rest, data: data.toString(), truncated });
  }
  return out;
}

describe('layer reader', () => {
  const tar = rawTar([
    { name: './', typeflag: '5' },
    { name: './bin/', typeflag: '5' },
    { name: './bin/tool', body: 'TOOL-BYTES' },
    { name: './bin/tool-link', typeflag: '1', linkname: './bin/tool' },
    { name: './bin/sh', typeflag: '2', linkname: 'dash' },
    { name: './dev/null', typeflag: '3' },
    { name: './dev/sda', typeflag: '4' },
    { name: './run/fifo', typeflag: '6' },
  ]);

  it.each([
    ['plain tar', (b: Buffer) => b],
    ['gzip', gzip],
    ['zstd', zstdRaw],
  ])('%s: detected by magic bytes, entries typed, hard link served the target bytes', async (_n, compress) => {
    const layout = join(dir, 'layout');
    await writeOciLayout(layout, [{ blob: compress(tar), tar }]);
    const got = await entriesOf(`oci:${layout}`);
    expect(got.map((e) => [e.path, e.type, e.linkTarget ?? '', e.data])).toEqual([
      ['bin', 'directory', '', ''],
      ['bin/tool', 'file', '', 'TOOL-BYTES'],
      ['bin/tool-link', 'hardlink', 'bin/tool', 'TOOL-BYTES'],
      ['bin/sh', 'symlink', 'dash', ''],
      ['dev/null', 'other', '', ''],
      ['dev/sda', 'other', '', ''],
      ['run/fifo', 'other', '', ''],
    ]);
    expect(got[1]).toMatchObject({ size: 10, mode: 0o644, uid: 0, gid: 0 });
  });

  it('read is bounded by maxBytes and by Limits.maxFileBytes, and says when it truncated', async () => {
    const layout = join(dir, 'layout');
    const t = rawTar([
      { name: 'big', body: 'x'.repeat(10_000) },
      { name: 'small', body: 'yy' },
    ]);
    await writeOciLayout(layout, [{ blob: gzip(t), tar: t }]);
    const byArg = await entriesOf(`oci:${layout}`, 100);
    expect(byArg.map((e) => [e.path, e.data.length, e.truncated])).toEqual([
      ['big', 100, true],
      ['small', 2, false],
    ]);
    const byLimit = await entriesOf(`oci:${layout}`, 1e9, { ...DEFAULT_LIMITS, maxFileBytes: 7 });
    expect(byLimit.map((e) => [e.path, e.data, e.truncated])).toEqual([
      ['big', 'xxxxxxx', true],
      ['small', 'yy', false],
    ]);
  });

  it('a small body does not keep the large decoder chunk it came in alive', async () => {
    const layout = join(dir, 'layout');
    const t = rawTar(Array.from({ length: 200 }, (_, i) => ({ name: `f${i}`, body: `body ${i}` })));
    await writeOciLayout(layout, [{ blob: gzip(t), tar: t }]);
    const img = await openImage(`oci:${layout}`);
    for await (const e of img.layers[0]!.entries(DEFAULT_LIMITS)) {
      const { data } = await e.read(100);
      expect(data.toString()).toBe(`body ${e.path.slice(1)}`);
      expect(data.buffer.byteLength).toBeLessThanOrEqual(8192); // at most Node's small-buffer pool slab
    }
  });

  it('a body can be read once, and not after the iterator moved on', async () => {
    const layout = join(dir, 'layout');
    await writeOciLayout(layout, [{ blob: tar }]);
    const img = await openImage(`oci:${layout}`);
    let previous: LayerEntry | undefined;
    for await (const e of img.layers[0]!.entries(DEFAULT_LIMITS)) {
      if (e.path === 'bin/tool') {
        await e.read(10);
        await expect(e.read(10)).rejects.toThrow(/already read/);
      }
      if (previous?.path === 'bin/tool') await expect(previous.read(10)).rejects.toThrow(/already read/);
      previous = e;
    }
  });

  it('total entries and total bytes are counted across the layers of one image', async () => {
    const layout = join(dir, 'layout');
    const a = rawTar([{ name: 'a', body: 'a'.repeat(600) }, { name: 'b' }]);
    const b = rawTar([{ name: 'c', body: 'c'.repeat(600) }, { name: 'd' }]);
    await writeOciLayout(layout, [{ blob: a }, { blob: b }]);
    const read = async (limits: typeof DEFAULT_LIMITS, budget?: ReadBudget) => {
      const img = await openImage(`oci:${layout}`);
      let n = 0;
      for (const l of img.layers) for await (const _ of l.entries(limits, budget)) n++;
      return n;
    };
    expect(await read(DEFAULT_LIMITS)).toBe(4);
    await expect(read({ ...DEFAULT_LIMITS, maxEntries: 3 })).rejects.toThrow(LimitExceededError);
    await expect(read({ ...DEFAULT_LIMITS, maxTotalBytes: a.length + 100 })).rejects.toThrow(/limit maxTotalBytes/);
    const shared = new ReadBudget();
    await read(DEFAULT_LIMITS, shared);
    expect(shared.entries).toBe(4);
    expect(shared.bytes).toBe(a.length + b.length);
  });
});

describe('sources', () => {
  const layer = rawTar([{ name: 'etc/hostname', body: 'h\n' }]);

  it('docker-archive with several images picks one by name, and lists the names otherwise', async () => {
    const file = join(dir, 'multi.tar');
    const other = rawTar([{ name: 'other', body: 'o' }]);
    const config = (l: Buffer) => JSON.stringify({ os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(l)] } });
    const cname = (l: Buffer) => `${sha256(config(l)).slice(7)}.json`;
    await writeFile(
      file,
      await makeTar([
        { name: 'l1.tar', body: layer },
        { name: 'l2.tar', body: other },
        { name: cname(layer), body: config(layer) },
        { name: cname(other), body: config(other) },
        {
          name: 'manifest.json',
          body: JSON.stringify([
            { Config: cname(layer), RepoTags: ['docker.io/library/one:1'], Layers: ['l1.tar'] },
            { Config: cname(other), RepoTags: ['two:2'], Layers: ['l2.tar'] },
          ]),
        },
      ]),
    );
    await expect(openImage(`docker-archive:${file}`)).rejects.toThrow(
      /holds 2 images; name one as docker-archive:PATH:NAME \(docker.io\/library\/one:1, two:2\)/,
    );
    expect((await entriesOf(`docker-archive:${file}:one:1`)).map((e) => e.path)).toEqual(['etc/hostname']);
    expect((await entriesOf(`docker-archive:${file}:two:2`)).map((e) => e.path)).toEqual(['other']);
    await expect(openImage(`docker-archive:${file}:three:3`)).rejects.toThrow(/no image named "three:3"/);
  });

  it('docker-archive as Docker >= 25 writes it (blobs/sha256 names, also an OCI index) with a gzip layer', async () => {
    const file = join(dir, 'new.tar');
    const t = rawTar([{ name: 'etc/hostname', body: 'new\n' }]);
    const gz = gzip(t);
    const config = JSON.stringify({
      os: 'linux',
      architecture: 'amd64',
      rootfs: { type: 'layers', diff_ids: [sha256(t)] },
    });
    const blob = (d: string) => `blobs/sha256/${d.slice(7)}`;
    await writeFile(
      file,
      await makeTar([
        { name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
        { name: 'index.json', body: '{"schemaVersion":2,"manifests":[]}' },
        { name: blob(sha256(gz)), body: gz },
        { name: blob(sha256(config)), body: config },
        {
          name: 'manifest.json',
          body: JSON.stringify([{ Config: blob(sha256(config)), RepoTags: ['new:1'], Layers: [blob(sha256(gz))] }]),
        },
      ]),
    );
    const img = await openImage(file);
    expect(img.sourceKind).toBe('docker-archive');
    expect(img.layers.map((l) => [l.digest, l.diffId])).toEqual([[sha256(gz), sha256(t)]]);
    expect(img.configDigest).toBe(sha256(config));
    expect((await entriesOf(file)).map((e) => `${e.path}:${e.data}`)).toEqual(['etc/hostname:new\n']);
  });

  it('legacy docker-archive (repositories + <id>/json + <id>/layer.tar) stacks layers by parent', async () => {
    const file = join(dir, 'legacy.tar');
    const base = rawTar([{ name: 'etc/base', body: 'base' }]);
    const top = rawTar([{ name: 'etc/top', body: 'top' }, { name: 'etc/.wh.base' }]);
    const idBase = 'a'.repeat(64);
    const idTop = 'b'.repeat(64);
    await writeFile(
      file,
      await makeTar([
        { name: 'repositories', body: JSON.stringify({ 'old/app': { v1: idTop } }) },
        { name: `${idBase}/json`, body: JSON.stringify({ id: idBase, os: 'linux' }) },
        { name: `${idBase}/layer.tar`, body: base },
        {
          name: `${idTop}/json`,
          body: JSON.stringify({
            id: idTop,
            parent: idBase,
            os: 'linux',
            architecture: 'amd64',
            config: { Cmd: ['x'] },
          }),
        },
        { name: `${idTop}/layer.tar`, body: top },
      ]),
    );
    const img = await openImage(file);
    expect(img.sourceKind).toBe('docker-archive');
    expect(img.names).toEqual(['old/app:v1']);
    expect(img.layers.map((l) => l.digest)).toEqual([sha256(base), sha256(top)]);
    expect(img.config.config?.Cmd).toEqual(['x']);
    const { finalView } = await import('./helpers.js');
    expect([...(await finalView(img)).keys()]).toEqual(['etc/top']);
  });

  it('an OCI index with several platforms: default linux/amd64, --platform picks another, a missing one is named', async () => {
    const layout = join(dir, 'layout');
    const amd = rawTar([{ name: 'arch', body: 'amd64' }]);
    const arm = rawTar([{ name: 'arch', body: 'arm64' }]);
    // Two single-platform layouts merged into one index (as `skopeo copy --all` writes).
    const a = await writeOciLayout(join(dir, 'a'), [{ blob: amd }]);
    const b = await writeOciLayout(join(dir, 'b'), [{ blob: arm }], { configExtra: { architecture: 'arm64' } });
    const { cp, readFile: rf } = await import('node:fs/promises');
    await cp(join(dir, 'a'), layout, { recursive: true });
    await cp(join(dir, 'b', 'blobs'), join(layout, 'blobs'), { recursive: true });
    const desc = async (d: string, digest: string) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest,
      size: (await rf(join(dir, d, 'blobs', 'sha256', digest.slice(7)))).length,
    });
    const nested = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          { ...(await desc('b', b.manifestDigest)), platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
          { ...(await desc('a', a.manifestDigest)), platform: { os: 'linux', architecture: 'amd64' } },
          {
            ...(await desc('a', a.manifestDigest)),
            platform: { os: 'unknown', architecture: 'unknown' },
            annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
          },
        ],
      }),
    );
    await writeFile(join(layout, 'blobs', 'sha256', sha256(nested).slice(7)), nested);
    await writeFile(
      join(layout, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.index.v1+json',
            digest: sha256(nested),
            size: nested.length,
            annotations: { 'org.opencontainers.image.ref.name': 'multi' },
          },
        ],
      }),
    );
    const archOf = async (platform?: string) => {
      const img = await openImage(`oci:${layout}:multi`, platform ? { platform } : {});
      for await (const e of img.layers[0]!.entries(DEFAULT_LIMITS)) return (await e.read(100)).data.toString();
    };
    expect(await archOf()).toBe('amd64');
    expect(await archOf('linux/arm64')).toBe('arm64');
    expect(await archOf('linux/arm64/v8')).toBe('arm64');
    await expect(archOf('linux/s390x')).rejects.toThrow(
      /no image for platform linux\/s390x \(has linux\/arm64\/v8, linux\/amd64\)/,
    );
    await expect(archOf('linux')).rejects.toThrow(/is not os\/arch\[\/variant\]/);
    await expect(openImage(`oci:${layout}:nope`)).rejects.toThrow(/no image tagged "nope" \(tags: multi\)/);
  });

  it('dir: is one pseudo-layer with a stable id, entries relative to the root in sorted order', async () => {
    const { mkdir } = await import('node:fs/promises');
    const root = join(dir, 'rootfs');
    await mkdir(join(root, 'b'), { recursive: true });
    await writeFile(join(root, 'b', 'z'), 'z');
    await writeFile(join(root, 'a'), 'a');
    const one = await openImage(`dir:${root}`);
    const two = await openImage(root);
    expect(one.layers[0]!.digest).toBe(two.layers[0]!.digest);
    expect(one.layers[0]!.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect((await entriesOf(`dir:${root}`)).map((e) => `${e.path}:${e.type}:${e.data}`)).toEqual([
      'a:file:a',
      'b:directory:',
      'b/z:file:z',
    ]);
    await expect(openImage(`dir:${join(root, 'a')}`)).rejects.toThrow(/is not a directory/);
  });
});
