import { BlockList, isIP } from 'node:net';

/**
 * The SSRF guard's address classes. An address in any of these is not "the public internet" and is refused
 * unless a policy allows its CIDR explicitly. Order matters: the first class that matches names the reason,
 * so the narrow classes (metadata) come before the wide ones (link-local).
 */
const IPV4_CLASSES: ReadonlyArray<readonly [string, string, number]> = [
  ['metadata', '169.254.169.254', 32],
  ['unspecified', '0.0.0.0', 8],
  ['private', '10.0.0.0', 8],
  ['cgnat', '100.64.0.0', 10],
  ['loopback', '127.0.0.0', 8],
  ['link-local', '169.254.0.0', 16],
  ['private', '172.16.0.0', 12],
  ['reserved', '192.0.0.0', 24],
  ['documentation', '192.0.2.0', 24],
  ['private', '192.168.0.0', 16],
  ['benchmarking', '198.18.0.0', 15],
  ['documentation', '198.51.100.0', 24],
  ['documentation', '203.0.113.0', 24],
  ['multicast', '224.0.0.0', 4],
  ['reserved', '240.0.0.0', 4],
];

const IPV6_CLASSES: ReadonlyArray<readonly [string, string, number]> = [
  ['metadata', 'fd00:ec2::254', 128],
  ['unspecified', '::', 128],
  ['loopback', '::1', 128],
  // Forms that embed an IPv4 address: refused outright so that ::ffff:10.0.0.1 cannot smuggle a private target.
  ['ipv4-mapped', '::ffff:0:0', 96],
  ['ipv4-embedded', '::', 96],
  ['ipv4-embedded', '64:ff9b::', 96],
  ['ipv4-embedded', '64:ff9b:1::', 48],
  ['ipv4-embedded', '2002::', 16],
  ['ipv4-embedded', '2001::', 32],
  ['reserved', '100::', 64],
  ['documentation', '2001:db8::', 32],
  ['ula', 'fc00::', 7],
  ['link-local', 'fe80::', 10],
  ['site-local', 'fec0::', 10],
  ['multicast', 'ff00::', 8],
];

/**
 * Node's BlockList treats IPv4 and IPv4-mapped IPv6 as the same address, in both directions. To keep the
 * families strictly apart, each class lives in its own list and an address is only checked against lists
 * of its own family.
 */
function buildLists(classes: ReadonlyArray<readonly [string, string, number]>, family: 'ipv4' | 'ipv6') {
  return classes.map(([label, net, prefix]) => {
    const list = new BlockList();
    list.addSubnet(net, prefix, family);
    return { label, list };
  });
}
const V4 = buildLists(IPV4_CLASSES, 'ipv4');
const V6 = buildLists(IPV6_CLASSES, 'ipv6');

/** The non-public class of an IP address ("loopback", "metadata", ...) or undefined when it is public. */
export function classifyAddress(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not-an-ip';
  const lists = family === 4 ? V4 : V6;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const { label, list } of lists) if (list.check(address, type)) return label;
  return undefined;
}

/** A parsed CIDR, kept with its text for logs and messages. */
export interface Cidr {
  text: string;
  address: string;
  prefix: number;
  family: 4 | 6;
}

/** Parses "10.0.0.0/8", "::1/128" or a bare address (a /32 or /128). Returns undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const family = isIP(address);
  if (family !== 4 && family !== 6) return undefined;
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
    if (prefix > max) return undefined;
  }
  return { text, address, prefix, family };
}

/** A set of CIDRs matched strictly by family (see buildLists for why). */
export class CidrSet {
  private readonly v4 = new BlockList();
  private readonly v6 = new BlockList();
  readonly size: number;
  constructor(cidrs: readonly Cidr[]) {
    for (const c of cidrs) {
      if (c.family === 4) this.v4.addSubnet(c.address, c.prefix, 'ipv4');
      else this.v6.addSubnet(c.address, c.prefix, 'ipv6');
    }
    this.size = cidrs.length;
  }
  has(address: string): boolean {
    if (this.size === 0) return false;
    const family = isIP(address);
    if (family === 4) return this.v4.check(address, 'ipv4');
    if (family === 6) return this.v6.check(address, 'ipv6');
    return false;
  }
}
