import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { UserInputError } from '../core/errors.js';
import type { ChannelConfig } from '../notify/index.js';

/** `palisade watch --config FILE` (YAML). Documented with an example in docs/watch.md. */
export interface WatchConfig {
  /** `sqlite:PATH` (default `sqlite:palisade-watch.db` beside the config) or `postgres://…`. */
  store?: string;
  http?: {
    host?: string;
    port: number;
    tokens?: string[];
    allowAnonymous?: boolean;
    maxBodyBytes?: number;
    tls?: { certFile: string; keyFile: string };
  };
  syslog?: {
    host?: string;
    udpPort?: number;
    tcpPort?: number;
    tls?: { port: number; certFile: string; keyFile: string; caFile?: string; requireClientCert?: boolean };
    maxMessageBytes?: number;
  };
  cloudtrail?: {
    pollSeconds?: number;
    dirs?: string[];
    s3?: { bucket: string; prefix?: string; region?: string; endpoint?: string; forcePathStyle?: boolean }[];
  };
  queue?: { capacity?: number };
  lake?: {
    dir?: string;
    s3?: { bucket: string; prefix?: string; region?: string; endpoint?: string; forcePathStyle?: boolean };
    maxFileBytes?: number;
    maxFileSeconds?: number;
    intervalMs?: number;
    retentionDays?: number;
    hotDays?: number;
    allowBelowPci?: boolean;
  };
  notify?: { dedupWindowSeconds?: number; channels?: ChannelConfig[] };
  heartbeats?: { source: string; maxSilenceMinutes: number; severity?: string }[];
  /** Routing patterns and Sigma rules (files or directories) run on every event; correlation state in `stateFile`. */
  rules?: { paths: string[]; stateFile?: string };
}

const s3Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['bucket'],
  properties: {
    bucket: { type: 'string', minLength: 3 },
    prefix: { type: 'string' },
    region: { type: 'string' },
    endpoint: { type: 'string' },
    forcePathStyle: { type: 'boolean' },
  },
};
const port = { type: 'integer', minimum: 0, maximum: 65535 };
const tls = {
  type: 'object',
  additionalProperties: false,
  required: ['certFile', 'keyFile'],
  properties: { certFile: { type: 'string' }, keyFile: { type: 'string' } },
};

const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    store: { type: 'string', minLength: 1 },
    http: {
      type: 'object',
      additionalProperties: false,
      required: ['port'],
      properties: {
        host: { type: 'string' },
        port,
        tokens: { type: 'array', items: { type: 'string', minLength: 16 } },
        allowAnonymous: { type: 'boolean' },
        maxBodyBytes: { type: 'integer', minimum: 1024 },
        tls,
      },
    },
    syslog: {
      type: 'object',
      additionalProperties: false,
      properties: {
        host: { type: 'string' },
        udpPort: port,
        tcpPort: port,
        tls: {
          type: 'object',
          additionalProperties: false,
          required: ['port', 'certFile', 'keyFile'],
          properties: {
            port,
            certFile: { type: 'string' },
            keyFile: { type: 'string' },
            caFile: { type: 'string' },
            requireClientCert: { type: 'boolean' },
          },
        },
        maxMessageBytes: { type: 'integer', minimum: 480 },
      },
    },
    cloudtrail: {
      type: 'object',
      additionalProperties: false,
      properties: {
        pollSeconds: { type: 'number', minimum: 1 },
        dirs: { type: 'array', items: { type: 'string' } },
        s3: { type: 'array', items: s3Schema },
      },
    },
    queue: { type: 'object', additionalProperties: false, properties: { capacity: { type: 'integer', minimum: 1 } } },
    lake: {
      type: 'object',
      additionalProperties: false,
      properties: {
        dir: { type: 'string' },
        s3: s3Schema,
        maxFileBytes: { type: 'integer', minimum: 1024 },
        maxFileSeconds: { type: 'number', minimum: 0 },
        intervalMs: { type: 'integer', minimum: 10 },
        retentionDays: { type: 'integer', minimum: 1 },
        hotDays: { type: 'integer', minimum: 0 },
        allowBelowPci: { type: 'boolean' },
      },
    },
    notify: {
      type: 'object',
      additionalProperties: false,
      properties: {
        dedupWindowSeconds: { type: 'number', minimum: 0 },
        channels: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name', 'type'],
            properties: {
              name: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
              type: { enum: ['slack', 'webhook', 'email', 'pagerduty'] },
              minSeverity: { enum: ['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] },
              maxPerMinute: { type: 'integer', minimum: 1 },
            },
          },
        },
      },
    },
    rules: {
      type: 'object',
      additionalProperties: false,
      required: ['paths'],
      properties: {
        paths: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
        stateFile: { type: 'string', minLength: 1 },
      },
    },
    heartbeats: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['source', 'maxSilenceMinutes'],
        properties: {
          source: { type: 'string', pattern: '^[a-z0-9_]{1,32}$' },
          maxSilenceMinutes: { type: 'number', exclusiveMinimum: 0 },
          severity: { enum: ['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] },
        },
      },
    },
  },
};

const validate = new Ajv({ allErrors: false }).compile(SCHEMA);

/** Replaces every string value `env:NAME` with that environment variable, so secrets stay out of the file. */
function expandEnv(v: unknown, env: NodeJS.ProcessEnv, path: string): unknown {
  if (typeof v === 'string') {
    const m = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(v);
    if (!m) return v;
    const value = env[m[1]!];
    if (value === undefined) throw new UserInputError(`config ${path}: environment variable ${m[1]} is not set`);
    return value;
  }
  if (Array.isArray(v)) return v.map((x, i) => expandEnv(x, env, `${path}[${i}]`));
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expandEnv(x, env, `${path}.${k}`)]));
  return v;
}

/** Relative paths in the config are relative to the config file. */
function resolvePaths(c: WatchConfig, base: string): WatchConfig {
  const r = (p: string | undefined) => (p === undefined ? undefined : resolve(base, p));
  if (c.store && !/^(sqlite:|postgres(ql)?:\/\/)/.test(c.store)) c.store = `sqlite:${r(c.store)}`;
  else if (c.store?.startsWith('sqlite:') && c.store !== 'sqlite::memory:') c.store = `sqlite:${r(c.store.slice(7))}`;
  if (c.lake?.dir) c.lake.dir = r(c.lake.dir);
  if (c.cloudtrail?.dirs) c.cloudtrail.dirs = c.cloudtrail.dirs.map((d) => r(d)!);
  for (const t of [c.http?.tls, c.syslog?.tls]) {
    if (t) {
      t.certFile = r(t.certFile)!;
      t.keyFile = r(t.keyFile)!;
    }
  }
  if (c.syslog?.tls?.caFile) c.syslog.tls.caFile = r(c.syslog.tls.caFile);
  if (c.rules) {
    c.rules.paths = c.rules.paths.map((p) => r(p)!);
    if (c.rules.stateFile) c.rules.stateFile = r(c.rules.stateFile);
  }
  for (const ch of c.notify?.channels ?? []) if (typeof ch.caFile === 'string') ch.caFile = r(ch.caFile);
  return c;
}

export function parseWatchConfig(text: string, baseDir: string, env: NodeJS.ProcessEnv = process.env): WatchConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new UserInputError(`config: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  // Expand env: first so that the schema checks the real values (token length, URLs).
  doc = expandEnv(doc, env, '');
  if (!validate(doc)) {
    const e = validate.errors?.[0];
    throw new UserInputError(
      `config${e?.instancePath ? ` ${e.instancePath}` : ''}: ${e?.message ?? 'invalid'}${e?.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`,
    );
  }
  const c = resolvePaths(doc as WatchConfig, baseDir);
  if (!c.http && !c.syslog && !c.cloudtrail)
    throw new UserInputError('config: no sources (http, syslog or cloudtrail)');
  if (c.lake?.dir && c.lake.s3) throw new UserInputError('config /lake: set dir or s3, not both');
  return c;
}

export function loadWatchConfig(file: string): WatchConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserInputError(`cannot read config ${file}: ${(err as Error).message}`);
  }
  return parseWatchConfig(text, dirname(resolve(file)));
}
