import { UserInputError } from '../../core/errors.js';
import type { Severity } from '../../core/types.js';
import type { NormalizedEvent } from '../normalize/index.js';

/**
 * One baseline alert. `explanation` states the numbers in words so that whoever reads the alert can judge it
 * without looking anything up; `numbers` carries the same figures for machines (STYLE.md §2).
 */
export interface BaselineAlert {
  /** Detector name, e.g. "first-seen-action". */
  readonly detector: string;
  /** The state key the alert is about (an actor, a client, "source:aws.cloudtrail", ...). */
  readonly key: string;
  readonly severity: Severity;
  readonly title: string;
  readonly explanation: string;
  readonly numbers: Readonly<Record<string, number>>;
  /** Event time (ms) of the event that raised it. */
  readonly time: number;
}

/**
 * A statistical detector over one kind of key (STYLE.md §1: registered in one list in index.ts). The engine owns
 * the state: it finds or creates the state of each key the event touches, calls `observe`, persists the state and
 * drops alerts raised during the detector's learning period. Detectors never read the wall clock: `t` is event time.
 */
export interface BaselineDetector<S = unknown> {
  readonly name: string;
  /** Bump when the state layout or meaning changes: stored state of another version is discarded. */
  readonly version: number;
  /** The state keys this event updates (cheap, no state); empty when the event is not for this detector. */
  keys(ev: NormalizedEvent): readonly string[];
  /** Fresh state for a key first seen at event time `t`. */
  init(t: number): S;
  /** Learns from the event and returns an alert when it stands out from the key's history. */
  observe(state: S, ev: NormalizedEvent, t: number, key: string): BaselineAlert | undefined;
  encode(state: S): string;
  decode(text: string): S;
}

/** Options every detector understands. */
export interface CommonOptions {
  /** Set false to switch the detector off. */
  readonly enabled?: boolean;
  /** Detector-wide learning period: no alerts until this many days of event time have passed since its first event. */
  readonly learningDays?: number;
}

const DAY = 86_400_000;
export const DAY_MS = DAY;

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** 1204 -> "1,204". */
export function int(n: number): string {
  return intFmt.format(n);
}

/** (1, "event") -> "1 event", (1204, "event") -> "1,204 events". */
export function count(n: number, word: string): string {
  return `${int(n)} ${n === 1 ? word : `${word}s`}`;
}

/** 41.23 -> "41.2", 14 -> "14". */
export function dec(n: number): string {
  return oneFmt.format(n);
}

/** Rounds to 3 decimals for `numbers` (stable output, no float noise). */
export function r3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

export function days(fromMs: number, toMs: number): number {
  return Math.max(0, toMs - fromMs) / DAY;
}

export function positive(name: string, v: unknown, fallback: number, integer = false): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
    return badOption(name, v, integer ? 'a non-negative integer' : 'a non-negative number');
  }
  return v;
}

function badOption(name: string, v: unknown, want: string): never {
  throw new UserInputError(`baselines: ${name} must be ${want}, got ${JSON.stringify(v)}`);
}
