import { UserInputError } from '../../core/errors.js';
import { contentId, eventTime, type IngestEvent, isRecord, nativeId } from './types.js';

/**
 * Kubernetes API server audit webhook backend: POSTs an `audit.k8s.io/v1` `EventList`. An audit ID appears once
 * per stage (RequestReceived, ResponseStarted, ResponseComplete, Panic), so the id is auditID + stage.
 */
export function parseK8sAudit(text: string, receivedAt: number): IngestEvent[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new UserInputError('Kubernetes audit: body is not JSON');
  }
  if (!isRecord(body) || body.kind !== 'EventList' || body.apiVersion !== 'audit.k8s.io/v1') {
    throw new UserInputError('Kubernetes audit: expected kind EventList, apiVersion audit.k8s.io/v1');
  }
  if (!Array.isArray(body.items)) throw new UserInputError('Kubernetes audit: items is not an array');
  return body.items.map((item, i) => {
    if (!isRecord(item) || item.kind !== 'Event')
      throw new UserInputError(`Kubernetes audit: item ${i} is not an Event`);
    const id =
      typeof item.auditID === 'string' && item.auditID
        ? nativeId('k8s_audit', `${item.auditID}/${String(item.stage ?? '')}`)
        : contentId('k8s_audit', JSON.stringify(item));
    return {
      id,
      source: 'k8s_audit',
      time: eventTime(item, ['stageTimestamp', 'requestReceivedTimestamp'], receivedAt),
      receivedAt,
      data: item,
    };
  });
}
