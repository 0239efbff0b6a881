import type { Severity } from '../core/types.js';
import { type Alert, channelsFromConfig, HeartbeatMonitor, Notifications } from '../notify/index.js';
import { openStore, type Store } from '../store/index.js';
import {
  type CloudTrailLocation,
  directoryLocation,
  type EventSink,
  type HttpIngest,
  IngestQueue,
  pollCloudTrail,
  type SyslogListeners,
  s3Location,
  startHttpIngest,
  startSyslog,
} from './ingest/index.js';
import { checkRetention, type LakeBackend, LakeWriter, localLake, s3Lake } from './lake/index.js';
import type { WatchConfig } from './service-config.js';

export interface WatchContext {
  store: Store;
  notifications: Notifications;
}

export interface WatchServiceOptions {
  config: WatchConfig;
  /**
   * Consumers of committed events (the rules half: normalisation, routing, Sigma), built once the store and
   * notifications exist so they can raise alerts: `(ctx) => [(events) => …]`.
   */
  sinks?: (ctx: WatchContext) => EventSink[];
  /** One-line operational messages (the CLI prints them); never secrets. */
  log?: (line: string) => void;
}

export interface WatchService extends WatchContext {
  http?: HttpIngest;
  syslog?: SyslogListeners;
  lake?: LakeWriter;
  queue: IngestQueue;
  raise(alert: Alert): Promise<void>;
  /** Stops listeners, commits what was accepted, flushes the lake, stops the dispatcher. */
  stop(): Promise<void>;
}

function s3Config(s: { region?: string; endpoint?: string; forcePathStyle?: boolean }) {
  return {
    ...(s.region ? { region: s.region } : {}),
    ...(s.endpoint ? { endpoint: s.endpoint } : {}),
    ...(s.forcePathStyle ? { forcePathStyle: true } : {}),
  };
}

/** Starts everything the config names. Failing parts close what already started. */
export async function startWatchService(options: WatchServiceOptions): Promise<WatchService> {
  const { config } = options;
  const log = options.log ?? (() => undefined);
  const retention = checkRetention(
    { retentionDays: config.lake?.retentionDays, hotDays: config.lake?.hotDays },
    config.lake?.allowBelowPci ?? false,
  );
  const store = await openStore({ url: config.store ?? 'sqlite:palisade-watch.db' });
  const timers: NodeJS.Timeout[] = [];
  const closers: (() => Promise<void>)[] = [];
  try {
    const notifications = new Notifications({
      store,
      channels: channelsFromConfig(config.notify?.channels ?? []),
      dedupWindowMs: (config.notify?.dedupWindowSeconds ?? 600) * 1000,
      onOutcome: (o) => {
        if (!o.ok) log(`notify ${o.channel}: alert ${o.alertId} attempt ${o.attempts} failed: ${o.error}`);
      },
    });
    notifications.start();
    closers.push(() => notifications.stop());
    const ctx: WatchContext = { store, notifications };
    const queue = new IngestQueue({
      store,
      capacity: config.queue?.capacity,
      sinks: options.sinks?.(ctx) ?? [],
      onSinkError: (err) => log(`event sink failed: ${(err as Error).message}`),
    });
    closers.push(() => queue.close());

    let lake: LakeWriter | undefined;
    if (config.lake?.dir || config.lake?.s3) {
      const backend: LakeBackend = config.lake.dir
        ? localLake(config.lake.dir)
        : s3Lake(config.lake.s3!.bucket, config.lake.s3!.prefix ?? '', s3Config(config.lake.s3!));
      lake = new LakeWriter({
        store,
        backend,
        maxFileBytes: config.lake.maxFileBytes,
        maxFileAgeMs: (config.lake.maxFileSeconds ?? 60) * 1000,
        retention,
      });
      lake.start(config.lake.intervalMs ?? 1000);
      // Closed last (see the reverse order below): after the queue committed everything.
      closers.unshift(() => lake!.stop(true));
      log(`lake: ${backend.description}`);
    }

    const service: WatchService = {
      store,
      notifications,
      queue,
      lake,
      async raise(alert) {
        await notifications.raise(alert);
      },
      async stop() {
        for (const t of timers) clearInterval(t);
        for (const close of [...closers].reverse())
          await close().catch((err) => log(`stop: ${(err as Error).message}`));
        await store.close();
      },
    };

    if (config.http) {
      service.http = await startHttpIngest({ ...config.http, tokens: config.http.tokens ?? [], queue });
      closers.push(() => service.http!.close());
      log(
        `http ingest: ${config.http.tls ? 'https' : 'http'}://${config.http.host ?? '127.0.0.1'}:${service.http.port}`,
      );
    }
    if (config.syslog) {
      service.syslog = await startSyslog({ ...config.syslog, queue });
      closers.push(() => service.syslog!.close());
      const s = service.syslog;
      log(`syslog: udp ${s.udpPort ?? '-'} tcp ${s.tcpPort ?? '-'} tls ${s.tlsPort ?? '-'}`);
    }
    if (config.cloudtrail) {
      const locations: CloudTrailLocation[] = [
        ...(config.cloudtrail.dirs ?? []).map((d) => directoryLocation(d)),
        ...(config.cloudtrail.s3 ?? []).map((s) => s3Location(s.bucket, s.prefix ?? '', s3Config(s))),
      ];
      let polling = false;
      const poll = async () => {
        if (polling) return;
        polling = true;
        try {
          for (const loc of locations) {
            const r = await pollCloudTrail(store, queue, loc);
            for (const e of r.errors) log(`cloudtrail ${e.item}: ${e.message}`);
          }
        } catch (err) {
          log(`cloudtrail poll failed: ${(err as Error).message}`);
        } finally {
          polling = false;
        }
      };
      void poll();
      timers.push(setInterval(poll, (config.cloudtrail.pollSeconds ?? 60) * 1000));
    }
    if (config.heartbeats?.length) {
      const monitor = new HeartbeatMonitor(
        store,
        notifications,
        config.heartbeats.map((h) => ({
          source: h.source,
          maxSilenceMs: h.maxSilenceMinutes * 60_000,
          severity: h.severity as Severity | undefined,
        })),
      );
      await monitor.init(Date.now());
      timers.push(
        setInterval(() => {
          monitor.check(Date.now()).catch((err) => log(`heartbeat check failed: ${(err as Error).message}`));
        }, 30_000),
      );
    }
    return service;
  } catch (err) {
    for (const t of timers) clearInterval(t);
    for (const close of [...closers].reverse()) await close().catch(() => undefined);
    await store.close();
    throw err;
  }
}
