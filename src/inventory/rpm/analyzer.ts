import type { FoundPackage } from '../../core/types.js';
import type { Analyzer, AnalyzerResult, FileInput } from '../analyzer.js';
import { requireWhole } from '../os-common.js';
import { readBdbBlobs } from './bdb.js';
import { parseSourceRpm, type RpmPackage, readRpmPackage } from './header.js';
import { readNdbBlobs } from './ndb.js';
import { readSqliteBlobs } from './sqlite.js';

/**
 * The rpm database in its three storage formats, at the classic location (var/lib/rpm) and the
 * newer one (usr/lib/sysimage/rpm, Fedora 36+, openSUSE). All three hold the same header blobs.
 */

const DIRS = ['var/lib/rpm/', 'usr/lib/sysimage/rpm/'];
const READERS: Record<string, (file: Buffer) => Buffer[]> = {
  'rpmdb.sqlite': readSqliteBlobs,
  Packages: readBdbBlobs,
  'Packages.db': readNdbBlobs,
};

export const rpmDatabase: Analyzer = {
  name: 'rpm',
  version: 1,
  wants(path) {
    const dir = DIRS.find((d) => path.startsWith(d));
    return dir !== undefined && Object.hasOwn(READERS, path.slice(dir.length));
  },
  analyze(file: FileInput): AnalyzerResult {
    requireWhole(file);
    const base = file.path.slice(file.path.lastIndexOf('/') + 1);
    const blobs = READERS[base]!(file.content);
    const packages: FoundPackage[] = [];
    for (const blob of blobs) {
      const rpm = readRpmPackage(blob);
      // gpg-pubkey "packages" are imported signing keys, not installed software.
      if (rpm.name === 'gpg-pubkey') continue;
      packages.push(toFound(rpm));
    }
    return { packages };
  },
};

function toFound(rpm: RpmPackage): FoundPackage {
  const pkg: FoundPackage = { type: 'rpm', name: rpm.name, version: `${rpm.version}-${rpm.release}` };
  if (rpm.epoch !== undefined) pkg.epoch = rpm.epoch;
  if (rpm.arch) pkg.arch = rpm.arch;
  const source = rpm.sourceRpm ? parseSourceRpm(rpm.sourceRpm) : undefined;
  if (source) pkg.source = source;
  if (rpm.license) pkg.licenses = [rpm.license];
  if (rpm.files.length > 0) pkg.files = rpm.files;
  return pkg;
}
