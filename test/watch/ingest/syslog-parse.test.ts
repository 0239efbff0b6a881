import { describe, expect, it } from 'vitest';
import { parseSyslog, SyslogFramer } from '../../../src/watch/ingest/index.js';

const RECEIVED = Date.UTC(2026, 2, 1, 12, 0, 0);

describe('syslog parsing: RFC 5424 §6.5 examples', () => {
  const cases: [string, string, Record<string, unknown>][] = [
    [
      'example 1: no structured data, BOM before MSG',
      "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \uFEFF'su root' failed for lonvick on /dev/pts/8",
      {
        format: 'rfc5424',
        facility: 4,
        severity: 2,
        timestamp: '2003-10-11T22:14:15.003Z',
        hostname: 'mymachine.example.com',
        appName: 'su',
        procId: undefined,
        msgId: 'ID47',
        message: "'su root' failed for lonvick on /dev/pts/8",
      },
    ],
    [
      'example 2: offset timezone, micro-seconds',
      "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
      {
        facility: 20,
        severity: 5,
        timestamp: '2003-08-24T12:14:15.000Z',
        hostname: '192.0.2.1',
        appName: 'myproc',
        procId: '8710',
        msgId: undefined,
        message: "%% It's time to make the do-nuts.",
      },
    ],
    [
      'example 3: structured data and a message',
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] \uFEFFAn application event log entry...',
      {
        appName: 'evntslog',
        msgId: 'ID47',
        structuredData: { 'exampleSDID@32473': { iut: '3', eventSource: 'Application', eventID: '1011' } },
        message: 'An application event log entry...',
      },
    ],
    [
      'example 4: two SD elements, no message',
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]',
      {
        structuredData: {
          'exampleSDID@32473': { iut: '3', eventSource: 'Application', eventID: '1011' },
          'examplePriority@32473': { class: 'high' },
        },
        message: '',
      },
    ],
    [
      'escaped quote, backslash and bracket in a param value',
      '<13>1 2026-01-02T03:04:05Z h app 1 m [x@1 a="q\\"b\\\\c\\]d"] msg',
      { structuredData: { 'x@1': { a: 'q"b\\c]d' } }, message: 'msg' },
    ],
    [
      'all-nil header',
      '<14>1 - - - - - - hello',
      { format: 'rfc5424', timestamp: undefined, hostname: undefined, appName: undefined, message: 'hello' },
    ],
  ];
  it.each(cases)('%s', (_n, raw, want) => {
    const r = parseSyslog(raw, RECEIVED);
    expect(r.raw).toBe(raw);
    expect(r).toMatchObject(want);
  });
});

describe('syslog parsing: RFC 3164 and lenient forms', () => {
  const cases: [string, string, Record<string, unknown>][] = [
    [
      'RFC 3164 §5.4 example 1',
      "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
      {
        format: 'rfc3164',
        facility: 4,
        severity: 2,
        timestamp: '2025-10-11T22:14:15.000Z',
        hostname: 'mymachine',
        appName: 'su',
        message: "'su root' failed for lonvick on /dev/pts/8",
      },
    ],
    [
      'RFC 3164 §5.4 example 4: tag with pid',
      "<0>Oct 22 10:52:12 scapegoat sched[0]: That's All Folks!",
      {
        facility: 0,
        severity: 0,
        timestamp: '2025-10-22T10:52:12.000Z',
        hostname: 'scapegoat',
        appName: 'sched',
        procId: '0',
        message: "That's All Folks!",
      },
    ],
    [
      'space-padded day in the current year',
      '<86>Feb  5 08:00:01 web1 sshd[4242]: Accepted publickey for deploy from 203.0.113.9',
      {
        timestamp: '2026-02-05T08:00:01.000Z',
        hostname: 'web1',
        appName: 'sshd',
        procId: '4242',
        message: 'Accepted publickey for deploy from 203.0.113.9',
      },
    ],
    [
      'RFC 3339 time in the BSD layout (rsyslog high-precision forwarding)',
      '<30>2026-03-01T11:59:58.123456+00:00 node7 kubelet[99]: pod started',
      {
        format: 'rfc3164',
        timestamp: '2026-03-01T11:59:58.123Z',
        hostname: 'node7',
        appName: 'kubelet',
        procId: '99',
        message: 'pod started',
      },
    ],
    [
      'RFC 3164 §5.4 example 3 as sent: no PRI',
      'Use the BFG!',
      { format: 'unparsed', facility: 1, severity: 5, message: 'Use the BFG!' },
    ],
    [
      'RFC 3164 §5.4 example 3 as relayed: IP address as hostname, no tag',
      '<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!',
      { format: 'rfc3164', timestamp: '2026-02-05T17:32:18.000Z', hostname: '10.0.0.99', message: 'Use the BFG!' },
    ],
    [
      'PRI but no valid timestamp: the rest is the message',
      '<13>Use the BFG!',
      { format: 'rfc3164', facility: 1, severity: 5, message: 'Use the BFG!' },
    ],
    [
      'no PRI: user.notice and the whole line',
      'plain text line',
      { format: 'unparsed', facility: 1, severity: 5, message: 'plain text line' },
    ],
    ['PRI out of range is not a PRI', '<192>1 - - - - - - x', { format: 'unparsed', message: '<192>1 - - - - - - x' }],
    [
      'a 5424 version with a malformed header falls back to 3164 handling',
      '<13>1 notatime host app - - - m',
      { format: 'rfc3164', message: '1 notatime host app - - - m' },
    ],
  ];
  it.each(cases)('%s', (_n, raw, want) => {
    expect(parseSyslog(raw, RECEIVED)).toMatchObject(want);
  });
});

describe('RFC 6587 TCP framing', () => {
  it('splits octet-counted and newline frames, across chunk boundaries, mixed on one stream', () => {
    const f = new SyslogFramer(1024);
    const a = '<13>1 - - - - - - one';
    const b = '<13>two\twith tab';
    const stream = Buffer.from(
      `${Buffer.byteLength(a)} ${a}${b}\r\n${Buffer.byteLength('<13>1 - - - - - - thr\u00e9e')} <13>1 - - - - - - thr\u00e9e<13>last`,
    );
    const out: string[] = [];
    for (let i = 0; i < stream.length; i += 3) out.push(...f.push(stream.subarray(i, i + 3)));
    out.push(...f.end());
    expect(out).toEqual([a, b, '<13>1 - - - - - - thr\u00e9e', '<13>last']);
  });
  it.each([
    ['an octet count above the bound', '99999 <13>x'],
    ['a non-numeric length', '12x <13>x'],
    ['a newline frame longer than the bound', `<13>${'x'.repeat(40)}`],
  ])('rejects %s', (_n, input) => {
    expect(() => new SyslogFramer(32).push(Buffer.from(input))).toThrow(/syslog/);
  });
});
