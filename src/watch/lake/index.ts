/** The log lake: partitioned NDJSON.gz on disk or S3, written exactly once from the store outbox; retention; SQL. */
export { checkKey, type LakeBackend } from './backend.js';
export { dtOfKey, FILE_SUFFIX, fileKey, lakeLine, partitionOf } from './layout.js';
export { localLake } from './local.js';
export { type QueryResult, queryLake } from './query.js';
export { checkRetention, PCI_RETENTION, type RetentionPolicy, type SweepResult, sweepRetention } from './retention.js';
export { s3Lake } from './s3.js';
export { type LakeStats, LakeWriter, type LakeWriterOptions } from './writer.js';
