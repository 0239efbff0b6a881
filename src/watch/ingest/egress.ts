import { UserInputError } from '../../core/errors.js';
import { parseNdjson } from './body.js';
import { contentId, eventTime, type IngestEvent, isRecord } from './types.js';

/**
 * The egress proxy's JSON log lines (one decision per line: time, client, host, port, allow, reason ...), POSTed
 * as NDJSON. Lines have no id of their own; a hash makes a re-sent batch idempotent.
 */
export function parseEgress(text: string, receivedAt: number): IngestEvent[] {
  return parseNdjson(text).map((v, i) => {
    if (!isRecord(v)) throw new UserInputError(`egress line ${i + 1}: expected a JSON object`);
    return {
      id: contentId('egress', JSON.stringify(v)),
      source: 'egress',
      time: eventTime(v, ['time', 'ts', 'timestamp'], receivedAt),
      receivedAt,
      data: v,
    };
  });
}
