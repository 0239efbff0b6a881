import { UserInputError } from '../../core/errors.js';
import { parseJsonOrNdjson } from './body.js';
import { contentId, eventTime, type IngestEvent, isRecord, nativeId } from './types.js';

/**
 * EventBridge API destination: the rule's target POSTs the event (or its input transformation) as the body.
 * Untransformed events carry `id`, `source`, `detail-type`, `time`, `account`, `region`, `detail`.
 */
export function parseEventBridge(text: string, receivedAt: number): IngestEvent[] {
  return parseJsonOrNdjson(text).map((v, i) => {
    if (!isRecord(v)) throw new UserInputError(`event ${i + 1}: expected an EventBridge event object`);
    const id =
      typeof v.id === 'string' && v.id ? nativeId('eventbridge', v.id) : contentId('eventbridge', JSON.stringify(v));
    return { id, source: 'eventbridge', time: eventTime(v, ['time'], receivedAt), receivedAt, data: v };
  });
}
