import { createWriteStream, type WriteStream } from 'node:fs';

/**
 * One JSON line per request or tunnel — the format the watch stage ingests (docs/egress.md). `decision` is
 * "allow", "deny", or "report" (a would-be denial let through because the policy is in report mode).
 */
export interface AccessLogEntry {
  time: string;
  type: 'http' | 'connect';
  src: string;
  client: string | null;
  policy: string | null;
  method: string | null;
  host: string | null;
  port: number | null;
  address: string | null;
  decision: 'allow' | 'deny' | 'report';
  reason: string;
  detail?: string;
  status: number;
  bytesUp: number;
  bytesDown: number;
  durationMs: number;
}

/** Operational events (reloads, drain) share the log so that an invalid reload is impossible to miss. */
export interface EventLogEntry {
  time: string;
  event: 'start' | 'config_reload' | 'drain';
  ok: boolean;
  message: string;
}

export interface LogSink {
  write(entry: AccessLogEntry | EventLogEntry): void;
  close(): Promise<void>;
}

/**
 * Appends JSON lines to a file, or to stdout for "-". Lines are batched (flushed at 64 KiB or after 50 ms) so
 * that a busy proxy makes one write per batch instead of one per request; `close` flushes what is left.
 */
export function openLog(target: string): LogSink {
  const stream: NodeJS.WritableStream | WriteStream =
    target === '-' ? process.stdout : createWriteStream(target, { flags: 'a', mode: 0o640 });
  let pending = '';
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    stream.write(pending);
    pending = '';
  };
  return {
    write(entry) {
      pending += `${JSON.stringify(entry)}\n`;
      if (pending.length >= 65_536) flush();
      else if (timer === undefined) timer = setTimeout(flush, 50).unref();
    },
    close() {
      flush();
      if (target === '-') return Promise.resolve();
      return new Promise((resolve) => (stream as WriteStream).end(() => resolve()));
    },
  };
}

export const nullLog: LogSink = { write() {}, close: () => Promise.resolve() };

/** Prometheus text exposition, kept by hand: a handful of counters and gauges needs no library. */
export class Metrics {
  private readonly counters = new Map<string, number>();
  private readonly help = new Map<string, [string, 'counter' | 'gauge']>();
  private readonly gauges = new Map<string, () => number>();

  constructor() {
    this.describe('palisade_egress_requests_total', 'Requests and tunnels by type, decision and reason', 'counter');
    this.describe('palisade_egress_bytes_total', 'Bytes relayed, by direction', 'counter');
    this.describe('palisade_egress_config_reloads_total', 'Config reloads by result', 'counter');
    this.describe(
      'palisade_egress_client_errors_total',
      'Malformed, oversized or timed-out client requests',
      'counter',
    );
  }

  private describe(name: string, help: string, type: 'counter' | 'gauge'): void {
    this.help.set(name, [help, type]);
  }

  inc(name: string, labels: Record<string, string>, by = 1): void {
    this.add(this.key(name, labels), by);
  }

  /** The series key for a name and labels; callers on a hot path compute it once per label set. */
  key(name: string, labels: Record<string, string>): string {
    return `${name}{${Object.entries(labels)
      .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`)
      .join(',')}}`;
  }

  add(key: string, by = 1): void {
    this.counters.set(key, (this.counters.get(key) ?? 0) + by);
  }

  gauge(name: string, help: string, read: () => number): void {
    this.describe(name, help, 'gauge');
    this.gauges.set(name, read);
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, [help, type]] of this.help) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      const g = this.gauges.get(name);
      if (g) lines.push(`${name} ${g()}`);
      for (const [key, value] of this.counters) if (key.startsWith(`${name}{`)) lines.push(`${key} ${value}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
