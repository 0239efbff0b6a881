/** The vulnerability DB: import, update, status, bundles, and the read API the matcher uses. */
export { type BundleManifest, exportBundle, importBundle } from './bundle.js';
export { type ImportOptions, type ImportProgress, type ImportReport, importInputs } from './import.js';
export { DEFAULT_LIMITS, type Limits } from './inputs.js';
export type { OsvAffected, OsvEvent, OsvRange, OsvRecord, OsvReference, OsvSeverity } from './osv.js';
export { defaultDbPath } from './paths.js';
export {
  type DbStatus,
  type EcosystemStatus,
  type OsvCandidate,
  openVulnDb,
  STALE_AFTER_DAYS,
  type StoredCandidate,
  type VulnDb,
} from './read.js';
export { SCHEMA_VERSION } from './schema.js';
export { type EcosystemUpdate, redactUrl, type UpdateOptions, type UpdateReport, updateDb } from './update.js';
