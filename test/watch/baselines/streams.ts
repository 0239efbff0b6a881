/** Deterministic generated event streams with known answers (seeded PRNG, event time only). */

import type { NormalizedEvent } from '../../../src/watch/normalize/index.js';
import { normalizeEvent } from '../../../src/watch/normalize/index.js';
import { prng } from '../../helpers/prng.js';

export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
export const T0 = Date.parse('2026-03-02T00:00:00Z');

/** A CloudTrail record as AWS writes it, normalised the way the watch stage does. */
export function cloudtrail(t: number, user: string, action: string, extra: Record<string, unknown> = {}) {
  const [svc, name] = action.split(':') as [string, string];
  return normalizeEvent({
    eventVersion: '1.08',
    userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::111122223333:user/${user}`, accountId: '111122223333' },
    eventTime: new Date(t).toISOString().replace('.000', ''),
    eventSource: `${svc}.amazonaws.com`,
    eventName: name,
    awsRegion: 'eu-west-1',
    sourceIPAddress: '192.0.2.10',
    recipientAccountId: '111122223333',
    ...extra,
  });
}

export const arn = (user: string) => `arn:aws:iam::111122223333:user/${user}`;

/** An egress proxy access line (the proxy's JSON log format), normalised. */
export function egressLine(t: number, client: string, host: string, port: number, decision = 'allow') {
  return normalizeEvent({
    time: new Date(t).toISOString(),
    type: 'connect',
    src: '10.1.2.3:51000',
    client,
    policy: 'default',
    method: null,
    host,
    port,
    address: null,
    decision,
    reason: decision === 'deny' ? 'host not allowed' : 'allowed',
    status: decision === 'deny' ? 403 : 200,
    bytesUp: 10,
    bytesDown: 10,
    durationMs: 5,
  });
}

export const ROUTINE = ['sts:GetCallerIdentity', 'ec2:DescribeInstances', 's3:ListBuckets', 's3:GetObject'];

/** `days` days of one user's routine: one call every `everyMin` minutes, cycling through ROUTINE. */
export function routine(user: string, days: number, everyMin = 20, start = T0): NormalizedEvent[] {
  const out: NormalizedEvent[] = [];
  let i = 0;
  for (let t = start; t < start + days * DAY; t += everyMin * MIN) out.push(cloudtrail(t, user, ROUTINE[i++ % 4]!));
  return out;
}

/** Merges streams by event time (stable). */
export function merge(...streams: NormalizedEvent[][]): NormalizedEvent[] {
  return streams.flat().sort((a, b) => a.timeMs! - b.timeMs!);
}

/**
 * 12 days of mixed activity that makes every detector speak: routine users, an egress client, a new API, a rare
 * API, a burst of calls and a new egress destination.
 */
export function mixed(): NormalizedEvent[] {
  const rnd = prng(7);
  const extra: NormalizedEvent[] = [];
  const hosts = ['api.stripe.com', 'db.internal', 'sqs.eu-west-1.amazonaws.com'];
  for (let t = T0; t < T0 + 12 * DAY; t += 30 * MIN)
    extra.push(egressLine(t, 'payments', hosts[Math.floor(rnd() * 3)]!, 443));
  extra.push(cloudtrail(T0 + 2 * DAY, 'alice', 'iam:ListUsers'));
  extra.push(cloudtrail(T0 + 9 * DAY, 'alice', 'iam:ListUsers'));
  extra.push(cloudtrail(T0 + 10 * DAY, 'alice', 'iam:CreateUser'));
  for (let i = 0; i < 200; i++) extra.push(cloudtrail(T0 + 11 * DAY + i * 1000, 'bob', 's3:GetObject'));
  extra.push(egressLine(T0 + 11 * DAY + HOUR, 'payments', 'evil.example', 443, 'deny'));
  return merge(routine('alice', 12, 15), routine('bob', 12, 25), extra);
}

export { prng };
