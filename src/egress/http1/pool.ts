import type { Socket } from 'node:net';

/** Whoever is using an upstream connection receives its events. */
export interface UpstreamUser {
  onUpstreamData(chunk: Buffer): void;
  /** The connection ended or failed; `error` when it failed. */
  onUpstreamClose(error: boolean): void;
}

/**
 * One upstream TCP connection, dialled to a guarded address. Its listeners are attached once and forward to the
 * current user, so reusing the connection costs no listener churn.
 */
export class Upstream {
  user: UpstreamUser | null = null;
  /** Requests this connection has carried; 0 while it is fresh. */
  uses = 0;
  /** Closed by the idle timeout: a request on it may have reached the server, so it is not sent again. */
  timedOut = false;
  private failed = false;

  constructor(
    readonly socket: Socket,
    readonly key: string,
    private readonly pool: UpstreamPool,
    idleTimeoutMs: number,
  ) {
    socket.on('data', (chunk: Buffer) => {
      if (this.user) this.user.onUpstreamData(chunk);
      else socket.destroy(); // bytes on an idle connection: the server broke framing; never reuse it
    });
    socket.on('error', () => {
      this.failed = true;
      socket.destroy();
    });
    socket.on('end', () => {
      // A half-closed upstream is done for reuse; users see the end through close.
      if (!this.user) socket.destroy();
      else socket.end();
    });
    socket.on('close', () => {
      pool.forget(this);
      const user = this.user;
      this.user = null;
      user?.onUpstreamClose(this.failed);
    });
    socket.setTimeout(idleTimeoutMs, () => {
      this.timedOut = true;
      socket.destroy();
    });
  }

  /** Gives the connection back for reuse (or closes it when the pool is full). */
  release(): void {
    this.user = null;
    // A slow client may have paused it; a pooled connection must flow so that a close or stray byte is seen.
    this.socket.resume();
    this.uses++;
    this.pool.put(this);
  }
}

/**
 * Idle keep-alive connections to upstreams, by "address:port" (the guarded address, never a name). Last in,
 * first out, so that a few warm connections carry the load and the rest time out.
 */
export class UpstreamPool {
  private readonly idle = new Map<string, Upstream[]>();
  private count = 0;

  constructor(private readonly maxIdle = 256) {}

  take(key: string): Upstream | null {
    const list = this.idle.get(key);
    while (list && list.length > 0) {
      const up = list.pop()!;
      this.count--;
      if (!up.socket.destroyed && up.socket.readyState === 'open') return up;
      up.socket.destroy();
    }
    return null;
  }

  put(up: Upstream): void {
    if (up.socket.destroyed || this.count >= this.maxIdle) {
      up.socket.destroy();
      return;
    }
    let list = this.idle.get(up.key);
    if (!list) {
      list = [];
      this.idle.set(up.key, list);
    }
    list.push(up);
    this.count++;
  }

  forget(up: Upstream): void {
    const list = this.idle.get(up.key);
    if (!list) return;
    const i = list.indexOf(up);
    if (i === -1) return;
    list.splice(i, 1);
    this.count--;
    if (list.length === 0) this.idle.delete(up.key);
  }

  destroy(): void {
    for (const list of this.idle.values()) for (const up of list) up.socket.destroy();
    this.idle.clear();
    this.count = 0;
  }
}
