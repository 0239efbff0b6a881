/**
 * Baselines (the watch stage's "ML"): statistical detectors that learn what is normal per actor, client or source
 * and flag what is not, each alert stating its numbers. Adding a detector = one file + one line in `registry`.
 */
import { UserInputError } from '../../core/errors.js';
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
  // biome-ignore lint/suspicious/noExplicitAny: each entry takes its own options type
  readonly create: (options: any) => BaselineDetector<any>;
}

/** Every detector, in the order they run. */
export const registry: readonly Registered[] = [
  { name: 'first-seen-action', learningDays: 7, create: firstSeenAction },
  { name: 'rare-action', learningDays: 7, create: rareAction },
  { name: 'volume-spike', learningDays: 1, create: volumeSpike },
  { name: 'first-seen-egress', learningDays: 7, create: firstSeenEgress },
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
    const options = (config[r.name] ?? {}) as CommonOptions;
    if (options.enabled === false) continue;
    out.push({ detector: r.create(options), learningMs: learningMs(options.learningDays, r.learningDays, r.name) });
  }
  return out;
}

/** An engine with every enabled detector. */
export function createBaselines(config: BaselineConfig = {}, options: BaselineEngineOptions = {}): BaselineEngine {
  return new BaselineEngine(configureDetectors(config), options);
}
