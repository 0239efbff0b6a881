import { promises as dns } from 'node:dns';
import { connect, isIP, type OnReadOpts, type Socket } from 'node:net';
import { classifyAddress } from './address.js';
import type { Policy } from './config.js';
import type { Decision } from './policy.js';

/** Turns a name into addresses. Injected so that tests can map names to loopback upstreams. */
export interface Resolver {
  resolve(host: string): Promise<string[]>;
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
  if (policy.allowedAddresses.has(address)) return { allow: true, reason: 'address_allowed_by_cidr' };
  const cls = classifyAddress(address);
  if (cls !== undefined) return { allow: false, reason: 'address_denied', detail: `${address} is ${cls}` };
  return { allow: true, reason: 'address_public' };
}

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
  let first: Decision | undefined;
  for (const address of answers) {
    if (isIP(address) === 0) continue;
    const d = guardAddress(policy, address);
    if (d.allow) return { address };
    first ??= d;
  }
  return { decision: first ?? { allow: false, reason: 'resolve_failed', detail: `${host}: no addresses` } };
}
