import { UserInputError } from '../core/errors.js';
import { SEVERITIES, type Severity } from '../core/types.js';
import { emailNotifier } from './email.js';
import type { Channel } from './outbox.js';
import { pagerDutyNotifier } from './pagerduty.js';
import { slackNotifier } from './slack.js';
import type { Notifier } from './types.js';
import { webhookNotifier } from './webhook.js';

/** A channel as written in a config file (watch and gate share this shape). */
export interface ChannelConfig {
  name: string;
  type: 'slack' | 'webhook' | 'email' | 'pagerduty';
  minSeverity?: Severity;
  maxPerMinute?: number;
  [key: string]: unknown;
}

function str(c: ChannelConfig, key: string, required = true): string | undefined {
  const v = c[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v === '')
    throw new UserInputError(`notify channel ${c.name}: ${key} must be a non-empty string`);
  return v;
}

function httpUrl(c: ChannelConfig, key: string): string {
  const v = str(c, key)!;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new UserInputError(`notify channel ${c.name}: ${key} is not a URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    throw new UserInputError(`notify channel ${c.name}: ${key} must be http(s)`);
  return v;
}

/** One line per notifier type (STYLE.md §1). */
const FACTORIES: Record<ChannelConfig['type'], (c: ChannelConfig) => Notifier> = {
  slack: (c) => slackNotifier({ webhookUrl: httpUrl(c, 'webhookUrl') }),
  webhook: (c) => webhookNotifier({ url: httpUrl(c, 'url'), secret: str(c, 'secret')! }),
  pagerduty: (c) =>
    pagerDutyNotifier({ routingKey: str(c, 'routingKey')!, ...(c.url ? { url: httpUrl(c, 'url') } : {}) }),
  email: (c) => {
    if (!Array.isArray(c.to) || c.to.some((t) => typeof t !== 'string'))
      throw new UserInputError(`notify channel ${c.name}: to must be a list of addresses`);
    return emailNotifier({
      host: str(c, 'host')!,
      port: typeof c.port === 'number' ? c.port : undefined,
      secure: c.secure === true,
      requireTls: c.requireTls === true,
      caFile: str(c, 'caFile', false),
      user: str(c, 'user', false),
      password: str(c, 'password', false),
      from: str(c, 'from')!,
      to: c.to as string[],
    });
  },
};

export function channelsFromConfig(configs: readonly ChannelConfig[]): Channel[] {
  return configs.map((c) => {
    const make = FACTORIES[c.type];
    if (!make)
      throw new UserInputError(
        `notify channel ${c.name}: unknown type ${String(c.type)} (slack, webhook, email, pagerduty)`,
      );
    if (c.minSeverity !== undefined && !SEVERITIES.includes(c.minSeverity)) {
      throw new UserInputError(`notify channel ${c.name}: minSeverity must be one of ${SEVERITIES.join(', ')}`);
    }
    return { name: c.name, notifier: make(c), minSeverity: c.minSeverity, maxPerMinute: c.maxPerMinute };
  });
}
