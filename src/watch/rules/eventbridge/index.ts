export { flatten, matchesEvent, pathFilter } from './match.js';
export type { Branch, CompiledPattern, CompileOptions, FieldCondition, Leaf } from './pattern.js';
export { compilePattern, wildcardRegex } from './pattern.js';
export { PatternSet } from './ruleset.js';
