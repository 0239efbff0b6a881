import { requireCheck } from '../core/checks.js';
import type { Finding, OsInfo } from '../core/types.js';
import type { ImageConfig, LayerEntry } from '../image/types.js';
import type { EntryVisitor, Visit } from '../image/visitor.js';
import { isAtOrBelow } from '../image/whiteout.js';
import { endOfLife } from './eol.js';

function finding(id: string, extra: Partial<Finding> = {}): Finding {
  const c = requireCheck(id);
  return {
    kind: 'misconfiguration',
    id,
    severity: c.severity,
    title: c.title,
    nist: c.nist[0]!,
    pci: c.pci,
    fix: c.fix,
    ...extra,
  };
}

const SSHD = new Set(['usr/sbin/sshd', 'usr/bin/sshd', 'sbin/sshd', 'usr/sbin/dropbear']);
const CACHE_DIRS = [
  'var/cache/apt/archives/',
  'var/lib/apt/lists/',
  'var/cache/apk/',
  'var/cache/yum/',
  'var/cache/dnf/',
  'var/cache/zypp/packages/',
];
const WRITABLE_OK = ['tmp', 'var/tmp', 'dev/shm', 'run/lock', 'var/lock'];

interface Flag {
  id: string;
  path: string;
  layer: number;
  layerDigest: string;
  detail?: string;
}

/**
 * Filesystem checks that ride the single pass: setuid/setgid and world-writable files, an SSH server,
 * package caches. Judged on the final filesystem (a later layer's deletion or chmod counts).
 */
export class ImageFilesystemChecks implements EntryVisitor {
  readonly name = 'image-checks';
  private readonly flags = new Map<string, Flag[]>();

  interest(entry: LayerEntry): number | undefined {
    // Every entry may replace a flagged one; only flag-worthy or previously flagged paths matter.
    return this.flagsFor(entry).length > 0 || this.flags.has(entry.path) ? 0 : undefined;
  }

  private flagsFor(entry: LayerEntry): string[] {
    const ids: string[] = [];
    const isFile = entry.type === 'file' || entry.type === 'hardlink';
    if (isFile && entry.mode & 0o6000) ids.push('IMG-SETUID-FILE');
    if (
      (isFile || entry.type === 'directory') &&
      entry.mode & 0o002 &&
      !(entry.type === 'directory' && entry.mode & 0o1000)
    ) {
      if (!WRITABLE_OK.some((d) => isAtOrBelow(entry.path, d))) ids.push('IMG-WORLD-WRITABLE');
    }
    if (isFile && SSHD.has(entry.path)) ids.push('IMG-SSHD');
    if (isFile && entry.size > 0 && CACHE_DIRS.some((d) => entry.path.startsWith(d)) && !entry.path.endsWith('/lock')) {
      ids.push('IMG-PACKAGE-CACHE');
    }
    return ids;
  }

  visit(v: Visit): void {
    const ids = this.flagsFor(v.entry);
    if (ids.length === 0) this.flags.delete(v.entry.path);
    else
      this.flags.set(
        v.entry.path,
        ids.map((id) => ({ id, path: v.entry.path, layer: v.layerIndex, layerDigest: v.layerDigest })),
      );
  }

  whiteout(path: string, opaque: boolean, layerIndex: number): void {
    for (const [p, flags] of this.flags) {
      const hit = opaque ? p !== path && isAtOrBelow(p, path) : isAtOrBelow(p, path);
      if (hit && flags.every((f) => f.layer < layerIndex)) this.flags.delete(p);
    }
  }

  findings(): Finding[] {
    const out: Finding[] = [];
    const cacheDirs = new Map<string, Flag>();
    for (const flags of this.flags.values()) {
      for (const f of flags) {
        // One finding per cache directory, not one per cached file.
        if (f.id === 'IMG-PACKAGE-CACHE') {
          const dir = CACHE_DIRS.find((d) => f.path.startsWith(d))!;
          if (!cacheDirs.has(dir)) cacheDirs.set(dir, { ...f, path: dir.slice(0, -1) });
          continue;
        }
        out.push(finding(f.id, { path: f.path, layer: f.layerDigest }));
      }
    }
    for (const f of cacheDirs.values()) out.push(finding(f.id, { path: f.path, layer: f.layerDigest }));
    return out.sort((a, b) => (a.id + a.path! < b.id + b.path! ? -1 : 1));
  }
}

export interface ImageConfigContext {
  config: ImageConfig;
  os?: OsInfo;
  /** The reference the user scanned ("registry:host/repo:tag", "oci:dir:tag", ...). */
  target: string;
  now?: Date;
}

/** Checks on the image configuration and identity: user, history, tag pinning, health check, ports, EOL. */
export function imageConfigFindings(ctx: ImageConfigContext): Finding[] {
  const out: Finding[] = [];
  const cfg = ctx.config.config ?? {};
  const user = (cfg.User ?? '').split(':')[0]!.trim();
  if (user === '' || user === 'root' || user === '0') {
    out.push(finding('IMG-ROOT-USER', { detail: user ? `USER ${cfg.User}` : 'no USER set' }));
  }
  for (const [i, h] of (ctx.config.history ?? []).entries()) {
    const m = /(?:^|\s|#\(nop\)\s*)ADD\s+(?:--\S+\s+)*(https?:\/\/\S+)/.exec(h.created_by ?? '');
    if (m && !/--checksum=/.test(h.created_by ?? ''))
      out.push(finding('IMG-ADD-REMOTE', { path: `config:history[${i}]`, detail: m[1] }));
  }
  if (ctx.target.startsWith('registry:') && !ctx.target.includes('@sha256:')) {
    out.push(finding('IMG-UNPINNED-REFERENCE', { detail: ctx.target }));
  }
  const hc = cfg.Healthcheck?.Test;
  if (!hc || hc.length === 0 || hc[0] === 'NONE') out.push(finding('IMG-NO-HEALTHCHECK'));
  for (const port of Object.keys(cfg.ExposedPorts ?? {})) {
    if (/^22(\/tcp)?$/.test(port)) out.push(finding('IMG-PORT-22', { detail: port }));
  }
  if (ctx.os) {
    const eol = endOfLife(ctx.os.family, ctx.os.version);
    const today = (ctx.now ?? new Date()).toISOString().slice(0, 10);
    if (eol && eol < today) {
      out.push(finding('IMG-EOL-OS', { detail: `${ctx.os.family} ${ctx.os.version} reached end of life on ${eol}` }));
    }
  }
  return out;
}
