import {
  type Event,
  type EventKind,
  eventOf,
  eventOrder,
  isStar,
  isZero,
  type OsvAffected,
  rangesToCheck,
  walk,
} from './affected.js';
import { comparatorFor } from './versions/index.js';

/**
 * A package's `affected[]` entries written down at import in order-key space (versions/order-key.ts):
 * ranges with their events already sorted, and the version lists, as keys. A matcher holding the
 * installed version's key can then rule a record out with string comparisons alone, before parsing
 * its JSON, which is most of what matching costs on a first scan. Only a "certainly not affected"
 * is ever taken from a summary: every other answer goes through the full evaluator (affected.ts).
 *
 * A summary exists only when every version the entries name has a key (plain dotted numbers in a
 * scheme that has keys); one version it cannot read and there is no summary.
 *
 * A summary answers both ways: when it says a version is covered, it also gives the fixed versions
 * that end the ranges holding it, as the record spells them, so a hit needs no parsing either.
 *
 * Text form, ranges then lists: `i0,fBA12=1.012;iA2,lA3|A1,B10`: per range, events `<kind><key>`
 * joined by `,` (kinds: i introduced, f fixed, l last_affected, m limit; `i0` and `m*` are the two
 * ends; a fixed event adds `=` and its version as written), ranges joined by `;`, then `|` and the
 * listed versions' keys joined by `,`. Keys and keyed versions are letters, digits and dots only.
 */

const KIND_CHAR: Record<EventKind, string> = { introduced: 'i', fixed: 'f', last_affected: 'l', limit: 'm' };
const CHAR_KIND: Record<string, EventKind> = { i: 'introduced', f: 'fixed', l: 'last_affected', m: 'limit' };

/** Summaries longer than this are not written (a record listing thousands of versions). */
const MAX_SUMMARY = 16_384;

/**
 * Keys already computed, per scheme: an import meets the same few thousand version strings in
 * hundreds of thousands of records (and each Debian record once per release). Bounded.
 */
const keyMemo = new WeakMap<(v: string) => string | null, Map<string, string | null>>();
const MAX_MEMO = 50_000;

/** `orderKey` through its memo. */
function memoised(orderKey: (v: string) => string | null): (v: string) => string | null {
  let memo = keyMemo.get(orderKey);
  if (!memo) {
    memo = new Map();
    keyMemo.set(orderKey, memo);
  }
  const m = memo;
  return (v) => {
    let k = m.get(v);
    if (k === undefined) {
      k = orderKey(v);
      if (m.size >= MAX_MEMO) m.clear();
      m.set(v, k);
    }
    return k;
  };
}

/** The summary of one package's entries, or null when it cannot be written exactly. */
export function summarize(ecosystem: string, entries: readonly OsvAffected[]): string | null {
  const orderKey = comparatorFor(ecosystem)?.orderKey;
  if (!orderKey) return null;
  const key = memoised(orderKey);
  let ranges = '';
  let rangeCount = 0;
  let listed = '';
  for (const a of entries) {
    if (!a || typeof a !== 'object') continue;
    for (const range of rangesToCheck(a)) {
      const events: Event[] = [];
      for (const raw of range.events as unknown[]) {
        const e = raw && typeof raw === 'object' ? eventOf(raw as object) : null;
        if (!e) continue;
        if (isZero(e) || isStar(e)) {
          events.push({ ...e, parsed: null });
          continue;
        }
        const k = key(e.version);
        if (k === null) return null;
        events.push({ kind: e.kind, version: k, parsed: e.version });
      }
      if (events.length > 1) events.sort(byKey);
      let text = '';
      for (const e of events) {
        text += (text ? ',' : '') + KIND_CHAR[e.kind] + e.version;
        if (e.kind === 'fixed' && e.parsed !== null) text += `=${e.parsed as string}`;
      }
      ranges += (rangeCount > 0 ? ';' : '') + text;
      rangeCount++;
    }
    if (Array.isArray(a.versions))
      for (const v of a.versions) {
        if (typeof v !== 'string') continue;
        const k = key(v);
        if (k === null) return null;
        listed += listed ? `,${k}` : k;
      }
  }
  const text = `${ranges}|${listed}`;
  return text.length > MAX_SUMMARY ? null : text;
}

/** The evaluator's event order, keys compared as strings. */
const byKey = eventOrder((x, y) => (x.version < y.version ? -1 : x.version > y.version ? 1 : 0));

/**
 * What the entries a summary describes say about the version whose order key is `installed`: null
 * when none covers it; otherwise the fixed versions that end the ranges holding it, as written,
 * lowest first (empty: affected, no fix known). Exactly the evaluator's answer (affected.ts).
 */
export function summaryAssess(summary: string, installed: string): string[] | null {
  const bar = summary.lastIndexOf('|');
  let affected = false;
  let fixed: Event[] | null = null;
  if (bar > 0) {
    const vs = (e: Event) => (installed < e.version ? -1 : installed > e.version ? 1 : 0);
    for (const range of summary.slice(0, bar).split(';')) {
      const events: Event[] = [];
      for (const t of range.split(',')) {
        const kind = CHAR_KIND[t[0]!];
        if (!kind) continue;
        const eq = kind === 'fixed' ? t.indexOf('=') : -1;
        events.push(
          eq > 0
            ? { kind, version: t.slice(1, eq), parsed: t.slice(eq + 1) }
            : { kind, version: t.slice(1), parsed: null },
        );
      }
      const w = walk(events, vs);
      if (!w) continue;
      affected = true;
      const closing = w.closedBy >= 0 ? events[w.closedBy]! : null;
      if (closing?.kind === 'fixed' && typeof closing.parsed === 'string') {
        fixed ??= [];
        if (!fixed.some((f) => f.parsed === closing.parsed)) fixed.push(closing);
      }
    }
  }
  if (
    !affected &&
    (bar === summary.length - 1 ||
      !summary
        .slice(bar + 1)
        .split(',')
        .includes(installed))
  )
    return null;
  if (fixed === null) return [];
  // Stable, as the evaluator's sort: two spellings of one version keep the order they were met in.
  if (fixed.length > 1) fixed.sort((x, y) => (x.version < y.version ? -1 : x.version > y.version ? 1 : 0));
  return fixed.map((f) => f.parsed as string);
}

/**
 * True when the entries a summary describes certainly do not cover the version whose order key is
 * `installed`: no range holds it and no list names it.
 */
export function summaryExcludes(summary: string, installed: string): boolean {
  return summaryAssess(summary, installed) === null;
}
