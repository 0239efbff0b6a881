/** Syslog message parsers: RFC 5424 and RFC 3164 (BSD), and RFC 6587 TCP framing. Pure functions. */

export interface SyslogRecord {
  format: 'rfc5424' | 'rfc3164' | 'unparsed';
  facility: number;
  severity: number;
  /** ISO 8601, when the message carried a usable time. */
  timestamp?: string;
  hostname?: string;
  appName?: string;
  procId?: string;
  msgId?: string;
  structuredData?: Record<string, Record<string, string>>;
  message: string;
  /** The message exactly as received (after framing). */
  raw: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Parses one syslog message; `receivedAt` completes RFC 3164's year-less timestamps. Never throws. */
export function parseSyslog(raw: string, receivedAt: number): SyslogRecord {
  const m = /^<(\d{1,3})>/.exec(raw);
  const pri = m ? Number(m[1]) : Number.NaN;
  if (!m || pri > 191) {
    // RFC 3164 §4.3.3: no valid PRI → user.notice (13) and the whole packet is the message.
    return { format: 'unparsed', facility: 1, severity: 5, message: raw, raw };
  }
  const rest = raw.slice(m[0].length);
  const base = { facility: pri >> 3, severity: pri & 7, raw };
  if (/^[1-9]\d? /.test(rest)) {
    const r = parse5424(rest);
    if (r) return { ...base, format: 'rfc5424', ...r };
  }
  return { ...base, format: 'rfc3164', ...parse3164(rest, receivedAt) };
}

const nil = (s: string | undefined) => (s === undefined || s === '-' ? undefined : s);

function parse5424(s: string): Omit<SyslogRecord, 'format' | 'facility' | 'severity' | 'raw'> | null {
  // VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID, each separated by one space.
  const head = /^[1-9]\d? (\S+) (\S{1,255}) (\S{1,48}) (\S{1,128}) (\S{1,32}) /.exec(`${s} `);
  if (!head) return null;
  const [, ts, host, app, proc, msgId] = head;
  let timestamp: string | undefined;
  if (ts !== '-') {
    const t = Date.parse(ts!);
    if (Number.isNaN(t) || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$/.test(ts!)) return null;
    timestamp = new Date(t).toISOString();
  }
  let i = head[0].length;
  if (i > s.length)
    return { timestamp, hostname: nil(host), appName: nil(app), procId: nil(proc), msgId: nil(msgId), message: '' };
  const sd: Record<string, Record<string, string>> = {};
  if (s[i] === '-') {
    i++;
  } else if (s[i] === '[') {
    while (s[i] === '[') {
      const end = parseSdElement(s, i, sd);
      if (end < 0) return null;
      i = end;
    }
  } else {
    return null;
  }
  let message = s[i] === ' ' ? s.slice(i + 1) : s.slice(i);
  if (message.startsWith('\uFEFF')) message = message.slice(1); // UTF-8 BOM marks a UTF-8 MSG
  return {
    timestamp,
    hostname: nil(host),
    appName: nil(app),
    procId: nil(proc),
    msgId: nil(msgId),
    ...(Object.keys(sd).length > 0 ? { structuredData: sd } : {}),
    message,
  };
}

/** `[id k="v" k2="v\"2"]` → sd[id] = {k: v}. Returns the index after `]`, or -1 if malformed. */
function parseSdElement(s: string, start: number, sd: Record<string, Record<string, string>>): number {
  const idm = /^\[([^ =\]"]{1,32})/.exec(s.slice(start, start + 34));
  if (!idm) return -1;
  const params: Record<string, string> = {};
  let i = start + idm[0].length;
  for (;;) {
    if (s[i] === ']') break;
    if (s[i] !== ' ') return -1;
    i++;
    const nm = /^([^ =\]"]{1,32})="/.exec(s.slice(i, i + 35));
    if (!nm) return -1;
    i += nm[0].length;
    let value = '';
    for (;;) {
      const c = s[i];
      if (c === undefined) return -1;
      if (c === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\' || s[i + 1] === ']')) {
        value += s[i + 1];
        i += 2;
      } else if (c === '"') {
        i++;
        break;
      } else {
        value += c;
        i++;
      }
    }
    params[nm[1]!] = value;
  }
  sd[idm[1]!] = { ...sd[idm[1]!], ...params };
  return i + 1;
}

function parse3164(s: string, receivedAt: number): Omit<SyslogRecord, 'format' | 'facility' | 'severity' | 'raw'> {
  let timestamp: string | undefined;
  let rest = s;
  const bsd = /^([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d) /.exec(s);
  const iso = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) /.exec(s);
  if (bsd && MONTHS.includes(bsd[1]!)) {
    // No year and no zone in RFC 3164: take the receive year (UTC), or the previous one if that lands in the future.
    const now = new Date(receivedAt);
    const month = MONTHS.indexOf(bsd[1]!);
    const [d, hh, mm, ss] = [Number(bsd[2]), Number(bsd[3]), Number(bsd[4]), Number(bsd[5])];
    let t = Date.UTC(now.getUTCFullYear(), month, d, hh, mm, ss);
    if (t > receivedAt + 7 * 86_400_000) t = Date.UTC(now.getUTCFullYear() - 1, month, d, hh, mm, ss);
    timestamp = new Date(t).toISOString();
    rest = s.slice(bsd[0].length);
  } else if (iso) {
    // Many modern senders put an RFC 3339 time in the BSD layout.
    timestamp = new Date(Date.parse(iso[1]!)).toISOString();
    rest = s.slice(iso[0].length);
  } else {
    return { message: s };
  }
  const hm = /^(\S+) /.exec(rest);
  let hostname: string | undefined;
  if (hm && !/[:[\]]/.test(hm[1]!)) {
    hostname = hm[1];
    rest = rest.slice(hm[0].length);
  }
  // TAG: alphanumerics up to 32 chars (often a program name), optional [pid], then ':'.
  const tm = /^([^\s:[\]]{1,48})(?:\[([^\]\s]{1,32})\])?: ?/.exec(rest);
  if (tm) {
    return {
      timestamp,
      hostname,
      appName: tm[1],
      ...(tm[2] ? { procId: tm[2] } : {}),
      message: rest.slice(tm[0].length),
    };
  }
  return { timestamp, hostname, message: rest };
}

/**
 * RFC 6587 TCP framing, detected per message: octet counting (`LEN SP MSG`, a message starts with a digit) or
 * non-transparent framing (a message ends with LF; CR LF is accepted). Bounded: a frame longer than
 * `maxBytes` is an error (the caller closes the connection).
 */
export class SyslogFramer {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): string[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: string[] = [];
    for (;;) {
      if (this.buf.length === 0) break;
      const first = this.buf[0]!;
      if (first >= 0x30 && first <= 0x39) {
        const sp = this.buf.indexOf(0x20);
        if (sp < 0) {
          if (this.buf.length > 10) throw new Error('syslog octet count: no space after length');
          break;
        }
        const lenText = this.buf.subarray(0, sp).toString('ascii');
        if (!/^[1-9]\d{0,9}$/.test(lenText)) throw new Error('syslog octet count: bad length');
        const len = Number(lenText);
        if (len > this.maxBytes) throw new Error(`syslog frame of ${len} bytes exceeds ${this.maxBytes}`);
        if (this.buf.length < sp + 1 + len) break;
        // Senders often count a trailing LF into the frame (rsyslog's RFC 5424 template ends with one): drop it.
        out.push(
          this.buf
            .subarray(sp + 1, sp + 1 + len)
            .toString('utf8')
            .replace(/\r?\n$/, ''),
        );
        this.buf = this.buf.subarray(sp + 1 + len);
      } else {
        const nl = this.buf.indexOf(0x0a);
        if (nl < 0) {
          if (this.buf.length > this.maxBytes) throw new Error(`syslog line exceeds ${this.maxBytes} bytes`);
          break;
        }
        let line = this.buf.subarray(0, nl).toString('utf8');
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (line) out.push(line);
        this.buf = this.buf.subarray(nl + 1);
      }
    }
    return out;
  }

  /** A trailing unterminated line at connection close is still a message. */
  end(): string[] {
    const rest = this.buf.toString('utf8').replace(/\r?\n?$/, '');
    this.buf = Buffer.alloc(0);
    return rest && !/^\d/.test(rest) ? [rest] : [];
  }
}
