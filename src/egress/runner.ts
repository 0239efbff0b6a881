import { createHash } from 'node:crypto';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { basename, dirname } from 'node:path';
import { describeError } from '../core/errors.js';
import { type EgressConfig, loadConfigFile, type QuickStart, quickStartConfig } from './config.js';
import type { Dialer, Resolver } from './net.js';
import { type LogSink, openLog } from './observe.js';
import { EgressProxy } from './proxy.js';

export interface StartOptions {
  /** A YAML config file; reloaded on `reload()` and, with `watch`, when the file changes. */
  configPath?: string;
  /** Quick start without a file (ignored when configPath is given). */
  quick?: QuickStart;
  watch?: boolean;
  resolver?: Resolver;
  dialer?: Dialer;
  /** Overrides the config's log target (tests capture lines here). */
  log?: LogSink;
  /** Operator notices (reload results): the CLI prints them on stderr. Refused reloads are also logged. */
  onNotice?: (message: string, ok: boolean) => void;
}

export interface RunningEgress {
  proxy: EgressProxy;
  address: AddressInfo;
  admin: AddressInfo | null;
  /** Re-reads the config file; an invalid file is refused and the running config kept. Returns success. */
  reload(): boolean;
  /** Graceful drain, then closes the log. */
  stop(drainTimeoutMs?: number): Promise<void>;
}

/** Starts `palisade egress` from a file or from quick-start flags. */
export async function startEgress(options: StartOptions): Promise<RunningEgress> {
  const load = (): EgressConfig =>
    options.configPath
      ? loadConfigFile(options.configPath)
      : quickStartConfig(options.quick ?? { allow: [] }, process.cwd());
  const config = load();
  const log = options.log ?? (config.log ? openLog(config.log) : openLog('-'));
  const proxy = new EgressProxy({ config, resolver: options.resolver, dialer: options.dialer, log });
  const { proxy: address, admin } = await proxy.listen();
  const notice = options.onNotice ?? (() => {});

  let lastDigest = options.configPath ? digest(options.configPath) : '';
  const reload = (): boolean => {
    if (!options.configPath) {
      notice('reload: no config file (quick start); nothing to reload', false);
      return false;
    }
    try {
      const next = load();
      notice(`reload: ${proxy.reload(next)}`, true);
      return true;
    } catch (err) {
      const message = describeError(err);
      proxy.reloadFailed(message);
      notice(`reload REFUSED, previous config kept: ${message}`, false);
      return false;
    }
  };

  let watcher: FSWatcher | null = null;
  let timer: NodeJS.Timeout | undefined;
  if (options.watch && options.configPath) {
    const file = options.configPath;
    // Watch the directory: editors and config managers replace files by rename, which a file watch misses.
    watcher = watch(dirname(file), (_event, name) => {
      if (name !== null && name !== basename(file)) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        const d = digest(file);
        if (d === lastDigest) return;
        lastDigest = d;
        reload();
      }, 100);
    });
  }

  return {
    proxy,
    address,
    admin,
    reload,
    async stop(drainTimeoutMs) {
      watcher?.close();
      clearTimeout(timer);
      await proxy.close(drainTimeoutMs);
      await log.close();
    },
  };
}

function digest(path: string): string {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return '';
  }
}
