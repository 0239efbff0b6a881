import { HeadError } from './parse.js';

enum S {
  Size,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  LineStart,
  Trailer,
  TrailerLf,
  EndLf,
}

/** Bounds: a chunk-size line (with extensions) and the whole trailer section. */
const MAX_SIZE_LINE = 4096;
const MAX_TRAILERS = 16 * 1024;
/** 2^52: beyond that a size no longer fits exactly in a double. */
const MAX_HEX_DIGITS = 13;

/**
 * Finds where a chunked body ends (RFC 9112 §7.1) while the bytes are relayed unchanged. Strict: hex sizes
 * without leading whitespace, CRLF after every line and every chunk, bounded size lines and trailers. Data bytes
 * are reported to `onData` (to count them, or to decode the body for an HTTP/1.0 client).
 */
export class ChunkedScanner {
  private state = S.Size;
  private remaining = 0;
  private digits = 0;
  private lineBytes = 0;
  private trailerBytes = 0;

  constructor(
    private readonly status: number,
    private readonly onData: (buf: Buffer, start: number, end: number) => void,
  ) {}

  private fail(detail: string): never {
    throw new HeadError(this.status, this.status === 400 ? 'malformed_request' : 'upstream_bad_response', detail);
  }

  /** Scans `buf` from `start`; returns the index just past the body's end, or -1 when it needs more bytes. */
  feed(buf: Buffer, start: number): number {
    let i = start;
    const n = buf.length;
    while (i < n) {
      switch (this.state) {
        case S.Data: {
          const take = Math.min(this.remaining, n - i);
          this.onData(buf, i, i + take);
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = S.DataCr;
          continue;
        }
        case S.Size: {
          const c = buf[i]!;
          const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (v >= 0) {
            if (++this.digits > MAX_HEX_DIGITS) this.fail('chunk size too large');
            this.remaining = this.remaining * 16 + v;
          } else if (this.digits === 0) this.fail('invalid chunk size');
          else if (c === 59) this.state = S.Ext;
          else if (c === 13) this.state = S.SizeLf;
          else this.fail('invalid chunk size');
          break;
        }
        case S.Ext: {
          const c = buf[i]!;
          if (c === 13) this.state = S.SizeLf;
          else if (c === 10 || c === 0 || ++this.lineBytes > MAX_SIZE_LINE) this.fail('invalid chunk extension');
          break;
        }
        case S.SizeLf:
          if (buf[i] !== 10) this.fail('chunk size line not ended by CRLF');
          this.digits = 0;
          this.lineBytes = 0;
          this.state = this.remaining === 0 ? S.LineStart : S.Data;
          break;
        case S.DataCr:
          if (buf[i] !== 13) this.fail('chunk data not followed by CRLF');
          this.state = S.DataLf;
          break;
        case S.DataLf:
          if (buf[i] !== 10) this.fail('chunk data not followed by CRLF');
          this.state = S.Size;
          break;
        case S.LineStart:
          if (buf[i] === 13) this.state = S.EndLf;
          else if (buf[i] === 10) this.fail('bare LF in trailers');
          else this.state = S.Trailer;
          if (++this.trailerBytes > MAX_TRAILERS) this.fail('trailers too large');
          break;
        case S.Trailer: {
          const c = buf[i]!;
          if (c === 13) this.state = S.TrailerLf;
          else if (c === 10 || c === 0) this.fail('invalid trailer line');
          if (++this.trailerBytes > MAX_TRAILERS) this.fail('trailers too large');
          break;
        }
        case S.TrailerLf:
          if (buf[i] !== 10) this.fail('bare CR in trailers');
          this.state = S.LineStart;
          break;
        case S.EndLf:
          if (buf[i] !== 10) this.fail('chunked body not ended by CRLF');
          return i + 1;
      }
      i++;
    }
    return -1;
  }
}
