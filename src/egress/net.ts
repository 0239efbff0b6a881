import { promises as dns } from 'node:dns';
import { connect, isIP, type OnReadOpts, type Socket } from 'node:net';
import { classifyAddress } from './address.js';
import type { Policy } from './config.js';
import type { Decision } from './policy.js';

/** Turns a name into addresses. Injected so that tests can map names to loopback upstreams. */
export interface Resolver {
  resolve(host: string): Promise<string[]>;
  /** Answers known without waiting (pins, cached answers), so that the common case costs no timer or promise. */
  peek?(host: string): string[] | undefined;
}

/**
 * Opens a TCP connection to an IP address (never a name). Injected so that tests can refuse anything off loopback.
 * `onread`, when given, must be passed to `net.connect` (tunnels read upstream data into pooled buffers).
 */
export interface Dialer {
  dial(address: string, port: number, timeoutMs: number, onread?: OnReadOpts): Promise<Socket>;
}

export const systemResolver: Resolver = {
  async resolve(host) {
    const answers = await dns.lookup(host, { all: true, verbatim: true });
    return answers.map((a) => a.address);
  },
};

/**
 * Keeps system resolver answers for a short fixed time (getaddrinfo gives no TTL), like Squid's ipcache but far
 * shorter: every request still guards the cached answer, and the address guarded is the one dialled, so a cache
 * can only delay seeing a rebind, never let one through. Concurrent lookups of one name share a query; failures
 * are not cached; the table is bounded.
 */
export class CachingResolver implements Resolver {
  private readonly answers = new Map<string, { addresses: string[]; until: number }>();
  private readonly pending = new Map<string, Promise<string[]>>();
  constructor(
    private readonly next: Resolver,
    private readonly ttlMs = 10_000,
    private readonly maxEntries = 10_000,
  ) {}
  peek(host: string): string[] | undefined {
    const hit = this.answers.get(host);
    if (hit === undefined) return undefined;
    if (hit.until > Date.now()) return hit.addresses;
    this.answers.delete(host);
    return undefined;
  }
  resolve(host: string): Promise<string[]> {
    const hit = this.peek(host);
    if (hit) return Promise.resolve(hit);
    let p = this.pending.get(host);
    if (!p) {
      p = this.next.resolve(host).then(
        (addresses) => {
          this.pending.delete(host);
          if (this.answers.size >= this.maxEntries) this.answers.clear();
          this.answers.set(host, { addresses, until: Date.now() + this.ttlMs });
          return addresses;
        },
        (err: unknown) => {
          this.pending.delete(host);
          throw err;
        },
      );
      this.pending.set(host, p);
    }
    return p;
  }
}

/** `--resolve NAME=ADDR` pins (like curl's); other names go to the next resolver. Pinned answers are still guarded. */
export class PinnedResolver implements Resolver {
  constructor(
    private readonly pins: ReadonlyMap<string, string[]>,
    private readonly next: Resolver,
  ) {}
  resolve(host: string): Promise<string[]> {
    const pinned = this.pins.get(host);
    return pinned ? Promise.resolve([...pinned]) : this.next.resolve(host);
  }
  peek(host: string): string[] | undefined {
    return this.pins.get(host) ?? this.next.peek?.(host);
  }
}

export class DialError extends Error {
  constructor(
    readonly reason: 'upstream_connect_timeout' | 'upstream_connect_failed',
    message: string,
  ) {
    super(message);
  }
}

export const tcpDialer: Dialer = {
  dial(address, port, timeoutMs, onread) {
    if (isIP(address) === 0) return Promise.reject(new DialError('upstream_connect_failed', 'dialer needs an IP'));
    return new Promise((resolve, reject) => {
      const socket = connect({ host: address, port, noDelay: true, ...(onread ? { onread } : {}) });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new DialError('upstream_connect_timeout', `connect to ${address}:${port} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new DialError('upstream_connect_failed', `connect to ${address}:${port}: ${err.message}`));
      });
    });
  },
};

/**
 * The SSRF guard: an address passes when the policy allows its CIDR explicitly, or when it is public.
 * Pure, so that the decision made here is exactly the address the dialer is then given.
 */
export function guardAddress(policy: Policy, address: string): Decision {
  let seen = guarded.get(policy);
  if (seen === undefined) {
    seen = new Map();
    guarded.set(policy, seen);
  }
  const known = seen.get(address);
  if (known !== undefined) return known;
  let d: Decision;
  if (policy.allowedAddresses.has(address)) d = { allow: true, reason: 'address_allowed_by_cidr' };
  else {
    const cls = classifyAddress(address);
    d =
      cls !== undefined
        ? { allow: false, reason: 'address_denied', detail: `${address} is ${cls}` }
        : { allow: true, reason: 'address_public' };
  }
  if (seen.size >= MAX_GUARDED) seen.clear();
  seen.set(address, d);
  return d;
}

/**
 * Guard decisions by policy and address. Both inputs fully determine the answer (a policy never changes; a
 * reload brings new policy objects), so remembering them is exact; it saves the CIDR matching per request.
 */
const guarded = new WeakMap<Policy, Map<string, Decision>>();
const MAX_GUARDED = 4096;

/**
 * Resolves once and picks the first answer that passes the guard. The caller must connect to the returned
 * address and nothing else: resolving again could give a different (rebound) answer.
 */
export async function resolveAndGuard(
  policy: Policy,
  resolver: Resolver,
  host: string,
  timeoutMs: number,
): Promise<{ address: string } | { decision: Decision }> {
  let answers = resolver.peek?.(host);
  if (answers === undefined) {
    const r = await resolveWithin(resolver, host, timeoutMs);
    if ('decision' in r) return r;
    answers = r.answers;
  }
  let first: Decision | undefined;
  for (const address of answers) {
    if (isIP(address) === 0) continue;
    const d = guardAddress(policy, address);
    if (d.allow) return { address };
    first ??= d;
  }
  return { decision: first ?? { allow: false, reason: 'resolve_failed', detail: `${host}: no addresses` } };
}

async function resolveWithin(
  resolver: Resolver,
  host: string,
  timeoutMs: number,
): Promise<{ answers: string[] } | { decision: Decision }> {
  let answers: string[];
  let timer: NodeJS.Timeout | undefined;
  try {
    answers = await Promise.race([
      resolver.resolve(host),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
      }),
    ]);
  } catch (err) {
    return { decision: { allow: false, reason: 'resolve_failed', detail: `${host}: ${(err as Error).message}` } };
  } finally {
    clearTimeout(timer);
  }
  return { answers };
}
