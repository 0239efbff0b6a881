import { createHash } from 'node:crypto';
import { UserInputError } from '../../core/errors.js';
import { eventTime, type IngestEvent, isRecord, nativeId } from './types.js';

/** The Elasticsearch version we claim: shippers (Beats, Logstash, Fluent Bit, clients) check the major. */
export const ES_VERSION = '8.11.0';

export interface EsAnswer {
  status: number;
  body: unknown;
}

/** `GET /`: the info document shippers probe before sending. */
export function esInfo(clusterName: string): unknown {
  return {
    name: 'palisade-watch',
    cluster_name: clusterName,
    cluster_uuid: 'palisade-watch-ingest',
    version: {
      number: ES_VERSION,
      build_flavor: 'default',
      build_type: 'docker',
      build_hash: 'palisade',
      build_date: '2023-11-04T10:04:57.184859352Z',
      build_snapshot: false,
      lucene_version: '9.8.0',
      minimum_wire_compatibility_version: '7.17.0',
      minimum_index_compatibility_version: '7.0.0',
    },
    tagline: 'You Know, for Search',
  };
}

export function esError(status: number, type: string, reason: string): EsAnswer {
  return { status, body: { error: { root_cause: [{ type, reason }], type, reason }, status } };
}

/**
 * Answers for the set-up calls shippers make besides `_bulk`: licence, xpack, templates, ILM policies, ingest
 * pipelines, data streams. Reads say "absent" (404) and writes are acknowledged, so a shipper installs its
 * templates (to no effect) and proceeds to ship. Null when the path is not one of these.
 */
export function esProbe(method: string, path: string): EsAnswer | null {
  if (path === '/' && (method === 'GET' || method === 'HEAD')) return { status: 200, body: esInfo('palisade') };
  if (path === '/_license' && method === 'GET') {
    return {
      status: 200,
      body: {
        license: {
          status: 'active',
          uid: 'palisade',
          type: 'basic',
          issue_date: '2024-01-01T00:00:00.000Z',
          issue_date_in_millis: 1704067200000,
          max_nodes: 1000,
          issued_to: 'palisade',
          issuer: 'elasticsearch',
          start_date_in_millis: -1,
        },
      },
    };
  }
  if (path === '/_xpack' && method === 'GET') {
    return {
      status: 200,
      body: {
        build: { hash: 'palisade', date: '2023-11-04T10:04:57.184859352Z' },
        license: { uid: 'palisade', type: 'basic', mode: 'basic', status: 'active' },
        features: { ilm: { available: true, enabled: true }, security: { available: true, enabled: true } },
      },
    };
  }
  const m =
    /^\/(_index_template|_template|_component_template|_ilm\/policy|_ingest\/pipeline|_data_stream)(\/[^/]+)?$/.exec(
      path,
    );
  if (m) {
    if (method === 'GET' || method === 'HEAD') return esError(404, 'resource_not_found_exception', `${m[1]} not found`);
    if (method === 'PUT' || method === 'POST') return { status: 200, body: { acknowledged: true } };
  }
  if (path === '/_nodes/http' || path === '/_nodes/_all/http') {
    return {
      status: 200,
      body: { _nodes: { total: 1, successful: 1, failed: 0 }, cluster_name: 'palisade', nodes: {} },
    };
  }
  return null;
}

export interface BulkItem {
  action: string;
  index: string;
  id: string;
  /** Set when this item is refused (unsupported action, bad document). */
  error?: { status: number; type: string; reason: string };
  event?: IngestEvent;
}

const TIME_FIELDS = ['@timestamp', 'timestamp', 'time'];

/**
 * Parses a `_bulk` body: NDJSON pairs of an action (`index`/`create` + document) or `delete`/`update` (which a
 * log lake does not do: refused per item, like an ES index that forbids them). A malformed line fails the whole
 * request, as Elasticsearch does. The id is the action's `_id` if given, else a hash of the document.
 */
export function parseBulk(text: string, defaultIndex: string | undefined, receivedAt: number): BulkItem[] {
  const lines = text.split('\n');
  const items: BulkItem[] = [];
  const json = (i: number) => {
    try {
      return JSON.parse(lines[i]!) as unknown;
    } catch {
      throw new UserInputError(`_bulk line ${i + 1}: not valid JSON`);
    }
  };
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.trim()) continue;
    const action = json(i);
    if (!isRecord(action) || Object.keys(action).length !== 1) {
      throw new UserInputError(`_bulk line ${i + 1}: malformed action, expected one of index, create, update, delete`);
    }
    const [name, meta] = Object.entries(action)[0]!;
    if (!isRecord(meta)) throw new UserInputError(`_bulk line ${i + 1}: action metadata must be an object`);
    const index = typeof meta._index === 'string' ? meta._index : defaultIndex;
    if (!index) throw new UserInputError(`_bulk line ${i + 1}: no _index given`);
    const givenId = typeof meta._id === 'string' && meta._id ? meta._id : undefined;
    if (name === 'delete') {
      items.push({
        action: name,
        index,
        id: givenId ?? '',
        error: {
          status: 400,
          type: 'illegal_argument_exception',
          reason: 'palisade log lake is append-only: delete is not supported',
        },
      });
      continue;
    }
    if (name !== 'index' && name !== 'create' && name !== 'update') {
      throw new UserInputError(`_bulk line ${i + 1}: unknown action ${name}`);
    }
    i++;
    while (i < lines.length && !lines[i]!.trim()) i++;
    if (i >= lines.length) throw new UserInputError(`_bulk: action ${name} has no document line`);
    const doc = json(i);
    if (name === 'update') {
      items.push({
        action: name,
        index,
        id: givenId ?? '',
        error: {
          status: 400,
          type: 'illegal_argument_exception',
          reason: 'palisade log lake is append-only: update is not supported',
        },
      });
      continue;
    }
    if (!isRecord(doc)) {
      items.push({
        action: name,
        index,
        id: givenId ?? '',
        error: { status: 400, type: 'document_parsing_exception', reason: 'document must be a JSON object' },
      });
      continue;
    }
    const id = givenId ?? createHash('sha256').update(lines[i]!).digest('base64url').slice(0, 20);
    items.push({
      action: name,
      index,
      id,
      event: {
        id: nativeId('elasticsearch', `${index}/${id}`),
        source: 'elasticsearch',
        time: eventTime(doc, TIME_FIELDS, receivedAt),
        receivedAt,
        data: doc,
      },
    });
  }
  return items;
}

/** The `_bulk` answer in Elasticsearch's format, so shippers see success per item. */
export function bulkResponse(items: BulkItem[], tookMs: number): unknown {
  let seq = 0;
  return {
    took: tookMs,
    errors: items.some((it) => it.error),
    items: items.map((it) => ({
      [it.action]: it.error
        ? {
            _index: it.index,
            _id: it.id,
            status: it.error.status,
            error: { type: it.error.type, reason: it.error.reason },
          }
        : {
            _index: it.index,
            _id: it.id,
            _version: 1,
            result: 'created',
            _shards: { total: 1, successful: 1, failed: 0 },
            _seq_no: seq++,
            _primary_term: 1,
            status: 201,
          },
    })),
  };
}
