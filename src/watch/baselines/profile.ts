/**
 * How often one key (an actor, an egress client) did each thing (an API action, a destination): the history that
 * first-seen and rare detectors compare an event with. Items live in a Map (never a plain object: action names come
 * from the events, and "__proto__" must stay an ordinary name).
 */
export interface Profile {
  /** Events seen for the key. */
  n: number;
  /** Event time (ms) of the key's first and latest event. */
  first: number;
  last: number;
  items: Map<string, number>;
  /** Items forgotten because the profile was full (see `bump`). */
  forgotten: number;
}

export function newProfile(t: number): Profile {
  return { n: 0, first: t, last: t, items: new Map(), forgotten: 0 };
}

/**
 * Counts one occurrence of `item` at time `t` and returns how often it was seen before. A profile holds at most
 * `maxItems` items: a new item in a full profile first forgets the least frequent one (the oldest among equals),
 * which may make that item look new again later; `forgotten` counts these.
 */
export function bump(p: Profile, item: string, t: number, maxItems: number): number {
  const before = p.items.get(item) ?? 0;
  if (before === 0 && p.items.size >= maxItems) {
    let victim: string | undefined;
    let least = Number.POSITIVE_INFINITY;
    for (const [k, c] of p.items) {
      if (c < least) {
        least = c;
        victim = k;
      }
    }
    if (victim !== undefined) {
      p.items.delete(victim);
      p.forgotten++;
    }
  }
  p.items.set(item, before + 1);
  p.n++;
  if (t > p.last) p.last = t;
  return before;
}

/** Flat array [n, first, last, forgotten, item, count, item, count, ...]: cheaper to build and parse than pairs. */
export function encodeProfile(p: Profile): string {
  const flat: Array<string | number> = [p.n, p.first, p.last, p.forgotten];
  for (const [k, c] of p.items) flat.push(k, c);
  return JSON.stringify(flat);
}

export function decodeProfile(text: string): Profile {
  const flat = JSON.parse(text) as Array<string | number>;
  const items = new Map<string, number>();
  for (let i = 4; i < flat.length; i += 2) items.set(flat[i] as string, flat[i + 1] as number);
  return {
    n: flat[0] as number,
    first: flat[1] as number,
    last: flat[2] as number,
    forgotten: flat[3] as number,
    items,
  };
}
