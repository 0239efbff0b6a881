import { readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { UserInputError } from '../core/errors.js';
import { type Cidr, CidrSet, parseCidr } from './address.js';
import { normaliseHost } from './target.js';
import { isTokenHash } from './tokens.js';

/** The YAML config as written (docs/egress.md shows an example). */
export interface RawConfig {
  version?: 1;
  listen?: string;
  admin?: string;
  log?: string;
  tls?: { cert: string; key: string; clientCa?: string };
  limits?: Partial<Limits>;
  resolve?: Record<string, string | string[]>;
  clients?: RawClient[];
  defaultPolicy?: string;
  policies: Record<string, RawPolicy>;
}
export interface RawClient {
  name: string;
  policy: string;
  cidrs?: string[];
  tokenHash?: string;
  certNames?: string[];
}
export interface RawPolicy {
  mode?: 'enforce' | 'report';
  allow?: Array<string | { host: string; ports?: number[]; methods?: string[] }>;
  allowCidrs?: Array<string | { cidr: string; ports?: number[] }>;
  checkSni?: boolean;
}

export interface Limits {
  maxConnections: number;
  maxHeaderBytes: number;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  drainTimeoutMs: number;
}
export const DEFAULT_LIMITS: Limits = {
  maxConnections: 10_000,
  maxHeaderBytes: 16 * 1024,
  headerTimeoutMs: 10_000,
  idleTimeoutMs: 300_000,
  connectTimeoutMs: 10_000,
  drainTimeoutMs: 30_000,
};

export interface HostRule {
  /** "api.stripe.com" or "*.amazonaws.com" as written (normalised), for logs. */
  pattern: string;
  ports: ReadonlySet<number> | null;
  methods: ReadonlySet<string> | null;
}
export interface CidrRule {
  cidrs: CidrSet;
  text: string;
  ports: ReadonlySet<number> | null;
}
export interface Policy {
  name: string;
  mode: 'enforce' | 'report';
  /** Exact names -> rules; wildcard suffixes (".amazonaws.com") -> rules. */
  exact: ReadonlyMap<string, HostRule[]>;
  wildcard: ReadonlyMap<string, HostRule[]>;
  cidrRules: readonly CidrRule[];
  /** Union of all allowCidrs: addresses here pass the SSRF guard. */
  allowedAddresses: CidrSet;
  checkSni: boolean;
}
export interface Client {
  name: string;
  policy: Policy;
  cidrs: CidrSet | null;
  tokenHash: string | null;
  certNames: ReadonlySet<string> | null;
}
export interface EgressConfig {
  listen: HostPort;
  admin: HostPort | null;
  log: string | null;
  tls: { cert: Buffer; key: Buffer; clientCa: Buffer | null } | null;
  limits: Limits;
  pins: ReadonlyMap<string, string[]>;
  clients: readonly Client[];
  defaultPolicy: Policy | null;
  policies: ReadonlyMap<string, Policy>;
  /** True when any client authenticates with a token: a missing Proxy-Authorization then earns a 407. */
  usesTokens: boolean;
}
export interface HostPort {
  host: string;
  port: number;
}

const portList = { type: 'array', items: { type: 'integer', minimum: 1, maximum: 65535 }, minItems: 1 };
const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['policies'],
  properties: {
    version: { const: 1 },
    listen: { type: 'string' },
    admin: { type: 'string' },
    log: { type: 'string', minLength: 1 },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['cert', 'key'],
      properties: { cert: { type: 'string' }, key: { type: 'string' }, clientCa: { type: 'string' } },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(Object.keys(DEFAULT_LIMITS).map((k) => [k, { type: 'integer', minimum: 1 }])),
    },
    resolve: {
      type: 'object',
      additionalProperties: {
        oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }],
      },
    },
    clients: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'policy'],
        properties: {
          name: { type: 'string', minLength: 1 },
          policy: { type: 'string' },
          cidrs: { type: 'array', items: { type: 'string' }, minItems: 1 },
          tokenHash: { type: 'string' },
          certNames: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
        },
      },
    },
    defaultPolicy: { type: 'string' },
    policies: {
      type: 'object',
      minProperties: 1,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          mode: { enum: ['enforce', 'report'] },
          checkSni: { type: 'boolean' },
          allow: {
            type: 'array',
            items: {
              oneOf: [
                { type: 'string' },
                {
                  type: 'object',
                  additionalProperties: false,
                  required: ['host'],
                  properties: {
                    host: { type: 'string' },
                    ports: portList,
                    methods: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z]+$' }, minItems: 1 },
                  },
                },
              ],
            },
          },
          allowCidrs: {
            type: 'array',
            items: {
              oneOf: [
                { type: 'string' },
                {
                  type: 'object',
                  additionalProperties: false,
                  required: ['cidr'],
                  properties: { cidr: { type: 'string' }, ports: portList },
                },
              ],
            },
          },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true });
const validate = ajv.compile<RawConfig>(SCHEMA);

/** Picks the most useful ajv error and names the offending key, e.g. "/policies/api/mode: must be one of ...". */
function describeAjvErrors(errors: ErrorObject[]): string {
  // oneOf failures are reported once per branch; the branch errors are more precise, so prefer them.
  const precise = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'type');
  const chosen = (precise.length > 0 ? precise : errors).slice(0, 3);
  return chosen
    .map((e) => {
      const where = e.instancePath || '/';
      if (e.keyword === 'additionalProperties') {
        return `${where}: unknown key "${(e.params as { additionalProperty: string }).additionalProperty}"`;
      }
      if (e.keyword === 'enum')
        return `${where}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
      if (e.keyword === 'required')
        return `${where}: missing key "${(e.params as { missingProperty: string }).missingProperty}"`;
      return `${where}: ${e.message ?? 'invalid'}`;
    })
    .join('; ');
}

function bad(where: string, message: string): never {
  throw new UserInputError(where ? `egress config ${where}: ${message}` : `egress config: ${message}`);
}

export function parseHostPort(text: string, where: string): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : 0;
  if (!m || port > 65535) bad(where, `"${text}" is not HOST:PORT`);
  return { host: m[1] ?? m[2]!, port };
}

function compileHostPattern(pattern: string, where: string): { wildcard: boolean; key: string } {
  const wildcard = pattern.startsWith('*.');
  const name = normaliseHost(wildcard ? pattern.slice(2) : pattern);
  if (name?.ipFamily !== 0) {
    bad(where, `"${pattern}" is not a DNS name or "*.name" wildcard (IP addresses go in allowCidrs)`);
  }
  return { wildcard, key: wildcard ? `.${name.host}` : name.host };
}

function compileCidr(text: string, where: string): Cidr {
  const cidr = parseCidr(text);
  if (!cidr) bad(where, `"${text}" is not a CIDR`);
  return cidr;
}

function compilePolicy(name: string, raw: RawPolicy): Policy {
  const exact = new Map<string, HostRule[]>();
  const wildcard = new Map<string, HostRule[]>();
  (raw.allow ?? []).forEach((entry, i) => {
    const where = `/policies/${name}/allow/${i}`;
    const spec = typeof entry === 'string' ? { host: entry } : entry;
    const { wildcard: isWild, key } = compileHostPattern(spec.host, where);
    const rule: HostRule = {
      pattern: isWild ? `*${key}` : key,
      ports: spec.ports ? new Set(spec.ports) : null,
      methods: spec.methods ? new Set(spec.methods.map((m) => m.toUpperCase())) : null,
    };
    const map = isWild ? wildcard : exact;
    map.set(key, [...(map.get(key) ?? []), rule]);
  });
  const all: Cidr[] = [];
  const cidrRules = (raw.allowCidrs ?? []).map((entry, i) => {
    const spec = typeof entry === 'string' ? { cidr: entry } : entry;
    const cidr = compileCidr(spec.cidr, `/policies/${name}/allowCidrs/${i}`);
    all.push(cidr);
    return { cidrs: new CidrSet([cidr]), text: cidr.text, ports: spec.ports ? new Set(spec.ports) : null };
  });
  return {
    name,
    mode: raw.mode ?? 'enforce',
    exact,
    wildcard,
    cidrRules,
    allowedAddresses: new CidrSet(all),
    checkSni: raw.checkSni ?? false,
  };
}

/**
 * Validates and compiles a config object. `baseDir` resolves relative file paths (TLS material, log file).
 * Throws UserInputError naming the bad key.
 */
export function compileConfig(raw: unknown, baseDir: string): EgressConfig {
  if (!validate(raw)) bad('', describeAjvErrors(validate.errors ?? []));
  const policies = new Map<string, Policy>();
  for (const [name, p] of Object.entries(raw.policies)) policies.set(name, compilePolicy(name, p));
  const policyRef = (name: string, where: string): Policy =>
    policies.get(name) ?? bad(where, `unknown policy "${name}" (defined: ${[...policies.keys()].join(', ')})`);

  const clients = (raw.clients ?? []).map((c, i): Client => {
    const where = `/clients/${i}`;
    if (!c.cidrs && !c.tokenHash && !c.certNames) bad(where, 'a client needs cidrs, tokenHash or certNames');
    if (c.tokenHash !== undefined && !isTokenHash(c.tokenHash)) {
      bad(`${where}/tokenHash`, 'not a hash from "palisade egress hash-token"');
    }
    return {
      name: c.name,
      policy: policyRef(c.policy, `${where}/policy`),
      cidrs: c.cidrs ? new CidrSet(c.cidrs.map((t, j) => compileCidr(t, `${where}/cidrs/${j}`))) : null,
      tokenHash: c.tokenHash ?? null,
      certNames: c.certNames ? new Set(c.certNames.map((n) => n.toLowerCase())) : null,
    };
  });

  const pins = new Map<string, string[]>();
  for (const [name, value] of Object.entries(raw.resolve ?? {})) {
    const host = normaliseHost(name);
    if (host?.ipFamily !== 0) bad(`/resolve/${name}`, 'key must be a DNS name');
    const addresses = Array.isArray(value) ? value : [value];
    for (const a of addresses) {
      const c = parseCidr(a);
      if (!c || c.prefix !== (c.family === 4 ? 32 : 128) || a.includes('/')) {
        bad(`/resolve/${name}`, `"${a}" is not an IP address`);
      }
    }
    pins.set(host.host, addresses);
  }

  const tlsFile = (p: string, where: string): Buffer => {
    try {
      return readFileSync(resolvePath(baseDir, p));
    } catch (err) {
      return bad(where, `cannot read "${p}": ${(err as Error).message}`);
    }
  };

  return {
    listen: parseHostPort(raw.listen ?? '127.0.0.1:3128', '/listen'),
    admin: raw.admin ? parseHostPort(raw.admin, '/admin') : null,
    log: raw.log === undefined ? null : raw.log === '-' ? '-' : resolvePath(baseDir, raw.log),
    tls: raw.tls
      ? {
          cert: tlsFile(raw.tls.cert, '/tls/cert'),
          key: tlsFile(raw.tls.key, '/tls/key'),
          clientCa: raw.tls.clientCa ? tlsFile(raw.tls.clientCa, '/tls/clientCa') : null,
        }
      : null,
    limits: { ...DEFAULT_LIMITS, ...raw.limits },
    pins,
    clients,
    defaultPolicy: raw.defaultPolicy ? policyRef(raw.defaultPolicy, '/defaultPolicy') : null,
    policies,
    usesTokens: clients.some((c) => c.tokenHash !== null),
  };
}

/** Parses YAML text into a compiled config. */
export function parseConfigText(text: string, baseDir: string, source = 'config'): EgressConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new UserInputError(`egress ${source}: invalid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return compileConfig(raw, baseDir);
}

export function loadConfigFile(path: string): EgressConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserInputError(`cannot read egress config ${path}: ${(err as Error).message}`);
  }
  return parseConfigText(text, dirname(resolvePath(path)), path);
}

/** Quick-start options (CLI flags without a file) as a config object of the same schema. */
export interface QuickStart {
  listen?: string;
  allow: string[];
  allowCidr?: string[];
  resolve?: string[];
  log?: string;
  admin?: string;
}

/**
 * `--allow api.stripe.com` or `--allow 'host:8443'` (a port restricts the rule to that port);
 * `--resolve NAME=ADDR` as in curl. Everything goes through compileConfig, so flags and files are checked alike.
 */
export function quickStartConfig(q: QuickStart, baseDir: string): EgressConfig {
  const allow = q.allow.map((a) => {
    const m = /^(.*):(\d{1,5})$/.exec(a);
    return m ? { host: m[1]!, ports: [Number(m[2])] } : a;
  });
  const resolve: Record<string, string[]> = {};
  for (const r of q.resolve ?? []) {
    const eq = r.indexOf('=');
    if (eq <= 0) throw new UserInputError(`--resolve "${r}": expected NAME=ADDRESS`);
    const name = r.slice(0, eq);
    resolve[name] = [...(resolve[name] ?? []), r.slice(eq + 1)];
  }
  const raw: RawConfig = {
    listen: q.listen ?? '127.0.0.1:3128',
    ...(q.admin ? { admin: q.admin } : {}),
    ...(q.log ? { log: q.log } : {}),
    resolve,
    defaultPolicy: 'default',
    policies: { default: { allow, allowCidrs: q.allowCidr ?? [] } },
  };
  return compileConfig(raw, baseDir);
}
