import type { DecodeEvent } from './decode.js';
import type { PreparedGroup, PreparedRecord } from './rows.js';

/**
 * A chunk of decode events as it crosses from a decoding worker to the writing thread: the
 * strings of its prepared records in one array, and the event kinds and counts in one Int32Array.
 * Structured clone writes each event object's keys and builds each object again on the other side;
 * this leaves it the strings alone. (Laid end to end in one string, a chunk cost more still: the
 * join, and a large allocation per chunk on both sides.)
 */
export interface WireChunk {
  strings: (string | null)[];
  ints: Int32Array;
  /** Events other than documents and puts (rare), as they are; the ints say where each goes. */
  others: DecodeEvent[];
}

const DOCUMENT = 0;
const PUT = 1;
const OTHER = 2;

export function toWire(events: readonly DecodeEvent[]): WireChunk {
  const strings: (string | null)[] = [];
  const ints: number[] = [];
  const others: DecodeEvent[] = [];
  for (const e of events) {
    if (e.kind === 'document') {
      ints.push(DOCUMENT);
      continue;
    }
    if (e.kind !== 'put') {
      ints.push(OTHER);
      others.push(e);
      continue;
    }
    const r = e.record;
    ints.push(PUT, e.merge ? 1 : 0, r.withdrawn ? 1 : 0, r.aliases.length, r.groups.length);
    strings.push(r.id, r.modified, r.head, r.detail, r.refs, ...r.aliases);
    for (const g of r.groups)
      strings.push(g.ecosystem, g.ecoBase, g.name, g.entries, g.summary, g.low, g.high, g.severity);
  }
  return { strings, ints: Int32Array.from(ints), others };
}

export function fromWire(chunk: WireChunk): DecodeEvent[] {
  const { strings, ints, others } = chunk;
  const events: DecodeEvent[] = [];
  let i = 0;
  let at = 0;
  let other = 0;
  const damaged = () => new Error('a decoded chunk is damaged');
  const int = () => {
    if (i >= ints.length) throw damaged();
    return ints[i++]!;
  };
  const maybe = (): string | null => {
    if (at >= strings.length) throw damaged();
    return strings[at++]!;
  };
  const str = (): string => {
    const s = maybe();
    if (typeof s !== 'string') throw damaged();
    return s;
  };
  while (i < ints.length) {
    const kind = int();
    if (kind === DOCUMENT) events.push({ kind: 'document' });
    else if (kind === OTHER) {
      const e = others[other++];
      if (!e) throw damaged();
      events.push(e);
    } else if (kind === PUT) {
      const merge = int() === 1;
      const withdrawn = int() === 1;
      const aliasCount = int();
      const groupCount = int();
      const id = str();
      const modified = str();
      const head = str();
      const detail = str();
      const refs = str();
      const aliases: string[] = [];
      for (let a = 0; a < aliasCount; a++) aliases.push(str());
      const groups: PreparedGroup[] = [];
      for (let g = 0; g < groupCount; g++)
        groups.push({
          ecosystem: str(),
          ecoBase: str(),
          name: str(),
          entries: str(),
          summary: maybe(),
          low: maybe(),
          high: maybe(),
          severity: maybe(),
        });
      const record: PreparedRecord = { id, modified, withdrawn, head, detail, refs, groups, aliases };
      events.push({ kind: 'put', record, merge });
    } else throw damaged();
  }
  return events;
}
