export { detectionSink } from './detect.js';
export * from './lake/index.js';
export * from './normalize/index.js';
export { loadRuleSet, type RuleSet, replay } from './replay.js';
export * from './rules/index.js';
export { startWatchService } from './service.js';
export { loadWatchConfig } from './service-config.js';
