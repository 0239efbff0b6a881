/**
 * Strict, bounded HTTP/1.1 message-head parsing for the forward proxy (RFC 9112). A proxy that reads framing
 * differently from the server behind it can be used to smuggle requests, so anything ambiguous is refused
 * rather than repaired: both Content-Length and Transfer-Encoding, repeated or non-numeric Content-Length,
 * a request Transfer-Encoding other than exactly "chunked", obs-fold, whitespace before a colon, bare CR or LF,
 * control characters. Heads are parsed from one latin1 string; bodies are never parsed here (see chunked.ts).
 */

/** A refusal while reading a message head: the status to answer (or 502 for an upstream) and a reason code. */
export class HeadError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    detail: string,
  ) {
    super(detail);
  }
}

export interface Headers {
  /** As received, for forwarding. */
  readonly names: string[];
  /** Lower-cased names, same order. */
  readonly lower: string[];
  readonly values: string[];
}

export interface RequestHead extends Headers {
  method: string;
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: 0 | 1;
}

export interface ResponseHead extends Headers {
  status: number;
  /** The status line as received, re-sent verbatim. */
  statusLine: string;
  minor: 0 | 1;
}

/** How a message body is delimited. */
export type Framing =
  | { kind: 'none' }
  | { kind: 'length'; length: number }
  | { kind: 'chunked' }
  /** Responses only: the body runs until the upstream closes. */
  | { kind: 'close' };

/** At most this many header fields in one head (431 beyond). */
export const MAX_HEADER_COUNT = 256;

const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([^\x00-\x20\x7f]+) HTTP\/1\.([01])$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9][0-9]{2})(?: [^\x00-\x08\x0a-\x1f\x7f]*)?$/;
/** field-name ":" OWS field-value OWS; the value excludes CTLs except HTAB (obs-text is allowed, RFC 9110 §5.5). */
const FIELD = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*?)[ \t]*$/;
const DIGITS = /^[0-9]{1,15}$/;
const BARE_CR = /\r(?!\n)/;

/**
 * Where the head ends in `buf` (the index just past CRLFCRLF), -1 when more bytes are needed. Throws on a bare
 * LF (a line ending other than CRLF), so such heads are refused at once instead of waiting for the limit.
 * `from` is where the bytes not yet scanned start.
 */
export function findHeadEnd(buf: Buffer, from: number): number {
  for (let i = buf.indexOf(10, from); i !== -1; i = buf.indexOf(10, i + 1)) {
    if (i === 0 || buf[i - 1] !== 13) throw new HeadError(400, 'malformed_request', 'bare LF in message head');
    if (i >= 3 && buf[i - 2] === 10 && buf[i - 3] === 13) return i + 1;
  }
  return -1;
}

function parseFields(lines: string[], status: number, into: Headers): void {
  const bad = status === 400 ? 'malformed_request' : 'upstream_bad_response';
  if (lines.length - 1 > MAX_HEADER_COUNT) {
    throw new HeadError(status === 400 ? 431 : status, 'headers_too_large', `more than ${MAX_HEADER_COUNT} fields`);
  }
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const m = FIELD.exec(line);
    if (!m) {
      const c = line.charCodeAt(0);
      throw new HeadError(status, bad, c === 32 || c === 9 ? 'obs-fold (line folding)' : 'invalid header field');
    }
    into.names.push(m[1]!);
    into.lower.push(m[1]!.toLowerCase());
    into.values.push(m[2]!);
  }
}

/** Splits a head (ending in CRLFCRLF) into lines; a CR left inside a line is a bare CR and is refused. */
function lines(head: string, status: number): string[] {
  if (BARE_CR.test(head)) {
    throw new HeadError(status, status === 400 ? 'malformed_request' : 'upstream_bad_response', 'bare CR');
  }
  return head.slice(0, -4).split('\r\n');
}

/** Parses a request head: `buf[0, end)` ends with CRLFCRLF (from findHeadEnd). */
export function parseRequestHead(buf: Buffer, end: number): RequestHead {
  const ls = lines(buf.toString('latin1', 0, end), 400);
  const m = REQUEST_LINE.exec(ls[0]!);
  if (!m) throw new HeadError(400, 'malformed_request', 'invalid request line');
  const head: RequestHead = {
    method: m[1]!,
    target: m[2]!,
    minor: m[3] === '1' ? 1 : 0,
    names: [],
    lower: [],
    values: [],
  };
  parseFields(ls, 400, head);
  let hosts = 0;
  for (const n of head.lower) if (n === 'host') hosts++;
  if (hosts > 1 || (hosts === 0 && head.minor === 1)) {
    throw new HeadError(400, 'malformed_request', hosts > 1 ? 'more than one Host' : 'Host header required');
  }
  return head;
}

/** Parses a response head from an upstream; anything wrong is a 502. */
export function parseResponseHead(buf: Buffer, end: number): ResponseHead {
  const ls = lines(buf.toString('latin1', 0, end), 502);
  const m = STATUS_LINE.exec(ls[0]!);
  if (!m) throw new HeadError(502, 'upstream_bad_response', 'invalid status line');
  const head: ResponseHead = {
    status: Number(m[2]),
    statusLine: ls[0]!,
    minor: m[1] === '1' ? 1 : 0,
    names: [],
    lower: [],
    values: [],
  };
  parseFields(ls, 502, head);
  return head;
}

/** The first value of a header (lower-case name), or undefined. */
export function header(h: Headers, lower: string): string | undefined {
  const i = h.lower.indexOf(lower);
  return i === -1 ? undefined : h.values[i];
}

/** Comma-separated tokens of every `lower` header, lower-cased. */
export function tokens(h: Headers, lower: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < h.lower.length; i++) {
    if (h.lower[i] !== lower) continue;
    for (const t of h.values[i]!.split(',')) {
      const v = t.trim().toLowerCase();
      if (v) out.push(v);
    }
  }
  return out;
}

function lengthAndCodings(h: Headers, status: number, reason: string): { lengths: string[]; codings: string[] | null } {
  const lengths: string[] = [];
  let codings: string[] | null = null;
  for (let i = 0; i < h.lower.length; i++) {
    const n = h.lower[i];
    if (n === 'content-length') lengths.push(h.values[i]!);
    else if (n === 'transfer-encoding') {
      codings ??= [];
      for (const t of h.values[i]!.split(',')) codings.push(t.trim().toLowerCase());
    }
  }
  if (codings !== null && lengths.length > 0) {
    throw new HeadError(status, reason, 'both Content-Length and Transfer-Encoding');
  }
  if (lengths.length > 1) throw new HeadError(status, reason, 'more than one Content-Length');
  if (lengths.length === 1 && !DIGITS.test(lengths[0]!)) throw new HeadError(status, reason, 'invalid Content-Length');
  return { lengths, codings };
}

/** Request body framing (RFC 9112 §6.3), refusing every ambiguous form with 400. */
export function requestFraming(head: RequestHead): Framing {
  const { lengths, codings } = lengthAndCodings(head, 400, 'ambiguous_framing');
  if (codings !== null) {
    if (head.minor === 0) throw new HeadError(400, 'ambiguous_framing', 'Transfer-Encoding in an HTTP/1.0 request');
    if (codings.length !== 1 || codings[0] !== 'chunked') {
      throw new HeadError(400, 'ambiguous_framing', 'request Transfer-Encoding must be exactly "chunked"');
    }
    return { kind: 'chunked' };
  }
  if (lengths.length === 1) {
    const length = Number(lengths[0]);
    return length === 0 ? { kind: 'none' } : { kind: 'length', length };
  }
  return { kind: 'none' };
}

/** Response body framing for a request `method`; ambiguous responses are refused with 502. */
export function responseFraming(head: ResponseHead, method: string): Framing {
  const { lengths, codings } = lengthAndCodings(head, 502, 'upstream_bad_response');
  if (method === 'HEAD' || head.status < 200 || head.status === 204 || head.status === 304) return { kind: 'none' };
  if (codings !== null) {
    if (head.minor === 0 || codings[codings.length - 1] !== 'chunked') {
      throw new HeadError(502, 'upstream_bad_response', 'response Transfer-Encoding does not end in "chunked"');
    }
    return { kind: 'chunked' };
  }
  if (lengths.length === 1) return { kind: 'length', length: Number(lengths[0]) };
  return { kind: 'close' };
}
