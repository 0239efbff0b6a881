import type { FoundPackage } from '../core/types.js';
import type { Analyzer, AnalyzerResult, FileInput } from './analyzer.js';
import { normaliseOwnedPath, requireText, requireWhole, Warnings } from './os-common.js';

/**
 * Alpine's (and Wolfi's) installed database: stanzas of one-letter `K:value` lines separated by blank
 * lines (apk-tools doc/apk-package(5), "installed database"). Files are recorded as a directory line
 * `F:dir` followed by `R:name` lines for the files in it.
 */

const PATHS = new Set(['lib/apk/db/installed', 'usr/lib/apk/db/installed']);

export const apkInstalled: Analyzer = {
  name: 'apk',
  version: 1,
  wants(path) {
    return PATHS.has(path);
  },
  analyze(file: FileInput): AnalyzerResult {
    requireWhole(file);
    const text = requireText(file, 'apk installed database');
    const warnings = new Warnings();
    const packages: FoundPackage[] = [];
    let rec = newRecord();
    let lineNo = 0;
    const finish = () => {
      const pkg = toPackage(rec, file.path, warnings);
      if (pkg) packages.push(pkg);
      rec = newRecord();
    };
    for (const raw of text.split('\n')) {
      lineNo++;
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line === '') {
        finish();
        continue;
      }
      if (line.length < 2 || line[1] !== ':') {
        warnings.add(`${file.path}:${lineNo}: not a "K:value" line; ignored`);
        continue;
      }
      const value = line.slice(2);
      rec.seen = true;
      switch (line[0]) {
        case 'P':
          rec.name = value;
          break;
        case 'V':
          rec.version = value;
          break;
        case 'A':
          rec.arch = value;
          break;
        case 'o':
          rec.origin = value;
          break;
        case 'L':
          rec.license = value;
          break;
        case 'F':
          rec.dir = value;
          break;
        case 'R': {
          const p = normaliseOwnedPath(rec.dir ? `${rec.dir}/${value}` : value);
          if (p !== undefined) rec.files.push(p);
          break;
        }
      }
    }
    finish();
    return { packages, warnings: warnings.result() };
  },
};

interface ApkRecord {
  seen: boolean;
  name?: string;
  version?: string;
  arch?: string;
  origin?: string;
  license?: string;
  dir?: string;
  files: string[];
}

function newRecord(): ApkRecord {
  return { seen: false, files: [] };
}

function toPackage(r: ApkRecord, path: string, warnings: Warnings): FoundPackage | undefined {
  if (!r.seen) return undefined;
  if (!r.name || !r.version) {
    warnings.add(`${path}: package ${r.name ?? '(no name)'} without ${r.name ? 'version' : 'name'} skipped`);
    return undefined;
  }
  const pkg: FoundPackage = {
    type: 'apk',
    name: r.name,
    version: r.version,
    // Every subpackage built from an APKBUILD shares its version, so the origin's version is this one.
    source: { name: r.origin || r.name, version: r.version },
  };
  if (r.arch) pkg.arch = r.arch;
  // L: is an SPDX expression (older packages: space-separated names); kept as written.
  if (r.license) pkg.licenses = [r.license];
  if (r.files.length > 0) pkg.files = r.files;
  return pkg;
}
