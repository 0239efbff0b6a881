import { describe, expect, it } from 'vitest';
import { ChunkedScanner } from '../../src/egress/http1/chunked.js';
import {
  findHeadEnd,
  HeadError,
  parseRequestHead,
  parseResponseHead,
  requestFraming,
  responseFraming,
} from '../../src/egress/http1/parse.js';

function request(text: string) {
  const buf = Buffer.from(text, 'latin1');
  const end = findHeadEnd(buf, 0);
  if (end === -1) throw new Error('test head is incomplete');
  const head = parseRequestHead(buf, end);
  return { head, framing: requestFraming(head) };
}

function refusal(fn: () => unknown): { status: number; reason: string; detail: string } | 'accepted' {
  try {
    fn();
    return 'accepted';
  } catch (err) {
    if (!(err instanceof HeadError)) throw err;
    return { status: err.status, reason: err.reason, detail: err.message };
  }
}

const GET = 'GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n';

describe('http1 request heads: smuggling and malformed forms are refused with 400', () => {
  const table: Array<[string, string, string]> = [
    [
      'Content-Length and Transfer-Encoding',
      `${GET}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n`,
      'ambiguous_framing',
    ],
    [
      'Transfer-Encoding and Content-Length',
      `${GET}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n`,
      'ambiguous_framing',
    ],
    ['two equal Content-Length headers', `${GET}Content-Length: 5\r\nContent-Length: 5\r\n\r\n`, 'ambiguous_framing'],
    [
      'two different Content-Length headers',
      `${GET}Content-Length: 5\r\nContent-Length: 6\r\n\r\n`,
      'ambiguous_framing',
    ],
    ['Content-Length list', `${GET}Content-Length: 5, 5\r\n\r\n`, 'ambiguous_framing'],
    ['signed Content-Length', `${GET}Content-Length: +5\r\n\r\n`, 'ambiguous_framing'],
    ['negative Content-Length', `${GET}Content-Length: -1\r\n\r\n`, 'ambiguous_framing'],
    ['hex Content-Length', `${GET}Content-Length: 0x10\r\n\r\n`, 'ambiguous_framing'],
    ['empty Content-Length', `${GET}Content-Length:\r\n\r\n`, 'ambiguous_framing'],
    ['huge Content-Length', `${GET}Content-Length: 12345678901234567890\r\n\r\n`, 'ambiguous_framing'],
    [
      'Transfer-Encoding not ending in chunked',
      `${GET}Transfer-Encoding: chunked, identity\r\n\r\n`,
      'ambiguous_framing',
    ],
    ['Transfer-Encoding gzip, chunked', `${GET}Transfer-Encoding: gzip, chunked\r\n\r\n`, 'ambiguous_framing'],
    [
      'Transfer-Encoding split over two headers',
      `${GET}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n`,
      'ambiguous_framing',
    ],
    ['Transfer-Encoding xchunked', `${GET}Transfer-Encoding: xchunked\r\n\r\n`, 'ambiguous_framing'],
    ['Transfer-Encoding with a vertical tab', `${GET}Transfer-Encoding: \x0bchunked\r\n\r\n`, 'malformed_request'],
    [
      'Transfer-Encoding in HTTP/1.0',
      'POST http://a.test/ HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n',
      'ambiguous_framing',
    ],
    ['obs-fold continuation line', `${GET}X-A: 1\r\n  folded\r\n\r\n`, 'malformed_request'],
    ['obs-fold hiding Transfer-Encoding', `${GET}X-A: 1\r\n\tTransfer-Encoding: chunked\r\n\r\n`, 'malformed_request'],
    ['whitespace before the colon', `${GET}Transfer-Encoding : chunked\r\n\r\n`, 'malformed_request'],
    ['bare CR inside a value', `${GET}X-A: 1\rTransfer-Encoding: chunked\r\n\r\n`, 'malformed_request'],
    ['NUL in a value', `${GET}X-A: a\x00b\r\n\r\n`, 'malformed_request'],
    ['header line without a colon', `${GET}NoColon\r\n\r\n`, 'malformed_request'],
    ['empty header name', `${GET}: value\r\n\r\n`, 'malformed_request'],
    ['two Host headers', `${GET}Host: b.test\r\n\r\n`, 'malformed_request'],
    ['HTTP/1.1 without Host', 'GET http://a.test/ HTTP/1.1\r\n\r\n', 'malformed_request'],
    ['unknown version', 'GET http://a.test/ HTTP/2.0\r\nHost: a.test\r\n\r\n', 'malformed_request'],
    ['lower-case version', 'GET http://a.test/ http/1.1\r\nHost: a.test\r\n\r\n', 'malformed_request'],
    ['two spaces in the request line', 'GET  http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n', 'malformed_request'],
    ['tab in the request line', 'GET\thttp://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n', 'malformed_request'],
    ['control character in the target', 'GET http://a.test/\x01 HTTP/1.1\r\nHost: a.test\r\n\r\n', 'malformed_request'],
    ['leading empty line', `\r\n${GET}\r\n`, 'malformed_request'],
  ];
  it.each(table)('%s', (_name, text, reason) => {
    expect(refusal(() => request(text))).toMatchObject({ status: 400, reason });
  });

  it('a bare LF line ending is refused as soon as it is seen, before the head is complete', () => {
    expect(refusal(() => findHeadEnd(Buffer.from('GET http://a.test/ HTTP/1.1\nHost: a'), 0))).toMatchObject({
      status: 400,
      reason: 'malformed_request',
    });
    expect(refusal(() => findHeadEnd(Buffer.from(`${GET}\n`), 0))).toMatchObject({ status: 400 });
  });

  it('more than 256 header fields is 431', () => {
    const many = Array.from({ length: 257 }, (_, i) => `X-${i}: v\r\n`).join('');
    expect(refusal(() => request(`${GET}${many}\r\n`))).toMatchObject({ status: 431, reason: 'headers_too_large' });
  });
});

describe('http1 request heads: accepted forms', () => {
  it('parses method, target, version and fields, keeping names as sent and values without OWS', () => {
    const { head, framing } = request(
      `POST http://a.test:8080/p?q=1 HTTP/1.1\r\nHost: a.test:8080\r\nX-Mixed-Case:  v a l \t\r\nContent-Length: 12\r\n\r\n`,
    );
    expect(head).toMatchObject({ method: 'POST', target: 'http://a.test:8080/p?q=1', minor: 1 });
    expect(head.names).toEqual(['Host', 'X-Mixed-Case', 'Content-Length']);
    expect(head.lower).toEqual(['host', 'x-mixed-case', 'content-length']);
    expect(head.values).toEqual(['a.test:8080', 'v a l', '12']);
    expect(framing).toEqual({ kind: 'length', length: 12 });
  });

  const framings: Array<[string, string, unknown]> = [
    ['no body headers', `${GET}\r\n`, { kind: 'none' }],
    ['Content-Length: 0', `${GET}Content-Length: 0\r\n\r\n`, { kind: 'none' }],
    ['chunked (any case)', `${GET}Transfer-Encoding: Chunked\r\n\r\n`, { kind: 'chunked' }],
    ['HTTP/1.0 without Host', 'GET http://a.test/ HTTP/1.0\r\n\r\n', { kind: 'none' }],
    ['obs-text in a value', `${GET}X-A: caf\xe9\r\n\r\n`, { kind: 'none' }],
  ];
  it.each(framings)('%s -> framing %j', (_name, text, framing) => {
    expect(request(text).framing).toEqual(framing);
  });
});

function response(text: string, method = 'GET') {
  const buf = Buffer.from(text, 'latin1');
  const end = findHeadEnd(buf, 0);
  const head = parseResponseHead(buf, end);
  return { head, framing: responseFraming(head, method) };
}

describe('http1 response heads', () => {
  const framings: Array<[string, string, string, unknown]> = [
    ['Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n', 'GET', { kind: 'length', length: 3 }],
    ['chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'GET', { kind: 'chunked' }],
    ['gzip, chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 'GET', { kind: 'chunked' }],
    ['neither: until close', 'HTTP/1.1 200 OK\r\n\r\n', 'GET', { kind: 'close' }],
    ['HEAD with Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n', 'HEAD', { kind: 'none' }],
    ['204', 'HTTP/1.1 204 No Content\r\n\r\n', 'GET', { kind: 'none' }],
    ['304 with Content-Length', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n', 'GET', { kind: 'none' }],
    ['100 Continue', 'HTTP/1.1 100 Continue\r\n\r\n', 'POST', { kind: 'none' }],
    ['empty reason phrase', 'HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n', 'GET', { kind: 'length', length: 0 }],
    ['no reason phrase', 'HTTP/1.0 200\r\nContent-Length: 1\r\n\r\n', 'GET', { kind: 'length', length: 1 }],
  ];
  it.each(framings)('%s (%s) -> %j', (_n, text, method, framing) => {
    expect(response(text, method).framing).toEqual(framing);
  });

  const refused: Array<[string, string]> = [
    [
      'Content-Length and Transfer-Encoding',
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
    ],
    ['two Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n'],
    ['invalid Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 3x\r\n\r\n'],
    ['Transfer-Encoding not ending in chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n'],
    ['Transfer-Encoding from an HTTP/1.0 server', 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['invalid status line', 'HTTP/1.1 2000 OK\r\n\r\n'],
    ['status 099', 'HTTP/1.1 099 X\r\n\r\n'],
    ['not HTTP', 'SSH-2.0-OpenSSH\r\n\r\n'],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nX-A: 1\r\n b\r\n\r\n'],
  ];
  it.each(refused)('%s -> 502', (_n, text) => {
    expect(refusal(() => response(text))).toMatchObject({ status: 502, reason: 'upstream_bad_response' });
  });
});

/** Feeds `bytes` to a scanner split at `at` (two feeds), returning the end index in the whole input and the data. */
function scan(bytes: string, at: number): { end: number; data: string } {
  const whole = Buffer.from(bytes, 'latin1');
  let data = '';
  const s = new ChunkedScanner(400, (b, start, end) => {
    data += b.toString('latin1', start, end);
  });
  const first = whole.subarray(0, at);
  const e1 = s.feed(first, 0);
  if (e1 !== -1) return { end: e1, data };
  const e2 = s.feed(whole.subarray(at), 0);
  return { end: e2 === -1 ? -1 : at + e2, data };
}

describe('http1 chunked bodies', () => {
  const valid: Array<[string, string, string]> = [
    ['one chunk', '5\r\nhello\r\n0\r\n\r\n', 'hello'],
    ['two chunks, upper-case hex', 'A\r\n0123456789\r\n1\r\n!\r\n0\r\n\r\n', '0123456789!'],
    ['extensions', '5;name=value;x\r\nhello\r\n0;last\r\n\r\n', 'hello'],
    ['trailers', '3\r\nabc\r\n0\r\nX-Sum: 1\r\nX-Other: 2\r\n\r\n', 'abc'],
    ['empty body', '0\r\n\r\n', ''],
  ];
  it.each(valid)('%s: the end is found wherever the bytes are split', (_n, body, data) => {
    const tail = 'GET next';
    for (let at = 0; at <= body.length; at++) {
      expect(scan(body + tail, at), `split at ${at}`).toEqual({ end: body.length, data });
    }
  });

  it('an incomplete body asks for more', () => {
    expect(scan('5\r\nhel', 2).end).toBe(-1);
    expect(scan('5\r\nhello\r\n0\r\n', 4).end).toBe(-1);
  });

  const invalid: Array<[string, string]> = [
    ['non-hex size', 'g\r\n'],
    ['space before the size', ' 5\r\nhello\r\n0\r\n\r\n'],
    ['space after the size', '5 \r\nhello\r\n0\r\n\r\n'],
    ['bare LF after the size', '5\nhello\r\n0\r\n\r\n'],
    ['data longer than its size', '3\r\nhello\r\n0\r\n\r\n'],
    ['missing CRLF after data', '5\r\nhello0\r\n\r\n'],
    ['size beyond 2^52', '10000000000000\r\n'],
    ['negative size', '-5\r\n'],
    ['bare LF ending the trailers', '0\r\nX: 1\r\n\n'],
    ['bare CR in a trailer', '0\r\nX: 1\rY\r\n\r\n'],
    ['NUL in an extension', '5;a\x00b\r\nhello\r\n0\r\n\r\n'],
  ];
  it.each(invalid)('%s is refused', (_n, body) => {
    expect(refusal(() => scan(body, body.length))).toMatchObject({ status: 400, reason: 'malformed_request' });
  });

  it('trailers are bounded', () => {
    const big = `0\r\n${'X-T: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(500)}\r\n`;
    expect(refusal(() => scan(big, big.length))).toMatchObject({ status: 400 });
  });
});
