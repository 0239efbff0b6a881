/**
 * Independent truth for the registry tests: reads a test image straight from its OCI layout files
 * (index.json → manifest → config), and lists a layer blob's paths with GNU tar, not with our reader.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type TestImageName, testImageLayout } from '../../helpers/registry.js';

const run = promisify(execFile);

export interface LayoutDescriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface LayoutImage {
  dir: string;
  manifestDigest: string;
  manifestBytes: Buffer;
  manifest: { config: LayoutDescriptor; layers: LayoutDescriptor[] };
  configBytes: Buffer;
  config: Record<string, unknown>;
  blobPath(digest: string): string;
}

export async function readLayoutImage(name: TestImageName): Promise<LayoutImage> {
  const { dir, tag } = testImageLayout(name);
  const blobPath = (digest: string) => join(dir, 'blobs', ...digest.split(':'));
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as {
    manifests: (LayoutDescriptor & { annotations?: Record<string, string> })[];
  };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (entry === undefined) throw new Error(`${dir}: no manifest tagged ${tag}`);
  const manifestBytes = await readFile(blobPath(entry.digest));
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as LayoutImage['manifest'];
  const configBytes = await readFile(blobPath(manifest.config.digest));
  return {
    dir,
    manifestDigest: entry.digest,
    manifestBytes,
    manifest,
    configBytes,
    config: JSON.parse(configBytes.toString('utf8')) as Record<string, unknown>,
    blobPath,
  };
}

/** Entry paths of a gzip tar blob as GNU tar lists them, normalised like LayerEntry.path. */
export async function tarPaths(blobFile: string): Promise<Set<string>> {
  const { stdout } = await run('tar', ['--quoting-style=literal', '-tzf', blobFile], { maxBuffer: 256 * 1024 * 1024 });
  const paths = new Set<string>();
  for (const line of stdout.split('\n')) {
    const p = line
      .split('/')
      .filter((s) => s !== '' && s !== '.')
      .join('/');
    if (p !== '') paths.add(p);
  }
  return paths;
}
