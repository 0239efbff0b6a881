import { readFile, stat } from 'node:fs/promises';
import type { ErrorObject } from 'ajv';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { LimitExceededError, UserInputError } from '../../core/errors.js';
import { newAjv } from '../../core/json-schema.js';
import { type Purl, parsePurl } from './purl.js';

/**
 * The ignore file (`--ignore-file FILE`): local, reasoned, dated exceptions.
 *
 * ```yaml
 * ignore:
 *   - id: CVE-2021-23337            # or a GHSA id, or a check id
 *     package: pkg:npm/lodash        # optional: a name, or a purl (prefix match without version)
 *     paths: ["srv/app/**"]          # optional: globs on the finding's path
 *     reason: only used at build time
 *     expires: 2026-06-30            # optional: suppresses through that day (UTC)
 * ```
 */

export const MAX_IGNORE_FILE_BYTES = 1024 * 1024;

export interface IgnoreEntry {
  id: string;
  package?: string;
  /** Parsed when `package` is a purl. */
  purl?: Purl;
  paths?: string[];
  /** Compiled `paths`. */
  pathPatterns?: RegExp[];
  reason: string;
  expires?: string;
  /** 1-based position in the file and line, for messages. */
  index: number;
  line: number;
}

export interface IgnoreFile {
  source: string;
  entries: IgnoreEntry[];
}

const schema = {
  type: 'object',
  required: ['ignore'],
  additionalProperties: false,
  properties: {
    ignore: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'reason'],
        additionalProperties: false,
        properties: {
          id: { type: 'string', minLength: 1 },
          package: { type: 'string', minLength: 1 },
          paths: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
          reason: { type: 'string', pattern: '\\S' },
          expires: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', format: 'date' },
        },
      },
    },
  },
} as const;

let validator: ReturnType<ReturnType<typeof newAjv>['compile']> | undefined;
function validate(data: unknown): ErrorObject[] {
  validator ??= newAjv().compile(schema);
  return validator(data) ? [] : (validator.errors ?? []);
}

export async function loadIgnoreFile(path: string): Promise<IgnoreFile> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    throw new UserInputError(`ignore file ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (size > MAX_IGNORE_FILE_BYTES) {
    throw new LimitExceededError(
      `ignore file ${path}: ${size} bytes is more than the limit of ${MAX_IGNORE_FILE_BYTES}`,
    );
  }
  return parseIgnoreFile(await readFile(path, 'utf8'), path);
}

/** Parses and validates ignore-file text; every problem is a UserInputError that names the line. */
export function parseIgnoreFile(text: string, source: string): IgnoreFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const line = yamlError.linePos?.[0]?.line ?? lineCounter.linePos(yamlError.pos[0]).line;
    throw new UserInputError(`ignore file ${source}: invalid YAML at line ${line}: ${firstLine(yamlError.message)}`);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // yaml refuses alias expansion beyond the count (a "billion laughs" file) with a ReferenceError.
    throw new UserInputError(`ignore file ${source}: ${(err as Error).message}`);
  }
  if (data === null || data === undefined) {
    throw new UserInputError(`ignore file ${source}: empty; expected a mapping with an "ignore:" list`);
  }
  const lineOf = (path: (string | number)[]): number => {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return 1;
  };
  const errors = validate(data);
  if (errors.length) throw shapeError(source, data, errors, lineOf);
  const list = (data as { ignore: Omit<IgnoreEntry, 'index' | 'line'>[] }).ignore;
  const entries = list.map((e, i): IgnoreEntry => {
    const line = lineOf(['ignore', i]);
    const entry: IgnoreEntry = { ...e, id: e.id.trim(), reason: e.reason.trim(), index: i + 1, line };
    if (e.package?.startsWith('pkg:')) {
      const purl = parsePurl(e.package);
      if (!purl) {
        throw new UserInputError(
          `ignore file ${source}: entry ${i + 1} (${e.id}, line ${lineOf(['ignore', i, 'package'])}): "${e.package}" is not a valid purl`,
        );
      }
      entry.purl = purl;
    }
    if (e.paths) entry.pathPatterns = e.paths.map(globToRegExp);
    return entry;
  });
  return { source, entries };
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

function shapeError(
  source: string,
  data: unknown,
  errors: ErrorObject[],
  lineOf: (path: (string | number)[]) => number,
): UserInputError {
  // A missing reason is the mistake people make; say it plainly, naming the entry.
  const e =
    errors.find((x) => x.keyword === 'required' && x.params.missingProperty === 'reason') ??
    errors.find((x) => x.instancePath.endsWith('/reason')) ??
    errors[0]!;
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~')));
  const line = lineOf(path);
  let where = `line ${line}`;
  if (path[0] === 'ignore' && typeof path[1] === 'number') {
    const entry = (data as { ignore: Record<string, unknown>[] }).ignore[path[1]];
    const id = typeof entry?.id === 'string' ? `${entry.id}, ` : '';
    where = `entry ${path[1] + 1} (${id}line ${line})`;
  }
  if (e.keyword === 'required' && e.params.missingProperty === 'reason') {
    return new UserInputError(`ignore file ${source}: ${where} has no reason; every entry needs one`);
  }
  if (e.instancePath.endsWith('/reason')) {
    return new UserInputError(`ignore file ${source}: ${where} has an empty reason; every entry needs one`);
  }
  if (e.keyword === 'required') {
    return new UserInputError(`ignore file ${source}: ${where}: missing "${e.params.missingProperty}"`);
  }
  if (e.keyword === 'additionalProperties') {
    return new UserInputError(`ignore file ${source}: ${where}: unknown key "${e.params.additionalProperty}"`);
  }
  if (e.instancePath.endsWith('/expires')) {
    return new UserInputError(`ignore file ${source}: ${where}: expires must be a date YYYY-MM-DD`);
  }
  const field = e.instancePath ? ` ${e.instancePath.split('/').pop()}` : '';
  return new UserInputError(`ignore file ${source}: ${where}:${field} ${e.message ?? 'is invalid'}`);
}

/** Globs on slash-separated paths: `**` spans directories, `*` and `?` stay within one; leading `/` ignored. */
export function globToRegExp(glob: string): RegExp {
  const g = glob.replace(/^\/+/, '');
  let re = '';
  for (let i = 0; i < g.length; i++) {
    const c = g[i]!;
    if (c === '*' && g[i + 1] === '*') {
      // "**/" also matches no directory at all.
      if (g[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** An entry suppresses through the whole of its `expires` day, in UTC. */
export function isExpired(entry: IgnoreEntry, now: Date): boolean {
  if (!entry.expires) return false;
  const end = Date.parse(`${entry.expires}T00:00:00Z`) + 24 * 60 * 60 * 1000;
  return now.getTime() >= end;
}
