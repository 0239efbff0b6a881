import type { Duplex } from 'node:stream';
import type { AccessLogEntry } from './observe.js';
import type { Decision, RequestKind } from './policy.js';

/** The proxy's own answers (refusals and errors) and the per-request log entry they end up in. */

export const REASON_HEADER = 'X-Palisade-Reason';

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * A complete HTTP/1.1 answer with `X-Palisade-Reason` and a JSON body. `close` adds `Connection: close` (the
 * caller then closes); without it the client connection stays usable.
 */
export function rawResponse(status: number, decision: Decision, close = true): string {
  const text = STATUS_TEXT[status] ?? 'Error';
  const body = JSON.stringify({
    error: STATUS_TEXT[status] ?? 'error',
    reason: decision.reason,
    detail: decision.detail,
  });
  const auth = status === 407 ? 'Proxy-Authenticate: Basic realm="palisade", Bearer realm="palisade"\r\n' : '';
  return (
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    `${REASON_HEADER}: ${decision.reason}\r\n${auth}${close ? 'Connection: close\r\n' : ''}\r\n${body}`
  );
}

/** Sends a last answer and closes; the client may keep its half open, so do not wait for it (fd reclaim). */
export function endThenDestroy(socket: Duplex, data: string): void {
  socket.end(data, () => socket.destroy());
}

/** The HTTP status for a denial reason. */
export function statusFor(reason: string): number {
  if (reason === 'upstream_connect_timeout' || reason === 'resolve_timeout') return 504;
  if (reason === 'upstream_connect_failed' || reason === 'resolve_failed') return 502;
  return 403;
}

/** Per-request state that ends up as the access log line. */
export class Entry {
  readonly started = performance.now();
  readonly line: AccessLogEntry;
  constructor(type: RequestKind, src: string, method: string) {
    this.line = {
      time: new Date().toISOString(),
      type,
      src,
      client: null,
      policy: null,
      method,
      host: null,
      port: null,
      address: null,
      decision: 'deny',
      reason: 'bad_request',
      status: 0,
      bytesUp: 0,
      bytesDown: 0,
      durationMs: 0,
    };
  }
  decide(decision: Decision, mode: 'enforce' | 'report' = 'enforce'): void {
    this.line.decision = decision.allow ? 'allow' : mode === 'report' ? 'report' : 'deny';
    this.line.reason = decision.reason;
    if (decision.detail !== undefined) this.line.detail = decision.detail;
  }
}
