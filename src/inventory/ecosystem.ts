import { PackageURL } from 'packageurl-js';
import type { OsInfo, PackageType } from '../core/types.js';

/** OSV ecosystem of a language package type (https://ossf.github.io/osv-schema/#affectedpackage-field). */
const LANGUAGE_ECOSYSTEMS: Partial<Record<PackageType, string>> = {
  npm: 'npm',
  pypi: 'PyPI',
  golang: 'Go',
  maven: 'Maven',
  gem: 'RubyGems',
  cargo: 'crates.io',
  composer: 'Packagist',
  nuget: 'NuGet',
};

function majorMinor(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}

function major(version: string): string {
  return version.split('.')[0] ?? version;
}

/** OSV ecosystem names of distributions, by os-release ID. */
const DISTRO_ECOSYSTEMS: Record<string, (os: OsInfo) => string> = {
  debian: (os) => (os.version ? `Debian:${major(os.version)}` : 'Debian'),
  ubuntu: (os) => {
    const [yy, mm] = os.version.split('.');
    const lts = mm === '04' && Number(yy) % 2 === 0;
    return `Ubuntu:${majorMinor(os.version)}${lts ? ':LTS' : ''}`;
  },
  alpine: (os) => `Alpine:v${majorMinor(os.version)}`,
  wolfi: () => 'Wolfi',
  chainguard: () => 'Chainguard',
  rocky: (os) => `Rocky Linux:${major(os.version)}`,
  almalinux: (os) => `AlmaLinux:${major(os.version)}`,
  rhel: (os) => `Red Hat:enterprise_linux:${major(os.version)}`,
  'opensuse-leap': (os) => `openSUSE:Leap ${os.version}`,
  sles: (os) => `SUSE:Linux Enterprise Server ${os.version.replace('.', ' SP')}`,
  'cbl-mariner': (os) => `Mariner:${majorMinor(os.version)}`,
  azurelinux: (os) => `Azure Linux:${majorMinor(os.version)}`,
  photon: (os) => `Photon OS:${majorMinor(os.version)}`,
};

/** The OSV ecosystem for a package found in an image with the given OS. */
export function ecosystemOf(type: PackageType, os: OsInfo | undefined): string {
  const lang = LANGUAGE_ECOSYSTEMS[type];
  if (lang) return lang;
  if (!os) return type; // an OS package without os-release: still listed, matched by nothing
  const map = DISTRO_ECOSYSTEMS[os.family];
  return map ? map(os) : `${os.family}:${os.version}`;
}

/** purl namespace of an OS package: the distro id (pkg:deb/debian/…, pkg:apk/alpine/…, pkg:rpm/redhat/…). */
function osNamespace(os: OsInfo | undefined): string | undefined {
  if (!os) return undefined;
  return os.family === 'rhel' ? 'redhat' : os.family;
}

export interface PurlInput {
  type: PackageType;
  namespace?: string;
  name: string;
  version: string;
  arch?: string;
  epoch?: number;
  source?: { name: string; version?: string };
}

/** Package URL per the purl spec, with the distro qualifier for OS packages (as Trivy and Syft write it). */
export function purlOf(pkg: PurlInput, os: OsInfo | undefined): string {
  const isOs = pkg.type === 'deb' || pkg.type === 'apk' || pkg.type === 'rpm';
  const qualifiers: Record<string, string> = {};
  if (isOs) {
    if (pkg.arch) qualifiers.arch = pkg.arch;
    if (pkg.epoch) qualifiers.epoch = String(pkg.epoch);
    if (os) qualifiers.distro = `${os.family}-${os.version}`;
    if (pkg.source && pkg.source.name !== pkg.name) qualifiers.upstream = pkg.source.name;
  }
  const namespace = isOs ? osNamespace(os) : pkg.namespace;
  return new PackageURL(pkg.type, namespace, pkg.name, pkg.version, qualifiers, undefined).toString();
}
