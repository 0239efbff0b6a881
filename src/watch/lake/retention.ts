import { UserInputError } from '../../core/errors.js';
import type { LakeBackend } from './backend.js';
import { dtOfKey } from './layout.js';

export interface RetentionPolicy {
  /** Keep at least this long (PCI DSS 10.5.1: 12 months of audit log history). Default 365 days. */
  retentionDays: number;
  /** Immediately available for analysis (PCI DSS 10.5.1: at least 3 months). Default 90 days. */
  hotDays: number;
}

export const PCI_RETENTION: RetentionPolicy = { retentionDays: 365, hotDays: 90 };

/** Deny by default: a policy shorter than PCI DSS 10.5.1 needs an explicit `allowBelowPci`. */
export function checkRetention(p: Partial<RetentionPolicy>, allowBelowPci = false): RetentionPolicy {
  const policy = {
    retentionDays: p.retentionDays ?? PCI_RETENTION.retentionDays,
    hotDays: p.hotDays ?? PCI_RETENTION.hotDays,
  };
  if (!Number.isInteger(policy.retentionDays) || policy.retentionDays < 1)
    throw new UserInputError('lake.retentionDays must be a positive integer');
  if (!Number.isInteger(policy.hotDays) || policy.hotDays < 0 || policy.hotDays > policy.retentionDays) {
    throw new UserInputError('lake.hotDays must be between 0 and retentionDays');
  }
  if (!allowBelowPci && (policy.retentionDays < 365 || policy.hotDays < 90)) {
    throw new UserInputError(
      `lake retention ${policy.retentionDays} days (hot ${policy.hotDays}) is below PCI DSS 10.5.1 (365, 90 immediately available); set allowBelowPci: true to accept`,
    );
  }
  return policy;
}

export interface SweepResult {
  deleted: string[];
  /** Files older than hotDays still kept: candidates for colder storage (S3 lifecycle transitions). */
  cold: number;
  kept: number;
  /** Temp files left by a crash mid-write, removed. */
  orphans: string[];
}

/**
 * Deletes lake files whose partition day is older than retentionDays (by event-time partition, in UTC), and
 * temp files a crash left behind. Run it between writer steps (the writer's loop does), never beside a write.
 */
export async function sweepRetention(backend: LakeBackend, policy: RetentionPolicy, now: number): Promise<SweepResult> {
  const day = 86_400_000;
  const cutoff = new Date(now - policy.retentionDays * day).toISOString().slice(0, 10);
  const hotCutoff = new Date(now - policy.hotDays * day).toISOString().slice(0, 10);
  const result: SweepResult = { deleted: [], cold: 0, kept: 0, orphans: [] };
  const toDelete: string[] = [];
  for await (const { key } of backend.list()) {
    if (/\.tmp-[0-9a-f]+$/.test(key)) {
      result.orphans.push(key);
      continue;
    }
    const dt = dtOfKey(key);
    if (dt === null) continue;
    if (dt < cutoff) toDelete.push(key);
    else {
      result.kept++;
      if (dt < hotCutoff) result.cold++;
    }
  }
  for (const key of toDelete) {
    await backend.delete(key);
    result.deleted.push(key);
  }
  for (const key of result.orphans) await backend.delete(key);
  return result;
}
