import { isIP } from 'node:net';

/** Where a client wants to go, normalised: lower-case host without brackets or trailing dot. */
export interface Target {
  host: string;
  port: number;
  /** 4 or 6 when the host is an IP literal, 0 for a name. */
  ipFamily: 0 | 4 | 6;
}

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/**
 * Normalises a host as a client wrote it. Names must be real DNS names whose last label is not numeric, so that
 * forms like "127.1", "0x7f.0.0.1" or "2130706433" (which getaddrinfo would turn into loopback) never count as
 * names. Returns undefined for anything else.
 */
export function normaliseHost(raw: string): { host: string; ipFamily: 0 | 4 | 6 } | undefined {
  let host = raw.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
    return isIP(host) === 6 ? { host, ipFamily: 6 } : undefined;
  }
  const family = isIP(host);
  if (family === 4) return { host, ipFamily: 4 };
  if (family === 6) return undefined; // IPv6 literals must be bracketed in an authority
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.length === 0 || host.length > 253) return undefined;
  const labels = host.split('.');
  if (!labels.every((l) => LABEL.test(l))) return undefined;
  const last = labels[labels.length - 1]!;
  if (/^[0-9]+$/.test(last) || /^0x[0-9a-f]*$/.test(last)) return undefined;
  return { host, ipFamily: 0 };
}

function parsePort(text: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** Parses a CONNECT request-target ("host:port" or "[v6]:port"); the port is required (RFC 9110 §9.3.6). */
export function parseAuthority(authority: string): Target | undefined {
  const colon = authority.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const port = parsePort(authority.slice(colon + 1));
  const host = normaliseHost(authority.slice(0, colon));
  if (port === undefined || host === undefined) return undefined;
  return { ...host, port };
}

/** Parses an absolute-form request-target for plain HTTP ("http://host[:port]/path"). */
export function parseAbsoluteUrl(url: string): { target: Target; path: string; hostHeader: string } | undefined {
  if (!/^http:\/\//i.test(url)) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.username || parsed.password) return undefined;
  const host = normaliseHost(parsed.hostname);
  const port = parsed.port === '' ? 80 : parsePort(parsed.port);
  if (host === undefined || port === undefined) return undefined;
  return { target: { ...host, port }, path: `${parsed.pathname}${parsed.search}`, hostHeader: parsed.host };
}
