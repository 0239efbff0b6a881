import type { Client, EgressConfig, HostRule, Policy } from './config.js';
import type { Target } from './target.js';
import type { TokenVerifier } from './tokens.js';

/** Every decision carries its reason (STYLE.md §2). `reason` is a stable code; `detail` is for people. */
export interface Decision {
  allow: boolean;
  reason: string;
  detail?: string;
}

export type RequestKind = 'connect' | 'http';
const DEFAULT_PORTS: Record<RequestKind, ReadonlySet<number>> = {
  connect: new Set([443]),
  http: new Set([80, 443]),
};

function rulesFor(policy: Policy, host: string): HostRule[] {
  const found: HostRule[] = [...(policy.exact.get(host) ?? [])];
  // "*.example.com" is stored under ".example.com"; try every proper suffix of the name, never the name itself,
  // so that the bare parent "example.com" is not matched by its wildcard.
  for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) {
    const rules = policy.wildcard.get(host.slice(dot));
    if (rules) found.push(...rules);
  }
  return found;
}

/** Is `kind` to `target` with `method` allowed by the policy's allowlist? (Addresses are checked later.) */
export function decideTarget(policy: Policy, kind: RequestKind, target: Target, method: string): Decision {
  const defaults = DEFAULT_PORTS[kind];
  if (target.ipFamily !== 0) {
    const rules = policy.cidrRules.filter((r) => r.cidrs.has(target.host));
    if (rules.length === 0) {
      return {
        allow: false,
        reason: 'ip_literal_not_allowed',
        detail: `${target.host} is not in the policy's allowCidrs`,
      };
    }
    if (!rules.some((r) => (r.ports ?? defaults).has(target.port))) {
      return { allow: false, reason: 'port_not_allowed', detail: `port ${target.port} not allowed for ${target.host}` };
    }
    return { allow: true, reason: 'cidr_allowed', detail: rules[0]!.text };
  }
  const rules = rulesFor(policy, target.host);
  if (rules.length === 0) {
    return { allow: false, reason: 'host_not_allowed', detail: `${target.host} is not on the allowlist` };
  }
  const portOk = rules.filter((r) => (r.ports ?? defaults).has(target.port));
  if (portOk.length === 0) {
    return { allow: false, reason: 'port_not_allowed', detail: `port ${target.port} not allowed for ${target.host}` };
  }
  const methodOk = portOk.find((r) => r.methods === null || r.methods.has(method));
  if (!methodOk) {
    return { allow: false, reason: 'method_not_allowed', detail: `${method} not allowed for ${target.host}` };
  }
  return { allow: true, reason: 'host_allowed', detail: methodOk.pattern };
}

/** What we know about a client when it asks for something. */
export interface ClientFacts {
  remoteAddress: string;
  /** CN and SAN values of a verified client certificate; null without one. */
  certNames: readonly string[] | null;
  proxyAuthorization: string | undefined;
}

export type Identity =
  | { ok: true; client: string; policy: Policy }
  | { ok: false; status: 403 | 407; decision: Decision };

function parseProxyAuthorization(header: string): { user: string | null; token: string } | null {
  const sp = header.indexOf(' ');
  if (sp === -1) return null;
  const scheme = header.slice(0, sp).toLowerCase();
  const value = header.slice(sp + 1).trim();
  if (scheme === 'bearer' && value.length > 0) return { user: null, token: value };
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return null;
    return { user: decoded.slice(0, colon), token: decoded.slice(colon + 1) };
  }
  return null;
}

/**
 * Chooses the client (and so the policy) for a request: the first client in config order whose every given
 * criterion matches (source CIDR, verified certificate name, token). Basic credentials name the client as the
 * user; a Bearer token is tried against each token client. Without a match, the default policy or a denial.
 */
export async function identify(config: EgressConfig, facts: ClientFacts, tokens: TokenVerifier): Promise<Identity> {
  const auth = facts.proxyAuthorization ? parseProxyAuthorization(facts.proxyAuthorization) : null;
  if (facts.proxyAuthorization && !auth) {
    return {
      ok: false,
      status: 407,
      decision: { allow: false, reason: 'auth_malformed', detail: 'use Basic or Bearer' },
    };
  }
  for (const client of config.clients) {
    if (!(await matches(client, facts, auth, tokens))) continue;
    return { ok: true, client: client.name, policy: client.policy };
  }
  // Credentials that no token client accepts are refused rather than silently downgraded to the default policy.
  if (auth && config.usesTokens) {
    return {
      ok: false,
      status: 407,
      decision: { allow: false, reason: 'auth_failed', detail: 'credentials not accepted' },
    };
  }
  if (config.defaultPolicy) return { ok: true, client: '-', policy: config.defaultPolicy };
  if (config.usesTokens) {
    return {
      ok: false,
      status: 407,
      decision: { allow: false, reason: 'auth_required', detail: 'Proxy-Authorization needed' },
    };
  }
  return { ok: false, status: 403, decision: { allow: false, reason: 'unknown_client', detail: 'no client matches' } };
}

async function matches(
  client: Client,
  facts: ClientFacts,
  auth: { user: string | null; token: string } | null,
  tokens: TokenVerifier,
): Promise<boolean> {
  if (client.cidrs && !client.cidrs.has(stripMapped(facts.remoteAddress))) return false;
  if (client.certNames && !(facts.certNames ?? []).some((n) => client.certNames!.has(n.toLowerCase()))) return false;
  if (client.tokenHash) {
    if (!auth) return false;
    if (auth.user !== null && auth.user !== client.name) return false;
    if (!(await tokens.verify(auth.token, client.tokenHash))) return false;
  }
  return true;
}

/** A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d; client CIDRs are written as IPv4. */
export function stripMapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
