/**
 * Java archives (jar, war, ear, and Jenkins' jpi/hpi): Maven coordinates from
 * `META-INF/maven/<groupId>/<artifactId>/pom.properties` (every one: shaded jars carry several),
 * else from `META-INF/MANIFEST.MF` and the file name. Archives inside archives (WEB-INF/lib, BOOT-INF/lib,
 * an ear's modules) are opened too, to a bounded depth and a bounded number of inflated bytes, so a
 * zip bomb or a jar-in-jar chain costs a known, small amount.
 */
import type { Readable } from 'node:stream';
import type yauzl from 'yauzl';
import type { FoundPackage } from '../../core/types.js';
import type { Analyzer, AnalyzerResult, FileInput } from '../analyzer.js';
import { baseName } from './common.js';

export const JAVA_LIMITS = {
  /** Archive nesting: the file itself is depth 0; a jar in a war in an ear is depth 2. */
  maxDepth: 3,
  /** Inflated bytes for one top-level file, nested archives included. */
  maxTotalBytes: 256 * 1024 * 1024,
  /** One nested archive (it is held in memory to be opened). */
  maxNestedBytes: 64 * 1024 * 1024,
  /** pom.properties / MANIFEST.MF: small text files. */
  maxMetaBytes: 1024 * 1024,
  /** A declared inflated size this many times the compressed one is a bomb, not an archive. */
  maxRatio: 200,
  maxEntries: 200_000,
};

const ARCHIVE_EXT = ['.jar', '.war', '.ear', '.jpi', '.hpi'];

function isArchiveName(name: string): boolean {
  // Cheap first: a "." four from the end, before any allocation (this runs for every entry).
  if (name.length < 5 || name.charCodeAt(name.length - 4) !== 46) return false;
  return ARCHIVE_EXT.includes(name.slice(-4).toLowerCase());
}

class Budget {
  bytes = 0;
  entries = 0;
  warnings: string[] = [];
}

async function readLimited(zip: yauzl.ZipFile, entry: yauzl.Entry, limit: number, budget: Budget): Promise<Buffer> {
  if (entry.uncompressedSize > limit)
    throw new Error(`${entry.fileName}: ${entry.uncompressedSize} bytes, over ${limit}`);
  if (budget.bytes + entry.uncompressedSize > JAVA_LIMITS.maxTotalBytes)
    throw new Error('inflated size budget exhausted');
  if (entry.compressedSize > 0 && entry.uncompressedSize / entry.compressedSize > JAVA_LIMITS.maxRatio) {
    throw new Error(`${entry.fileName}: compression ratio over ${JAVA_LIMITS.maxRatio} (zip bomb?)`);
  }
  const stream: Readable = await zip.openReadStreamPromise(entry);
  const chunks: Buffer[] = [];
  let n = 0;
  // yauzl also checks that the inflated bytes match the declared size (validateEntrySizes).
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > limit) {
      stream.destroy();
      throw new Error(`${entry.fileName}: more than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  budget.bytes += n;
  return Buffer.concat(chunks);
}

/** Java .properties: "key=value" / "key: value" lines; comments with # or !. */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:]?\s*(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.trim());
  }
  return out;
}

/** MANIFEST.MF main section: "Name: value" with 72-byte line continuation (a leading space). */
export function parseManifest(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break; // end of the main section; per-entry sections follow
    if (line.startsWith(' ') && last) {
      out.set(last, out.get(last)! + line.slice(1));
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim();
    out.set(last, line.slice(colon + 1).trim());
  }
  return out;
}

function maven(groupId: string | undefined, artifactId: string, version: string): FoundPackage {
  const pkg: FoundPackage = { type: 'maven', name: artifactId, version };
  if (groupId) pkg.namespace = groupId;
  return pkg;
}

/**
 * Coordinates from a manifest when the jar has no pom.properties. The version is the
 * implementation's (else the bundle's); the artifactId is the file name's stem when the file is named
 * "<artifactId>-<version>.jar" (the Maven layout), else the title; the groupId is the vendor id or
 * the OSGi symbolic name, which is only an approximation of the real groupId.
 */
export function fromManifest(mf: Map<string, string>, fileName: string): FoundPackage | undefined {
  const version = mf.get('Implementation-Version') ?? mf.get('Bundle-Version') ?? mf.get('Specification-Version');
  if (!version) return undefined;
  const stem = fileName.replace(/\.[^.]+$/, '');
  let artifactId: string | undefined;
  for (const v of [version, mf.get('Bundle-Version')]) {
    if (v && stem.endsWith(`-${v}`)) artifactId = stem.slice(0, -(v.length + 1));
  }
  artifactId ??= mf.get('Implementation-Title') ?? mf.get('Bundle-Name') ?? mf.get('Specification-Title');
  if (!artifactId) return undefined;
  const symbolic = mf.get('Bundle-SymbolicName')?.split(';')[0]?.trim();
  return maven(mf.get('Implementation-Vendor-Id') ?? symbolic, artifactId, version);
}

async function scanArchive(
  buf: Buffer,
  path: string,
  depth: number,
  budget: Budget,
  out: FoundPackage[],
): Promise<void> {
  // Loaded on first use: most images hold no Java archive, and every scan pays for what it loads at start-up.
  const { default: unzip } = await import('yauzl');
  const zip = await unzip.fromBufferPromise(buf, {
    lazyEntries: true,
    autoClose: false,
    validateEntrySizes: true,
    strictFileNames: false,
  });
  const found: FoundPackage[] = [];
  let manifest: Map<string, string> | undefined;
  const nested: yauzl.Entry[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      if (++budget.entries > JAVA_LIMITS.maxEntries) throw new Error(`more than ${JAVA_LIMITS.maxEntries} entries`);
      const name = entry.fileName;
      if (name.startsWith('META-INF/maven/') && name.endsWith('/pom.properties')) {
        const props = parseProperties(
          (await readLimited(zip, entry, JAVA_LIMITS.maxMetaBytes, budget)).toString('utf8'),
        );
        const a = props.get('artifactId');
        const v = props.get('version');
        if (a && v) found.push({ ...maven(props.get('groupId'), a, v), path });
      } else if (name === 'META-INF/MANIFEST.MF') {
        manifest = parseManifest((await readLimited(zip, entry, JAVA_LIMITS.maxMetaBytes, budget)).toString('utf8'));
      } else if (isArchiveName(name) && !name.endsWith('/')) {
        nested.push(entry);
      }
    }
    if (found.length === 0 && manifest) {
      const pkg = fromManifest(manifest, baseName(path));
      if (pkg) found.push({ ...pkg, path });
    }
    out.push(...found);
    for (const entry of nested) {
      const inner = `${path}/${entry.fileName}`;
      if (depth + 1 > JAVA_LIMITS.maxDepth) {
        budget.warnings.push(`${inner}: nested deeper than ${JAVA_LIMITS.maxDepth} archives; not opened`);
        continue;
      }
      try {
        const bytes = await readLimited(zip, entry, JAVA_LIMITS.maxNestedBytes, budget);
        await scanArchive(bytes, inner, depth + 1, budget, out);
      } catch (err) {
        budget.warnings.push(`${inner}: ${(err as Error).message}; skipped`);
      }
    }
  } finally {
    zip.close();
  }
}

export async function analyzeJavaArchive(file: FileInput): Promise<AnalyzerResult> {
  if (file.truncated) return { packages: [], warnings: ['archive larger than the analyzer read limit; file skipped'] };
  const budget = new Budget();
  const out: FoundPackage[] = [];
  try {
    await scanArchive(file.content, file.path, 0, budget, out);
  } catch (err) {
    budget.warnings.push(`${(err as Error).message}; file skipped`);
    return { packages: [], warnings: budget.warnings };
  }
  // The walker sets `path` to the file itself; nested packages keep their inner path.
  for (const p of out) if (p.path === file.path) delete p.path;
  // The collector prefixes warnings with the file's path: name nested archives relative to it.
  const warnings = budget.warnings.map((w) => (w.startsWith(`${file.path}/`) ? w.slice(file.path.length + 1) : w));
  return { packages: out, ...(warnings.length > 0 ? { warnings } : {}) };
}

export const javaArchiveAnalyzer: Analyzer = {
  name: 'java-archive',
  version: 1,
  wants: (path) => isArchiveName(path),
  analyze: analyzeJavaArchive,
};
