import { createHmac, timingSafeEqual } from 'node:crypto';
import { postBody } from './http.js';
import type { Notifier, RecordedAlert } from './types.js';

export interface WebhookOptions {
  url: string;
  /** HMAC-SHA256 key shared with the receiver. */
  secret: string;
}

export const TIMESTAMP_HEADER = 'x-palisade-timestamp';
export const SIGNATURE_HEADER = 'x-palisade-signature';
export const DELIVERY_HEADER = 'x-palisade-delivery';

/**
 * Signature scheme (documented in docs/watch.md): `X-Palisade-Timestamp: <unix seconds>` and
 * `X-Palisade-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`. Signing the timestamp with the
 * body lets receivers refuse replays older than a tolerance.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface VerifyInput {
  secret: string;
  body: string;
  timestamp: string | undefined;
  signature: string | undefined;
  /** Max age (and clock skew) in seconds; default 300. */
  toleranceSec?: number;
  nowSec?: number;
}

/** Receiver-side check: constant-time compare, and the timestamp must be within the tolerance. */
export function verifyWebhook(input: VerifyInput): boolean {
  const { secret, body, timestamp, signature } = input;
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return false;
  const now = input.nowSec ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > (input.toleranceSec ?? 300)) return false;
  const expected = Buffer.from(signWebhook(secret, Number(timestamp), body));
  // Several signatures may be sent during key rotation, comma separated.
  return signature.split(',').some((s) => {
    const got = Buffer.from(s.trim());
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}

/** Body: `{"version":1,"delivery":"<id>","alert":{...}}`. */
export function webhookBody(alert: RecordedAlert, deliveryId: string): string {
  return JSON.stringify({ version: 1, delivery: deliveryId, alert });
}

export function webhookNotifier(options: WebhookOptions): Notifier {
  return {
    type: 'webhook',
    async send(alert, deliveryId) {
      const body = webhookBody(alert, deliveryId);
      const ts = Math.floor(Date.now() / 1000);
      await postBody(options.url, body, {
        headers: {
          [TIMESTAMP_HEADER]: String(ts),
          [SIGNATURE_HEADER]: signWebhook(options.secret, ts, body),
          [DELIVERY_HEADER]: deliveryId,
        },
      });
    },
  };
}
