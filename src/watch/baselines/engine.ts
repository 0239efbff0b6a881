import { IntegrityError, UserInputError } from '../../core/errors.js';
import type { NormalizedEvent } from '../normalize/index.js';
import type { BaselineStateStore } from './state.js';
import { type BaselineAlert, type BaselineDetector, DAY_MS, positive } from './types.js';

/** A detector ready to run: the instance and its detector-wide learning period. */
export interface ConfiguredDetector {
  readonly detector: BaselineDetector;
  readonly learningMs: number;
}

export interface BaselineEngineOptions {
  /**
   * Where state persists (SqliteBaselineStore for a service, MemoryBaselineStore to hand state between engines in
   * one process). Without one, state lives only in the engine: nothing is encoded or written (offline replay).
   */
  readonly store?: BaselineStateStore;
  /** Keys kept per detector; beyond it the least recently used key is forgotten. */
  readonly maxKeys?: number;
}

/** The meta row of a detector; real keys are never empty (normalisation drops empty strings). */
const META = '';
/** The engine's own row (clock and reader cursor), under a detector name no detector can have. */
const ENGINE = '';
const ENGINE_KEY = 'engine';

interface Entry {
  state: unknown;
  seq: number;
}

interface Runtime {
  readonly det: BaselineDetector;
  readonly learningMs: number;
  /** Keys in least-recently-used-first order (a touched key is moved to the end). */
  readonly keys: Map<string, Entry>;
  readonly dirty: Set<string>;
  readonly evicted: Set<string>;
  /** Event time of the detector's first event: its learning period starts there. */
  first: number | undefined;
  metaDirty: boolean;
  seq: number;
  suppressed: number;
  evictions: number;
}

export interface DetectorStats {
  readonly keys: number;
  /** Alerts dropped because the detector was still learning. */
  readonly suppressed: number;
  /** Keys forgotten because of the key cap (this process only). */
  readonly evictions: number;
}

/**
 * Runs baseline detectors over normalised events in event-time order. The working set is in memory, capped at
 * `maxKeys` keys per detector (least recently used forgotten first, in event order, so eviction is the same
 * however events are batched); `process` writes what changed to the store in one transaction before it returns,
 * so a restart from the same store continues exactly where the last batch ended.
 */
export class BaselineEngine {
  private readonly store: BaselineStateStore | undefined;
  private readonly maxKeys: number;
  private readonly runtimes: Runtime[] = [];
  private clock = 0;
  private cursor: string | undefined;

  constructor(detectors: readonly ConfiguredDetector[], options: BaselineEngineOptions = {}) {
    this.store = options.store;
    this.maxKeys = positive('maxKeys', options.maxKeys, 50_000, true);
    if (this.maxKeys < 1) throw new UserInputError('baselines: maxKeys must be at least 1');
    const names = new Set<string>();
    for (const { detector: det, learningMs } of detectors) {
      if (names.has(det.name)) throw new UserInputError(`baselines: detector "${det.name}" given twice`);
      names.add(det.name);
      this.runtimes.push(this.open(det, learningMs));
    }
    const engine = this.store?.get(ENGINE, ENGINE_KEY);
    if (engine) {
      const e = readRow(ENGINE, ENGINE_KEY, () => JSON.parse(engine.state)) as { clock?: unknown; cursor?: unknown };
      if (typeof e.clock === 'number') this.clock = e.clock;
      if (typeof e.cursor === 'string') this.cursor = e.cursor;
    }
  }

  /** The cursor given with the last batch that `process` made durable (where a restarted reader resumes). */
  lastCursor(): string | undefined {
    return this.cursor;
  }

  /** Loads a detector's stored keys in recency order; state of another version is discarded. */
  private open(det: BaselineDetector, learningMs: number): Runtime {
    const rt: Runtime = {
      det,
      learningMs,
      keys: new Map(),
      dirty: new Set(),
      evicted: new Set(),
      first: undefined,
      metaDirty: false,
      seq: 0,
      suppressed: 0,
      evictions: 0,
    };
    if (!this.store) return rt;
    const rows = this.store.load(det.name);
    const meta = rows.find((r) => r.key === META);
    const stored = meta ? (readRow(det.name, META, () => JSON.parse(meta.state)) as StoredMeta) : undefined;
    if (stored && (typeof stored.version !== 'number' || typeof stored.first !== 'number')) {
      throw new IntegrityError(`baseline state: ${det.name}: meta row is not {version, first}`);
    }
    if (stored && stored.version !== det.version) {
      this.store.clear(det.name);
      return rt;
    }
    rt.first = stored?.first;
    for (const row of rows) {
      rt.seq = Math.max(rt.seq, row.seq);
      if (row.key !== META)
        rt.keys.set(row.key, { state: readRow(det.name, row.key, () => det.decode(row.state)), seq: row.seq });
    }
    // A store written with a larger cap: keep the most recent keys.
    while (rt.keys.size > this.maxKeys) this.evictOldest(rt);
    return rt;
  }

  private evictOldest(rt: Runtime): void {
    const oldest = rt.keys.keys().next().value as string;
    rt.keys.delete(oldest);
    rt.dirty.delete(oldest);
    if (this.store) rt.evicted.add(oldest);
    rt.evictions++;
  }

  /**
   * Learns from one event and returns its alerts (none while a detector is learning). State changes stay in
   * memory until `flush`; `process` does both. `time` overrides the event's own time (ms); an event without a time
   * takes the latest event time seen (replay orders events by time first).
   */
  observe(ev: NormalizedEvent, time?: number): BaselineAlert[] {
    const t = time ?? ev.timeMs ?? this.clock;
    if (t > this.clock) this.clock = t;
    const out: BaselineAlert[] = [];
    for (const rt of this.runtimes) {
      const keys = rt.det.keys(ev);
      if (keys.length === 0) continue;
      if (rt.first === undefined) {
        rt.first = t;
        rt.metaDirty = true;
      }
      const learning = t < rt.first + rt.learningMs;
      for (const key of keys) {
        let entry = rt.keys.get(key);
        if (entry) {
          rt.keys.delete(key);
        } else {
          entry = { state: rt.det.init(t), seq: 0 };
          rt.evicted.delete(key);
        }
        entry.seq = ++rt.seq;
        rt.keys.set(key, entry);
        if (this.store) rt.dirty.add(key);
        if (rt.keys.size > this.maxKeys) this.evictOldest(rt);
        const alert = rt.det.observe(entry.state, ev, t, key);
        if (!alert) continue;
        if (learning) rt.suppressed++;
        else out.push(alert);
      }
    }
    return out;
  }

  /**
   * Writes every changed key and forgets evicted ones, in one transaction, together with `cursor` (the caller's
   * read position: a file offset, a queue id) so that a reader restarted after a crash neither skips nor re-counts
   * a batch.
   */
  flush(cursor?: string): void {
    if (cursor !== undefined) this.cursor = cursor;
    const store = this.store;
    if (!store) {
      for (const rt of this.runtimes) {
        rt.dirty.clear();
        rt.evicted.clear();
      }
      return;
    }
    store.transaction(() => {
      for (const rt of this.runtimes) {
        const name = rt.det.name;
        for (const key of rt.evicted) store.delete(name, key);
        for (const key of rt.dirty) {
          const e = rt.keys.get(key)!;
          store.put(name, key, rt.det.encode(e.state), e.seq);
        }
        if (rt.metaDirty && rt.first !== undefined) {
          store.put(name, META, JSON.stringify({ version: rt.det.version, first: rt.first }), 0);
        }
        rt.evicted.clear();
        rt.dirty.clear();
        rt.metaDirty = false;
      }
      store.put(ENGINE, ENGINE_KEY, JSON.stringify({ clock: this.clock, cursor: this.cursor }), 0);
    });
  }

  /**
   * Observes a batch (in the order given: sort by event time first) and makes its state durable, with the caller's
   * `cursor` for the position after the batch.
   */
  process(events: readonly NormalizedEvent[], cursor?: string): BaselineAlert[] {
    const out: BaselineAlert[] = [];
    for (const ev of events) for (const a of this.observe(ev)) out.push(a);
    this.flush(cursor);
    return out;
  }

  stats(): Record<string, DetectorStats> {
    return Object.fromEntries(
      this.runtimes.map((rt) => [
        rt.det.name,
        { keys: rt.keys.size, suppressed: rt.suppressed, evictions: rt.evictions },
      ]),
    );
  }

  /** Flushes and closes the store. */
  close(): void {
    this.flush();
    this.store?.close();
  }
}

interface StoredMeta {
  version: number;
  first: number;
}

/** A row that does not decode is damage (or another program's data): say which, instead of crashing later. */
function readRow<T>(detector: string, key: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new IntegrityError(
      `baseline state: ${detector} key ${JSON.stringify(key)} does not decode: ${(err as Error).message}`,
    );
  }
}

export function learningMs(days: number | undefined, fallbackDays: number, name: string): number {
  return positive(`${name}.learningDays`, days, fallbackDays) * DAY_MS;
}
