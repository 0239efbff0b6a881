import { UserInputError } from '../../core/errors.js';
import { parseJsonOrNdjson } from './body.js';
import { contentId, eventTime, type IngestEvent, isRecord, nativeId } from './types.js';

/**
 * Falco `http_output` (with `json_output: true`): one alert per POST, `{output, priority, rule, time,
 * output_fields, source, tags, hostname, uuid}`. Falco ≥ 0.36 adds `uuid`; older alerts are hashed.
 */
export function parseFalco(text: string, receivedAt: number): IngestEvent[] {
  return parseJsonOrNdjson(text).map((v, i) => {
    if (!isRecord(v) || typeof v.rule !== 'string' || typeof v.output !== 'string') {
      throw new UserInputError(`Falco alert ${i + 1}: expected an object with rule and output (enable json_output)`);
    }
    const id = typeof v.uuid === 'string' && v.uuid ? nativeId('falco', v.uuid) : contentId('falco', JSON.stringify(v));
    return { id, source: 'falco', time: eventTime(v, ['time'], receivedAt), receivedAt, data: v };
  });
}
