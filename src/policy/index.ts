import { UserInputError } from '../core/errors.js';
import { type Finding, SEVERITIES, type Severity, severityRank } from '../core/types.js';

/** Every decision carries its reason (STYLE.md §2). */
export interface Verdict {
  pass: boolean;
  reason: string;
  /** The findings that failed the policy. */
  failing: Finding[];
}

export interface FailOnPolicy {
  /** Fail when any counted finding is at or above this severity. */
  failOn?: Severity;
  /** Count only findings that have a fixed version (for vulnerabilities). */
  ignoreUnfixed?: boolean;
}

export function parseSeverity(flag: string, value: string): Severity {
  const s = value.toUpperCase();
  if (!(SEVERITIES as readonly string[]).includes(s)) {
    throw new UserInputError(`${flag}: "${value}" is not one of ${SEVERITIES.map((x) => x.toLowerCase()).join(', ')}`);
  }
  return s as Severity;
}

/** The scan's verdict under a `--fail-on` policy. No threshold: the scan passes whatever it found. */
export function evaluateFailOn(findings: readonly Finding[], policy: FailOnPolicy): Verdict {
  if (!policy.failOn) return { pass: true, reason: 'no --fail-on threshold set', failing: [] };
  const threshold = severityRank(policy.failOn);
  const failing = findings.filter(
    (f) =>
      f.kind !== 'not-scanned' &&
      severityRank(f.severity) >= threshold &&
      !(policy.ignoreUnfixed && f.kind === 'vulnerability' && !f.fixedVersion),
  );
  if (failing.length === 0) {
    return { pass: true, reason: `no finding at or above ${policy.failOn}`, failing };
  }
  const byKind = new Map<string, number>();
  for (const f of failing) byKind.set(f.kind, (byKind.get(f.kind) ?? 0) + 1);
  const parts = [...byKind].map(([k, n]) => `${n} ${k}${n === 1 ? '' : 's'}`).join(', ');
  return { pass: false, reason: `${failing.length} findings at or above ${policy.failOn} (${parts})`, failing };
}
