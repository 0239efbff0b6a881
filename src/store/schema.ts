import type { Generated } from 'kysely';

/**
 * Table types shared by SQLite and PostgreSQL. Times are milliseconds since the epoch (bigint columns,
 * read back as numbers on both dialects). JSON is stored as text so that both dialects treat it alike.
 */
export interface EventsTable {
  /** Insertion order; the lake writer drains the outbox in this order. */
  seq: Generated<number>;
  /** Stable id: the source's own id when it has one (CloudTrail eventID, audit ID), else a hash or uuid. */
  event_id: string;
  source: string;
  /** Event time (ms) as the source states it, else the receive time. */
  time: number;
  received_at: number;
  /** The raw event as JSON text. */
  raw: string;
  /** Lake file this event was assigned to; null while pending. */
  lake_file: string | null;
}

export interface LakeFilesTable {
  /** Object key relative to the lake root, e.g. source=syslog/dt=2026-01-02/hour=03/part-….ndjson.gz */
  name: string;
  /** 'writing' until the file exists at its final name, then 'done'. */
  state: 'writing' | 'done';
  events: number;
  created_at: number;
}

export interface AlertsTable {
  id: Generated<number>;
  rule: string;
  severity: string;
  title: string;
  dedup_key: string;
  /** The alert as JSON text. */
  body: string;
  created_at: number;
}

export interface NotifyOutboxTable {
  id: Generated<number>;
  alert_id: number;
  channel: string;
  /** 'pending' → 'sent'; 'dead' after the last attempt failed or a permanent error. */
  status: 'pending' | 'sent' | 'dead';
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
}

export interface IngestCursorsTable {
  /** Source instance, e.g. "cloudtrail:dir:/var/log/ct" or "cloudtrail:s3:bucket/prefix". */
  source: string;
  /** What was read: a file name or object key. */
  item: string;
  /** Size or ETag at read time, so a changed object is noticed. */
  version: string;
  read_at: number;
}

export interface HeartbeatsTable {
  source: string;
  last_seen_at: number;
  /** Set when a silence alert was raised for the current silence; cleared when the source speaks. */
  alerted_at: number | null;
}

/** Small durable key/value state for other parts (correlation windows, throttles). */
export interface KvStateTable {
  namespace: string;
  key: string;
  value: string;
  updated_at: number;
}

export interface Database {
  events: EventsTable;
  lake_files: LakeFilesTable;
  alerts: AlertsTable;
  notify_outbox: NotifyOutboxTable;
  ingest_cursors: IngestCursorsTable;
  heartbeats: HeartbeatsTable;
  kv_state: KvStateTable;
}
