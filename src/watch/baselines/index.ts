/**
 * Baselines (the watch stage's "ML"): statistical detectors that learn what is normal per actor, client or source
 * and flag what is not, each alert stating its numbers. Adding a detector = one file + one line in `registry`.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { NotFoundError, UserInputError } from '../../core/errors.js';
import { BaselineEngine, type BaselineEngineOptions, type ConfiguredDetector, learningMs } from './engine.js';
import { type FirstSeenActionOptions, firstSeenAction } from './first-seen-action.js';
import { type FirstSeenEgressOptions, firstSeenEgress } from './first-seen-egress.js';
import { type RareActionOptions, rareAction } from './rare-action.js';
import type { BaselineDetector, CommonOptions } from './types.js';
import { type VolumeSpikeOptions, volumeSpike } from './volume-spike.js';

export { BaselineEngine, type BaselineEngineOptions, type ConfiguredDetector, type DetectorStats } from './engine.js';
export type { FirstSeenActionOptions } from './first-seen-action.js';
export type { FirstSeenEgressOptions } from './first-seen-egress.js';
export type { RareActionOptions } from './rare-action.js';
export { type BaselineStateStore, MemoryBaselineStore, SqliteBaselineStore, type StoredBaseline } from './state.js';
export type { BaselineAlert, BaselineDetector, CommonOptions } from './types.js';
export { ewmaStep, type SpikeState, type VolumeSpikeOptions } from './volume-spike.js';

/** Per-detector options, by detector name. */
export interface BaselineConfig {
  readonly 'first-seen-action'?: FirstSeenActionOptions;
  readonly 'rare-action'?: RareActionOptions;
  readonly 'volume-spike'?: VolumeSpikeOptions;
  readonly 'first-seen-egress'?: FirstSeenEgressOptions;
}

interface Registered {
  readonly name: keyof BaselineConfig;
  /** Detector-wide learning period when the config gives none. */
  readonly learningDays: number;
  /** Option names it takes besides `enabled` and `learningDays`: a misspelt option is an error, not a silent default. */
  readonly options: readonly string[];
  // biome-ignore lint/suspicious/noExplicitAny: each entry takes its own options type
  readonly create: (options: any) => BaselineDetector<any>;
}

/** Every detector, in the order they run. */
export const registry: readonly Registered[] = [
  {
    name: 'first-seen-action',
    learningDays: 7,
    options: ['minEvents', 'maxActionsPerActor', 'excludeSources'],
    create: firstSeenAction,
  },
  {
    name: 'rare-action',
    learningDays: 7,
    options: ['minEvents', 'maxCount', 'maxShare', 'maxActionsPerActor', 'excludeSources'],
    create: rareAction,
  },
  {
    name: 'volume-spike',
    learningDays: 1,
    options: ['bucketMinutes', 'alpha', 'z', 'minBuckets', 'minCount', 'minStdDev', 'by'],
    create: volumeSpike,
  },
  {
    name: 'first-seen-egress',
    learningDays: 7,
    options: ['minEvents', 'maxDestinationsPerClient'],
    create: firstSeenEgress,
  },
];

/** Builds the enabled detectors from a config; unknown detector names are an error, not silently ignored. */
export function configureDetectors(config: BaselineConfig = {}): ConfiguredDetector[] {
  for (const name of Object.keys(config)) {
    if (!registry.some((r) => r.name === name)) {
      throw new UserInputError(
        `baselines: unknown detector "${name}" (have: ${registry.map((r) => r.name).join(', ')})`,
      );
    }
  }
  const out: ConfiguredDetector[] = [];
  for (const r of registry) {
    const given: unknown = config[r.name] ?? {};
    if (given === null || typeof given !== 'object' || Array.isArray(given)) {
      throw new UserInputError(`baselines: ${r.name}: expected a mapping of options`);
    }
    for (const k of Object.keys(given)) {
      if (k !== 'enabled' && k !== 'learningDays' && !r.options.includes(k)) {
        throw new UserInputError(
          `baselines: ${r.name}: unknown option "${k}" (have: enabled, learningDays, ${r.options.join(', ')})`,
        );
      }
    }
    const options = given as CommonOptions;
    if (options.enabled !== undefined && typeof options.enabled !== 'boolean') {
      throw new UserInputError(`baselines: ${r.name}.enabled must be true or false`);
    }
    if (options.enabled === false) continue;
    out.push({ detector: r.create(options), learningMs: learningMs(options.learningDays, r.learningDays, r.name) });
  }
  return out;
}

/** An engine with every enabled detector. */
export function createBaselines(config: BaselineConfig = {}, options: BaselineEngineOptions = {}): BaselineEngine {
  return new BaselineEngine(configureDetectors(config), options);
}

/** Reads a YAML (or JSON) baseline config: a mapping of detector name to options. */
export function parseBaselineConfig(text: string, file: string): BaselineConfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new UserInputError(`${file}: invalid YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new UserInputError(`${file}: expected a mapping of detector name to options`);
  }
  const config = doc as BaselineConfig;
  try {
    configureDetectors(config); // validate now, while the file name is at hand
  } catch (err) {
    if (err instanceof UserInputError) throw new UserInputError(`${file}: ${err.message}`);
    throw err;
  }
  return config;
}

/** Reads a baseline config file (see parseBaselineConfig). */
export async function loadBaselineConfig(file: string): Promise<BaselineConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new NotFoundError(`baseline config not found: ${file}`);
  }
  return parseBaselineConfig(text, file);
}
