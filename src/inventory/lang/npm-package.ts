/**
 * Installed npm packages: `node_modules/<name>/package.json` and `node_modules/@scope/<name>/package.json`
 * at any depth. package.json files elsewhere (an app's own manifest, test fixtures, "type": "module"
 * stubs in a package's sub-folders) describe nothing that npm installed and are not wanted.
 */
import type { Analyzer, AnalyzerResult, FileInput } from '../analyzer.js';
import { npmLicenses, npmPackage, parseJsonObject, skipped, str } from './common.js';

const SUFFIX = '/package.json';
const NM = 'node_modules/';

/** True for ".../node_modules/name/package.json" and ".../node_modules/@scope/name/package.json". */
export function isInstalledPackageJson(path: string): boolean {
  if (!path.endsWith(SUFFIX)) return false;
  const dir = path.slice(0, -SUFFIX.length);
  const nm = dir.lastIndexOf(NM);
  if (nm < 0 || (nm > 0 && dir[nm - 1] !== '/')) return false;
  const rest = dir.slice(nm + NM.length);
  if (rest === '' || rest.startsWith('.')) return false; // node_modules/.bin, .cache, ...
  const slash = rest.indexOf('/');
  if (slash < 0) return !rest.startsWith('@'); // a scope folder alone is not a package
  return rest.startsWith('@') && slash > 1 && slash < rest.length - 1 && rest.indexOf('/', slash + 1) < 0;
}

export function parseInstalledPackageJson(file: FileInput): AnalyzerResult {
  const parsed = parseJsonObject(file);
  if ('error' in parsed) return skipped(file, parsed.error);
  const pkg = parsed.value;
  const name = str(pkg.name);
  const version = str(pkg.version);
  if (!name || !version) return skipped(file, 'package.json without a name and version');
  return { packages: [npmPackage(name, version, { licenses: npmLicenses(pkg.license, pkg.licenses) })] };
}

export const npmPackageJsonAnalyzer: Analyzer = {
  name: 'npm-package-json',
  version: 1,
  wants: (path) => isInstalledPackageJson(path),
  analyze: parseInstalledPackageJson,
};
