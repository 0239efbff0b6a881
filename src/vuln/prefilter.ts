import {
  type Event,
  type EventKind,
  eventOf,
  eventOrder,
  isStar,
  isZero,
  type OsvAffected,
  orderKeysOf,
  rangesToCheck,
  walk,
} from './affected.js';
import { comparatorFor } from './versions/index.js';

/**
 * A package's `affected[]` entries written down at import in order-key space (versions/order-key.ts):
 * ranges with their events already sorted, and the version lists, as keys. A matcher holding the
 * installed version's key can then rule a record out with string comparisons alone, before parsing
 * its JSON, which is most of what matching costs on a first scan.
 *
 * A summary exists only when every version the entries name has a key (plain dotted numbers in a
 * scheme that has keys, any Debian version); one version it cannot read and there is no summary,
 * and the matcher evaluates the entries in full (affected.ts).
 *
 * A summary answers both ways: when it says a version is covered, it also gives the fixed versions
 * that end the ranges holding it, as the record spells them, so a hit needs no parsing either.
 *
 * Text form, ranges then lists: `i0,fBA12=1.012;iA2,lA3|A1,B10`: per range, events `<kind><key>`
 * joined by `,` (kinds: i introduced, f fixed, l last_affected, m limit; `i0` and `m*` are the two
 * ends; a fixed event adds `=` and its version as written), ranges joined by `;`, then `|` and the
 * listed versions' keys joined by `,`, leaving out those a range already holds. No key and no
 * keyed version holds `,` `;` `|` or `=`.
 */

const KIND_CHAR: Record<EventKind, string> = { introduced: 'i', fixed: 'f', last_affected: 'l', limit: 'm' };

/** Summaries longer than this are not written (a record listing thousands of versions). */
const MAX_SUMMARY = 16_384;

/**
 * A summary's text, and the keys between which the versions it covers lie: every installed key below
 * `low` or at or above `high` is ruled out, as `summaryAssess` would. Null where there is no such
 * bound (an `introduced: "0"`; a range open to the top). The DB keeps the bounds in its lookup index,
 * so that a lookup leaves those records unread.
 */
export interface Summary {
  text: string;
  low: string | null;
  high: string | null;
}

/** The summary of one package's entries, or null when it cannot be written exactly. */
export function summarize(ecosystem: string, entries: readonly OsvAffected[]): Summary | null {
  const cmp = comparatorFor(ecosystem);
  if (!cmp?.orderKey) return null;
  const key = orderKeysOf(cmp);
  let ranges = '';
  const held: Event[][] = [];
  const listedKeys = new Set<string>();
  // undefined: nothing seen yet; null: unbounded.
  let low: string | null | undefined;
  let high: string | null = '';
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
      let last: EventKind | undefined;
      let top = '';
      let limit: string | null | undefined;
      for (const e of events) {
        text += (text ? ',' : '') + KIND_CHAR[e.kind] + e.version;
        if (e.kind === 'fixed') text += `=${e.parsed as string}`;
        if (e.kind === 'limit') {
          limit = limit === null || isStar(e) ? null : limit === undefined || e.version > limit ? e.version : limit;
          continue;
        }
        last = e.kind;
        if (e.version > top) top = e.version;
        // Below every introduced event, walk() never opens an interval.
        if (e.kind === 'introduced' && low !== null) low = isZero(e) ? null : lowest(low, e.version);
      }
      // Above every event, walk() meets each one and ends as the last non-limit event leaves it:
      // open after an introduced, closed after a fixed or last_affected (ties between equal keys keep
      // the record's order, so only keys strictly above all of them are certain). Limits, when all
      // are reached and none is `*`, close the range too.
      const closedAbove = last === undefined ? '' : last === 'introduced' ? null : top + JUST_ABOVE;
      const capped = limit ?? null;
      const end = closedAbove === null ? capped : capped === null || closedAbove < capped ? closedAbove : capped;
      if (end === null) high = null;
      else if (high !== null && end > high) high = end;
      ranges += (held.length > 0 ? ';' : '') + text;
      held.push(events);
    }
    if (Array.isArray(a.versions))
      for (const v of a.versions) {
        if (typeof v !== 'string') continue;
        const k = key(v);
        if (k === null) return null;
        listedKeys.add(k);
      }
  }
  // A listed version a range already holds changes no answer (the fix comes from the ranges either
  // way), so only the others are written: OSV lists mostly enumerate what the ranges hold, and
  // Debian's run to dozens of versions per record.
  let listed = '';
  for (const k of listedKeys) {
    const vs = (e: Event) => (k < e.version ? -1 : k > e.version ? 1 : 0);
    if (held.some((events) => walk(events, vs))) continue;
    listed += listed ? `,${k}` : k;
    if (low !== null) low = lowest(low, k);
    if (high !== null && k + JUST_ABOVE > high) high = k + JUST_ABOVE;
  }
  const text = `${ranges}|${listed}`;
  // Nothing introduced and nothing listed: no version is covered, and high ('') already says so.
  return text.length > MAX_SUMMARY ? null : { text, low: low ?? null, high };
}

function lowest(current: string | undefined, k: string): string {
  return current === undefined || k < current ? k : current;
}

/** The evaluator's event order, keys compared as strings. */
const byKey = eventOrder((x, y) => (x.version < y.version ? -1 : x.version > y.version ? 1 : 0));

/** Appended to a key, the smallest key above it (keys hold no character below `!`). */
const JUST_ABOVE = ' ';

/**
 * What the entries a summary describes say about the version whose order key is `installed`: null
 * when none covers it; otherwise the fixed versions that end the ranges holding it, as written,
 * lowest first (empty: affected, no fix known). Exactly the evaluator's answer (affected.ts).
 *
 * It reads the text in place, token by token, without splitting it into arrays: it runs once per
 * candidate record of a scan, mostly in code V8 has not optimised yet.
 */
export function summaryAssess(summary: string, installed: string): string[] | null {
  const bar = summary.lastIndexOf('|');
  let affected = false;
  let fixedAt: number[] | null = null;
  for (let from = 0; from < bar; ) {
    let to = summary.indexOf(';', from);
    if (to < 0 || to > bar) to = bar;
    const closing = walkRange(summary, from, to, installed);
    if (closing !== NOT_AFFECTED) {
      affected = true;
      if (closing >= 0) {
        fixedAt ??= [];
        if (!fixedAt.some((at) => sameFixed(summary, at, closing))) fixedAt.push(closing);
      }
    }
    from = to + 1;
  }
  if (!affected && !listed(summary, bar + 1, installed)) return null;
  if (fixedAt === null) return [];
  const fixed = fixedAt.map((at) => ({
    key: summary.slice(at + 1, summary.indexOf('=', at)),
    version: fixedVersion(summary, at),
  }));
  // Stable, as the evaluator's sort: two spellings of one version keep the order they were met in.
  if (fixed.length > 1) fixed.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  return fixed.map((f) => f.version);
}

const NOT_AFFECTED = -2;
const OPEN = -1;

/** Where the token starting at `at` ends: the next `,` before `to`, else `to`. */
function tokenEnd(text: string, at: number, to: number): number {
  const comma = text.indexOf(',', at);
  return comma < 0 || comma > to ? to : comma;
}

/** `installed` against the key at text[a, b), as strings compare: negative, zero or positive. */
function compareKey(installed: string, text: string, a: number, b: number): number {
  const key = text.slice(a, b);
  return installed < key ? -1 : installed > key ? 1 : 0;
}

/** Whether the fixed tokens at `a` and `b` name the same version as written. */
function sameFixed(text: string, a: number, b: number): boolean {
  return fixedVersion(text, a) === fixedVersion(text, b);
}

/** The version as written of the fixed token at `at`: up to the next `,`, `;` or `|`. */
function fixedVersion(text: string, at: number): string {
  const eq = text.indexOf('=', at);
  let end = eq + 1;
  while (end < text.length) {
    const c = text.charCodeAt(end);
    if (c === COMMA || c === SEMICOLON || c === BAR) break;
    end++;
  }
  return text.slice(eq + 1, end);
}
const COMMA = 44;
const SEMICOLON = 59;
const BAR = 124;

/**
 * `walk` (affected.ts) over one range of the text, text[from, to): NOT_AFFECTED, OPEN (affected,
 * closed by no fixed event), or where the fixed event closing the interval that holds the version
 * starts. Events are already in the evaluator's order.
 */
function walkRange(text: string, from: number, to: number, installed: string): number {
  // limit: an upper bound for the whole range ("*" = none).
  let limited = false;
  let underLimit = false;
  for (let at = from, end = 0; at < to; at = end + 1) {
    end = tokenEnd(text, at, to);
    if (text[at] !== 'm') continue;
    limited = true;
    if ((end === at + 2 && text[at + 1] === '*') || compareKey(installed, text, at + 1, end) < 0) underLimit = true;
  }
  if (limited && !underLimit) return NOT_AFFECTED;
  let affected = false;
  let stop = to;
  for (let at = from, next = 0; at < to; at = next + 1) {
    next = tokenEnd(text, at, to);
    const kind = text[at];
    if (kind === 'm') continue;
    let end = next;
    if (kind === 'i') {
      if ((end === at + 2 && text[at + 1] === '0') || compareKey(installed, text, at + 1, end) >= 0) affected = true;
      else {
        stop = at;
        break;
      }
    } else {
      if (kind === 'f') {
        const eq = text.indexOf('=', at);
        if (eq >= 0 && eq < end) end = eq;
      }
      const d = compareKey(installed, text, at + 1, end);
      if (kind === 'f' ? d >= 0 : d > 0) affected = false;
      else {
        stop = at;
        break;
      }
    }
  }
  if (!affected) return NOT_AFFECTED;
  // The first closing event at or after the stop point ends the interval holding the version.
  for (let at = stop; at < to; at = tokenEnd(text, at, to) + 1) {
    if (text[at] === 'f') return at;
    if (text[at] === 'l') return OPEN;
  }
  return OPEN;
}

/** Whether the list part of the text, from `from`, names the key `installed`. */
function listed(text: string, from: number, installed: string): boolean {
  for (let at = text.indexOf(installed, from); at >= 0; at = text.indexOf(installed, at + 1)) {
    const end = at + installed.length;
    if ((at === from || text.charCodeAt(at - 1) === COMMA) && (end === text.length || text.charCodeAt(end) === COMMA))
      return true;
  }
  return false;
}
