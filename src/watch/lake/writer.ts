import { gzipSync } from 'node:zlib';
import {
  assignLakeFiles,
  eventsOfLakeFile,
  lakeFilesInState,
  markLakeFileDone,
  pendingEvents,
  pendingSummary,
  pruneLakedEvents,
  type Store,
  type StoredEvent,
} from '../../store/index.js';
import type { LakeBackend } from './backend.js';
import { fileKey, lakeLine, partitionOf } from './layout.js';
import { type RetentionPolicy, sweepRetention } from './retention.js';

export interface LakeWriterOptions {
  store: Store;
  backend: LakeBackend;
  /** Rotate when a partition's pending data reaches this many uncompressed bytes (default 64 MiB). */
  maxFileBytes?: number;
  /** ... or when the oldest pending event waited this long (default 60 s). */
  maxFileAgeMs?: number;
  /** Most events considered per step (bounds memory). */
  batchEvents?: number;
  /** Keep events in the store this long after they reached the lake (their ids dedupe retries); default 7 days. */
  keepInStoreMs?: number;
  /** When set, the loop runs the retention sweep once a day (between steps, never beside a write). */
  retention?: RetentionPolicy;
  now?: () => number;
}

export interface LakeStats {
  files: number;
  events: number;
  bytes: number;
}

/**
 * Moves events from the store outbox into immutable lake files, exactly once:
 *  1. assign: in one transaction, pending events get a file name and the file is recorded as 'writing';
 *  2. write: the file is built from exactly those events (deterministic content) and put atomically;
 *  3. done: the file is marked 'done'.
 * After a crash, `recover()` rebuilds every 'writing' file from its events, so an event is never in two files
 * and never missing; the store's unique event id already removed duplicates at ingest.
 */
export class LakeWriter {
  readonly stats: LakeStats = { files: 0, events: 0, bytes: 0 };
  private readonly maxBytes: number;
  private readonly maxAge: number;
  private readonly batch: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = true;
  lastError: unknown;

  constructor(private readonly options: LakeWriterOptions) {
    this.maxBytes = options.maxFileBytes ?? 64 * 1024 * 1024;
    this.maxAge = options.maxFileAgeMs ?? 60_000;
    this.batch = options.batchEvents ?? 50_000;
    this.now = options.now ?? Date.now;
  }

  /** Finishes files a crash left in 'writing'. */
  async recover(): Promise<number> {
    const names = await lakeFilesInState(this.options.store, 'writing');
    for (const name of names) await this.write(name, await eventsOfLakeFile(this.options.store, name));
    return names.length;
  }

  /**
   * One step: if the pending events are big or old enough (or `force`), cut them into files and write them.
   * Returns the number of events written.
   */
  async step(force = false): Promise<number> {
    const { store } = this.options;
    if (!force) {
      // Decide from an aggregate first: polling must not load pending rows that are not due yet.
      const summary = await pendingSummary(store);
      if (summary.count === 0) return 0;
      const bytes = summary.bytes + 100 * summary.count;
      const due =
        bytes >= this.maxBytes || summary.count >= this.batch || this.now() - (summary.oldest ?? 0) >= this.maxAge;
      if (!due) return 0;
    }
    const pending = await pendingEvents(store, this.batch);
    if (pending.length === 0) return 0;
    const files = this.cut(pending);
    await assignLakeFiles(
      store,
      files.map((f) => ({ name: f.name, seqs: f.events.map((e) => e.seq) })),
      this.now(),
    );
    for (const f of files) await this.write(f.name, f.events);
    return pending.length;
  }

  /** Groups by partition and splits a partition at maxFileBytes. */
  private cut(events: StoredEvent[]): { name: string; events: StoredEvent[] }[] {
    const byPartition = new Map<string, StoredEvent[]>();
    for (const e of events) {
      const p = partitionOf(e.source, e.time);
      const list = byPartition.get(p);
      if (list) list.push(e);
      else byPartition.set(p, [e]);
    }
    const files: { name: string; events: StoredEvent[] }[] = [];
    for (const [partition, list] of byPartition) {
      let chunk: StoredEvent[] = [];
      let size = 0;
      const close = () => {
        if (chunk.length) files.push({ name: fileKey(partition, chunk[0]!.seq, chunk.length), events: chunk });
        chunk = [];
        size = 0;
      };
      for (const e of list) {
        if (size > 0 && size + e.raw.length > this.maxBytes) close();
        chunk.push(e);
        size += e.raw.length + 100;
      }
      close();
    }
    return files;
  }

  private async write(name: string, events: StoredEvent[]): Promise<void> {
    const body = gzipSync(events.map(lakeLine).join(''), { level: 6 });
    await this.options.backend.put(name, body);
    await markLakeFileDone(this.options.store, name);
    this.stats.files++;
    this.stats.events += events.length;
    this.stats.bytes += body.length;
  }

  /** Writes everything pending now (shutdown, tests). */
  async flush(): Promise<void> {
    while ((await this.step(true)) > 0) {}
  }

  /**
   * Background loop: recover, then step every `intervalMs`; prunes old laked events from the store hourly and
   * sweeps retention daily.
   */
  start(intervalMs = 1000): void {
    if (!this.stopped) return;
    this.stopped = false;
    let lastPrune = 0;
    let lastSweep = 0;
    const tick = async () => {
      try {
        await this.recover();
        while ((await this.step()) > 0) {}
        if (this.now() - lastPrune > 3_600_000) {
          lastPrune = this.now();
          await pruneLakedEvents(this.options.store, this.now() - (this.options.keepInStoreMs ?? 7 * 86_400_000));
        }
        if (this.options.retention && this.now() - lastSweep > 86_400_000) {
          lastSweep = this.now();
          await sweepRetention(this.options.backend, this.options.retention, this.now());
        }
      } catch (err) {
        this.lastError = err; // the next tick retries; nothing was marked done that is not in the lake
      }
    };
    const loop = () => {
      this.running = tick().finally(() => {
        this.running = undefined;
        if (!this.stopped) this.timer = setTimeout(loop, intervalMs);
      });
    };
    loop();
  }

  async stop(flush = true): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    if (flush) await this.flush();
  }
}
