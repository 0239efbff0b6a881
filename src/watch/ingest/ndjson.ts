import { UserInputError } from '../../core/errors.js';
import { parseJsonOrNdjson } from './body.js';
import { contentId, eventTime, type IngestEvent, isRecord, nativeId } from './types.js';

/** Time fields tried in order for generic JSON events. */
const TIME_FIELDS = ['time', '@timestamp', 'timestamp', 'ts', 'eventTime'];

/**
 * Generic HTTP events: NDJSON, a JSON array, or one object. The id is the event's string `id` field when present
 * (so retries dedupe by the sender's own id), else a hash of the event.
 */
export function parseHttpEvents(source: string, text: string, receivedAt: number): IngestEvent[] {
  return parseJsonOrNdjson(text).map((v, i) => {
    if (!isRecord(v)) throw new UserInputError(`event ${i + 1}: expected a JSON object`);
    const id =
      typeof v.id === 'string' && v.id.length > 0 && v.id.length <= 256
        ? nativeId(source, v.id)
        : contentId(source, JSON.stringify(v));
    return { id, source, time: eventTime(v, TIME_FIELDS, receivedAt), receivedAt, data: v };
  });
}
