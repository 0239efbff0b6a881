import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { UserInputError } from '../../core/errors.js';

export interface QueryResult {
  columns: string[];
  rows: Record<string, unknown>[];
}

/**
 * The view every query sees. Columns are fixed (not auto-detected) so that mixed sources share one schema:
 * `event` is DuckDB JSON (use `event->>'$.eventName'`), and `source`, `dt`, `hour` come from the hive path.
 */
function eventsView(root: string): string {
  const glob = `${root.replace(/'/g, "''")}/**/*.ndjson.gz`;
  return `CREATE VIEW events AS SELECT id, "time", received_at, event, source, dt, hour FROM read_json('${glob}',
    format = 'newline_delimited', compression = 'gzip', hive_partitioning = true,
    hive_types = {'source': 'VARCHAR', 'dt': 'DATE', 'hour': 'INTEGER'},
    columns = {'id': 'VARCHAR', 'time': 'TIMESTAMPTZ', 'received_at': 'TIMESTAMPTZ', 'event': 'JSON'})`;
}

const EMPTY_VIEW = `CREATE VIEW events AS SELECT NULL::VARCHAR AS id, NULL::TIMESTAMPTZ AS "time",
  NULL::TIMESTAMPTZ AS received_at, NULL::JSON AS event, NULL::VARCHAR AS source, NULL::DATE AS dt,
  NULL::INTEGER AS hour WHERE false`;

/**
 * Runs SQL over a local lake with an embedded DuckDB. The engine may read only the lake directory
 * (allowed_directories + enable_external_access=false, then the configuration is locked), so a query cannot read
 * or write other files or reach the network.
 */
export async function queryLake(
  lakeDir: string,
  sql: string,
  options: { maxRows?: number; threads?: number } = {},
): Promise<QueryResult> {
  const root = resolve(lakeDir);
  if (!existsSync(root)) throw new UserInputError(`lake directory ${lakeDir} does not exist`);
  const instance = await DuckDBInstance.create(':memory:', { threads: String(options.threads ?? 4) });
  const conn = await instance.connect();
  try {
    for (const setting of [
      `SET allowed_directories = ['${root.replace(/'/g, "''")}/']`,
      'SET enable_external_access = false',
      'SET autoinstall_known_extensions = false',
      'SET autoload_known_extensions = false',
      "SET TimeZone = 'UTC'",
      'SET lock_configuration = true',
    ]) {
      await conn.run(setting);
    }
    try {
      await conn.run(eventsView(root));
      await conn.run('SELECT 1 FROM events LIMIT 0');
    } catch (err) {
      if (!/No files found/i.test((err as Error).message)) throw err;
      await conn.run('DROP VIEW IF EXISTS events');
      await conn.run(EMPTY_VIEW);
    }
    let reader: Awaited<ReturnType<typeof conn.runAndReadUntil>>;
    try {
      reader = await conn.runAndReadUntil(sql, options.maxRows ?? 10_000);
    } catch (err) {
      throw new UserInputError(`query failed: ${(err as Error).message.split('\n')[0]}`);
    }
    return { columns: reader.columnNames(), rows: reader.getRowObjectsJson() as Record<string, unknown>[] };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
