export { type AffectedMatch, isAffected, matchAffected, type PackageQuery } from './affected.js';
export { parseCvss, recordSeverity } from './cvss.js';
export { defaultDbPath, openVulnDb, STALE_AFTER_DAYS, type VulnDb } from './db/index.js';
export { type MatchStats, matchPackages, osvName } from './match.js';
export {
  applySuppressions,
  type IgnoreFile,
  loadIgnoreFile,
  loadVex,
  type Suppressed,
  type VexDocument,
} from './suppress/index.js';
export { comparatorFor } from './versions/index.js';
