export { type CompiledRule, compileRule, RuleIndex, SigmaEngine, type SigmaOptions } from './engine.js';
export { EventView, resolveField, type Scalar } from './event.js';
export { loadSigmaFiles, sigmaFiles } from './files.js';
export { bindingsFor, type LogSource, type SourceBinding } from './logsource.js';
export {
  type AnyRule,
  type CorrelationRule,
  type CorrelationType,
  parseSigmaText,
  parseTimespan,
  ruleLabel,
  type SigmaFilter,
  type SigmaRule,
} from './rule.js';
export { compileWildcard } from './wildcard.js';
