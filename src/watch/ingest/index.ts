/** Event sources into the store outbox: HTTP (generic, ES _bulk, EventBridge, k8s audit, Falco, egress), syslog, CloudTrail. */
export {
  type CloudTrailLocation,
  directoryLocation,
  parseCloudTrailFile,
  pollCloudTrail,
  s3Location,
} from './cloudtrail.js';
export { parseEgress } from './egress.js';
export { bulkResponse, esProbe, parseBulk } from './elasticsearch.js';
export { parseEventBridge } from './eventbridge.js';
export { parseFalco } from './falco.js';
export { type HttpIngest, type HttpIngestOptions, startHttpIngest } from './http.js';
export { parseK8sAudit } from './k8s-audit.js';
export { parseHttpEvents } from './ndjson.js';
export { IngestQueue, type IngestQueueOptions, QueueFullError } from './queue.js';
export { type SyslogListeners, type SyslogOptions, startSyslog } from './syslog.js';
export { parseSyslog, SyslogFramer, type SyslogRecord } from './syslog-parse.js';
export type { EventSink, IngestEvent } from './types.js';
