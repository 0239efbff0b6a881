/** The rules part of the watch stage: EventBridge routing patterns, Sigma detection and correlation, their state. */
export {
  type CompiledPattern,
  type CompileOptions,
  compilePattern,
  flatten,
  matchesEvent,
  PatternSet,
} from './eventbridge/index.js';
export { eventBridgeEnvelope, isRoutesDocument, parseRoutes, type Route, Router } from './routing.js';
export {
  CorrelationEngine,
  type CorrelationMatch,
  type CorrelationOptions,
  type RepeatMode,
  type RuleHit,
} from './sigma/correlation.js';
export {
  type AnyRule,
  type CorrelationRule,
  EventView,
  loadSigmaFiles,
  parseSigmaText,
  ruleLabel,
  SigmaEngine,
  type SigmaOptions,
  type SigmaRule,
} from './sigma/index.js';
export { type CorrelationStateStore, MemoryStateStore, SqliteStateStore } from './state.js';
