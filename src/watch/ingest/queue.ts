import { EventEmitter } from 'node:events';
import { UnavailableError } from '../../core/errors.js';
import { appendEvents, type Store, touchHeartbeat } from '../../store/index.js';
import type { EventSink, IngestEvent } from './types.js';

export interface IngestQueueOptions {
  store: Store;
  /** Most events waiting for the store at once; offers beyond it are refused (HTTP 429/503, TCP pause). */
  capacity?: number;
  /** Most events written per store transaction. */
  batchSize?: number;
  sinks?: EventSink[];
  onSinkError?: (err: unknown) => void;
}

export class QueueFullError extends UnavailableError {
  override readonly httpStatus: number = 429;
}

interface Pending {
  events: IngestEvent[];
  resolve: (inserted: number) => void;
  reject: (err: unknown) => void;
}

/**
 * The one door from every source into the store. Bounded: `offer` refuses when full so that producers push back
 * (HTTP answers 429, TCP listeners pause their sockets until 'drain'). An offer resolves once its events are
 * committed, so an HTTP 200 means durable.
 */
export class IngestQueue extends EventEmitter {
  private readonly pending: Pending[] = [];
  private size = 0;
  private running = false;
  private closed = false;
  readonly capacity: number;
  private readonly batchSize: number;
  stats = { offered: 0, refused: 0, inserted: 0, duplicates: 0 };

  constructor(private readonly options: IngestQueueOptions) {
    super();
    this.capacity = options.capacity ?? 50_000;
    this.batchSize = options.batchSize ?? 2_000;
  }

  hasRoom(n = 1): boolean {
    return this.size + n <= this.capacity;
  }

  /** Resolves with how many were new once committed; rejects with QueueFullError when there is no room. */
  offer(events: IngestEvent[]): Promise<number> {
    if (this.closed) return Promise.reject(new UnavailableError('ingest is shutting down'));
    if (events.length === 0) return Promise.resolve(0);
    // A single offer larger than the whole queue is accepted when the queue is empty, else it could never pass.
    if (!this.hasRoom(events.length) && this.size > 0) {
      this.stats.refused += events.length;
      return Promise.reject(new QueueFullError(`ingest queue full (${this.size}/${this.capacity} events)`));
    }
    this.stats.offered += events.length;
    this.size += events.length;
    return new Promise((resolve, reject) => {
      this.pending.push({ events, resolve, reject });
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.pending.length > 0) {
        const batch: Pending[] = [];
        let n = 0;
        while (
          this.pending.length > 0 &&
          (batch.length === 0 || n + this.pending[0]!.events.length <= this.batchSize)
        ) {
          const p = this.pending.shift()!;
          batch.push(p);
          n += p.events.length;
        }
        const events = batch.flatMap((p) => p.events);
        try {
          const inserted = await this.commit(events);
          this.stats.inserted += inserted.size;
          this.stats.duplicates += events.length - inserted.size;
          for (const p of batch) p.resolve(p.events.filter((e) => inserted.has(e.id)).length);
          // Sinks see each event once: duplicates of stored events are not passed on. (An id repeated inside
          // one batch is new once; the filter keeps its first occurrence.)
          const fresh = events.filter((e) => inserted.delete(e.id));
          for (const sink of this.options.sinks ?? []) {
            try {
              await sink(fresh);
            } catch (err) {
              this.options.onSinkError?.(err);
            }
          }
        } catch (err) {
          for (const p of batch) p.reject(new UnavailableError(`store write failed: ${(err as Error).message}`));
        } finally {
          this.size -= n;
          if (this.hasRoom(Math.max(1, Math.floor(this.capacity / 2)))) this.emit('drain');
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async commit(events: IngestEvent[]): Promise<Set<string>> {
    const { store } = this.options;
    const inserted = await appendEvents(
      store,
      events.map((e) => ({
        eventId: e.id,
        source: e.source,
        time: e.time,
        receivedAt: e.receivedAt,
        raw: JSON.stringify(e.data),
      })),
    );
    const last = new Map<string, number>();
    for (const e of events) last.set(e.source, Math.max(last.get(e.source) ?? 0, e.receivedAt));
    for (const [source, at] of last) await touchHeartbeat(store, source, at);
    return inserted;
  }

  /** Waits for everything offered so far to be committed, then refuses new offers. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running || this.pending.length > 0) await new Promise((r) => setTimeout(r, 10));
  }
}
