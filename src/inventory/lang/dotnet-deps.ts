/**
 * .NET `*.deps.json` (written next to every published app): NuGet packages from the `libraries` map
 * ("Name/Version" → {type}). Kept: `package`, and `runtimepack` (the runtime bundled into a
 * self-contained app, reported without its synthetic "runtimepack." prefix). Not kept: `project` (the
 * app's own assemblies, not NuGet packages) and, when the runtime target is listed, packages with no
 * runtime, runtimeTargets or native assets there (compile-time only: they do not ship in the app).
 */
import type { FoundPackage } from '../../core/types.js';
import type { Analyzer, AnalyzerResult, FileInput } from '../analyzer.js';
import { isObject, parseJsonObject, skipped, str } from './common.js';

const RUNTIME_PACK = 'runtimepack.';

function stripPack(name: string): string {
  return name.startsWith(RUNTIME_PACK) ? name.slice(RUNTIME_PACK.length) : name;
}

function nonEmpty(v: unknown): boolean {
  return isObject(v) ? Object.keys(v).length > 0 : Array.isArray(v) ? v.length > 0 : false;
}

export function parseDepsJson(file: FileInput): AnalyzerResult {
  const parsed = parseJsonObject(file);
  if ('error' in parsed) return skipped(file, parsed.error);
  const doc = parsed.value;
  if (!isObject(doc.libraries)) return skipped(file, 'no "libraries" map: not a .deps.json');
  const runtimeName = isObject(doc.runtimeTarget) ? str(doc.runtimeTarget.name) : undefined;
  const rawTarget = isObject(doc.targets) && runtimeName ? doc.targets[runtimeName] : undefined;
  const target = new Map<string, unknown>();
  if (isObject(rawTarget)) {
    for (const [k, v] of Object.entries(rawTarget)) target.set(stripPack(k), v);
  }
  const out: FoundPackage[] = [];
  for (const [key, lib] of Object.entries(doc.libraries)) {
    if (!isObject(lib)) continue;
    const type = str(lib.type)?.toLowerCase();
    if (type !== 'package' && type !== 'runtimepack') continue;
    const slash = key.indexOf('/');
    if (slash <= 0 || slash === key.length - 1) continue;
    const name = stripPack(key.slice(0, slash));
    const version = key.slice(slash + 1);
    const entry = target.get(`${name}/${version}`);
    // Missing from the target: kept, since a wrong omission hides vulnerabilities.
    if (
      isObject(rawTarget) &&
      isObject(entry) &&
      !['runtime', 'runtimeTargets', 'native'].some((k) => nonEmpty(entry[k]))
    ) {
      continue;
    }
    out.push({ type: 'nuget', name, version });
  }
  return { packages: out };
}

export const dotnetDepsAnalyzer: Analyzer = {
  name: 'dotnet-deps',
  version: 1,
  wants: (path) => path.endsWith('.deps.json'),
  analyze: parseDepsJson,
};
