/**
 * Hive-style layout shared by the writer, the retention sweep, DuckDB and the Athena/Trino table definitions:
 * `source=<source>/dt=<YYYY-MM-DD>/hour=<HH>/part-<first seq>-<count>.ndjson.gz`, partitioned by event time (UTC).
 */
export const FILE_SUFFIX = '.ndjson.gz';

export function partitionOf(source: string, time: number): string {
  const d = new Date(Number.isFinite(time) ? time : 0);
  const iso = d.toISOString();
  return `source=${safeSource(source)}/dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
}

/** Source names are validated at ingest; this keeps a partition value path-safe whatever happens. */
export function safeSource(source: string): string {
  return (
    source
      .toLowerCase()
      .replace(/[^a-z0-9_]/g, '_')
      .slice(0, 32) || 'unknown'
  );
}

export function fileKey(partition: string, firstSeq: number, count: number): string {
  return `${partition}/part-${String(firstSeq).padStart(12, '0')}-${count}${FILE_SUFFIX}`;
}

/** The `dt` of a key, or null for keys outside the layout. */
export function dtOfKey(key: string): string | null {
  const m = /(?:^|\/)dt=(\d{4}-\d\d-\d\d)\//.exec(key);
  return m ? m[1]! : null;
}

/**
 * One lake line. `event` is the raw event exactly as stored (JSON text spliced in, not re-serialised), so the
 * lake keeps the source's own field order and values.
 */
export function lakeLine(e: {
  eventId: string;
  source: string;
  time: number;
  receivedAt: number;
  raw: string;
}): string {
  return `{"id":${JSON.stringify(e.eventId)},"time":"${new Date(e.time).toISOString()}","received_at":"${new Date(e.receivedAt).toISOString()}","event":${e.raw}}\n`;
}
