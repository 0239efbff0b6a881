import type { Cmp } from './types.js';
import { compareDigits, makeComparator, stripZeros } from './util.js';

/**
 * Maven's ComparableVersion (maven-artifact): a version is a tree of items; `.` separates items
 * in a list, `-` and digit/letter transitions open a sub-list. Known qualifiers order as
 * alpha < beta < milestone < rc < snapshot < "" (release) < sp, unknown ones after them
 * lexically; `ga`, `final`, `release` mean release, `cr` means rc; a/b/m right before a digit
 * mean alpha/beta/milestone. Trailing "null" items (0, release, empty lists) are dropped.
 */
type Item =
  | { readonly kind: 'int'; readonly value: string }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'combination'; readonly str: StringItem; readonly digits: Item }
  | { readonly kind: 'list'; readonly items: Item[] };
type StringItem = Extract<Item, { kind: 'string' }>;
type ListItem = Extract<Item, { kind: 'list' }>;

export type MavenVersion = ListItem;

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const RELEASE_QUALIFIERS = new Set(['ga', 'final', 'release']);
const RELEASE_INDEX = String(QUALIFIERS.indexOf(''));

function stringItem(raw: string, followedByDigit: boolean): StringItem {
  let value = raw;
  if (followedByDigit && value.length === 1) {
    if (value === 'a') value = 'alpha';
    else if (value === 'b') value = 'beta';
    else if (value === 'm') value = 'milestone';
  }
  return { kind: 'string', value: value === 'cr' ? 'rc' : value };
}

/** Sort key of a qualifier: its index among the known ones, else "7-" + text (after all). */
function qualifierKey(q: string): string {
  if (RELEASE_QUALIFIERS.has(q)) return RELEASE_INDEX;
  const i = QUALIFIERS.indexOf(q);
  return i >= 0 ? String(i) : `${QUALIFIERS.length}-${q}`;
}

function strCmp(a: string, b: string): Cmp {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isNull(item: Item): boolean {
  switch (item.kind) {
    case 'int':
      return item.value === '0';
    case 'string':
      return item.value === '';
    case 'combination':
      return false;
    case 'list':
      return item.items.length === 0;
  }
}

function parseItem(combination: boolean, digit: boolean, buf: string): Item {
  if (combination) {
    const v = buf.replace(/-/g, '');
    let k = 0;
    while (k < v.length && !(v.charCodeAt(k) >= 48 && v.charCodeAt(k) <= 57)) k++;
    return { kind: 'combination', str: stringItem(v.slice(0, k), true), digits: parseItem(false, true, v.slice(k)) };
  }
  if (digit) return { kind: 'int', value: stripZeros(buf) || '0' };
  return stringItem(buf, false);
}

function isDigitAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}

/**
 * Drops null items (0, "", empty lists) that end the list or precede a qualifier, so that
 * 1.0 == 1 and 1.0-rc == 1-rc, but 1.0.final-redhat keeps its "final".
 */
function normalize(list: ListItem): void {
  const items = list.items;
  for (let i = items.length - 1; i >= 0; i--) {
    if (!isNull(items[i]!)) continue;
    const next = items[i + 1];
    if (next === undefined || next.kind === 'string') items.splice(i, 1);
    else if (next.kind === 'list') {
      const first = next.items[0];
      if (first !== undefined && (first.kind === 'combination' || first.kind === 'string')) items.splice(i, 1);
    }
  }
  const only = items[0];
  if (items.length === 1 && only !== undefined && only.kind === 'list') {
    // Removing a zero prefix must not leave an extra qualifier nesting level.
    items.length = 0;
    items.push(...only.items);
  }
}

export function parseMaven(input: string): MavenVersion | null {
  if (input.length === 0) return null;
  const version = input.toLowerCase();
  const root: ListItem = { kind: 'list', items: [] };
  let list = root;
  const stack: ListItem[] = [root];
  const openSublist = (): void => {
    const sub: ListItem = { kind: 'list', items: [] };
    list.items.push(sub);
    list = sub;
    stack.push(sub);
  };
  let digit = false;
  let combination = false;
  let start = 0;
  for (let i = 0; i < version.length; i++) {
    const c = version[i]!;
    if (c === '.') {
      if (i === start) list.items.push({ kind: 'int', value: '0' });
      else list.items.push(parseItem(combination, digit, version.slice(start, i)));
      combination = false;
      start = i + 1;
    } else if (c === '-') {
      if (i === start) list.items.push({ kind: 'int', value: '0' });
      else {
        // "X-1" reads as the combination "X1".
        if (!digit && i !== version.length - 1 && isDigitAt(version, i + 1)) {
          combination = true;
          continue;
        }
        list.items.push(parseItem(combination, digit, version.slice(start, i)));
      }
      start = i + 1;
      if (list.items.length > 0) openSublist();
      combination = false;
    } else if (isDigitAt(version, i)) {
      if (!digit && i > start) {
        // "X1": a qualifier directly followed by a number.
        combination = true;
        if (list.items.length > 0) openSublist();
      }
      digit = true;
    } else {
      if (digit && i > start) {
        list.items.push(parseItem(combination, true, version.slice(start, i)));
        start = i;
        openSublist();
        combination = false;
      }
      digit = false;
    }
  }
  if (version.length > start) {
    // "1.0.0.X1" < "1.0.0-X2": a trailing ".X" qualifier reads as "-X".
    if (!digit && list.items.length > 0) openSublist();
    list.items.push(parseItem(combination, digit, version.slice(start)));
  }
  while (stack.length > 0) normalize(stack.pop()!);
  return root;
}

/** Item.compareTo(other), where other may be null (a missing item). */
function compareItem(a: Item, b: Item | null): Cmp {
  switch (a.kind) {
    case 'int':
      if (b === null) return a.value === '0' ? 0 : 1;
      // 1.1 > 1-sp, 1.1 > 1-1
      return b.kind === 'int' ? compareDigits(a.value, b.value) : 1;
    case 'string':
      if (b === null) return strCmp(qualifierKey(a.value), RELEASE_INDEX);
      switch (b.kind) {
        case 'int':
          return -1;
        case 'string':
          return strCmp(qualifierKey(a.value), qualifierKey(b.value));
        case 'combination': {
          const r = compareItem(a, b.str);
          if (r !== 0) return r;
          return compareItem(a, null) === 0 ? neg(compareItem(b.digits, null)) : -1;
        }
        case 'list':
          return neg(compareItem(b, a));
      }
      return 0;
    case 'combination':
      if (b === null) {
        const r = compareItem(a.str, null);
        // A release-equivalent qualifier lets the number decide: 1-ga1 > 1.
        return r === 0 ? compareItem(a.digits, null) : r;
      }
      switch (b.kind) {
        case 'int':
          return -1;
        case 'string': {
          const r = compareItem(a.str, b);
          if (r !== 0) return r;
          // X1 > X
          return compareItem(a.str, null) === 0 ? compareItem(a.digits, null) : 1;
        }
        case 'list':
          return neg(compareItem(b, a));
        case 'combination': {
          const r = compareItem(a.str, b.str);
          return r === 0 ? compareItem(a.digits, b.digits) : r;
        }
      }
      return 0;
    case 'list':
      if (b === null) {
        for (const item of a.items) {
          const r = compareItem(item, null);
          if (r !== 0) return r;
        }
        return 0;
      }
      switch (b.kind) {
        case 'int':
          return -1;
        case 'string':
        case 'combination': {
          let r: Cmp = a.items.length === 0 ? neg(compareItem(b, null)) : compareItem(a.items[0]!, b);
          for (let i = 1; r === 0 && i < a.items.length; i++) r = compareItem(a.items[i]!, null);
          return r;
        }
        case 'list': {
          const n = Math.max(a.items.length, b.items.length);
          for (let i = 0; i < n; i++) {
            const l = a.items[i] ?? null;
            const r = b.items[i] ?? null;
            const c: Cmp = l === null ? (r === null ? 0 : neg(compareItem(r, null))) : compareItem(l, r);
            if (c !== 0) return c;
          }
          return 0;
        }
      }
  }
}

function neg(c: Cmp): Cmp {
  return (c === 0 ? 0 : -c) as Cmp;
}

function itemToString(item: Item): string {
  switch (item.kind) {
    case 'int':
    case 'string':
      return item.value;
    case 'combination':
      return item.str.value + itemToString(item.digits);
    case 'list': {
      let s = '';
      for (const it of item.items) {
        if (s.length > 0) s += it.kind === 'list' ? '-' : '.';
        s += itemToString(it);
      }
      return s;
    }
  }
}

/** ComparableVersion.getCanonical(). */
export function mavenCanonical(v: MavenVersion): string {
  return itemToString(v);
}

export const maven = makeComparator<MavenVersion>('maven', parseMaven, (a, b) => compareItem(a, b));
