import { parse } from 'yaml';
import { UserInputError } from '../../core/errors.js';
import type { NormalizedEvent } from '../normalize/index.js';
import { PatternSet } from './eventbridge/index.js';

/**
 * Routing rules: EventBridge event patterns that send matching events to named targets (notifiers,
 * webhooks, lake tags; resolved by the notify stage). File format (YAML):
 *
 *   routes:
 *     - name: iam-changes
 *       pattern: { source: [aws.iam], detail: { eventName: [{ prefix: Create }] } }
 *       targets: [slack-security]
 *
 * Patterns match the EventBridge envelope of the event (see eventBridgeEnvelope), so patterns written for
 * AWS EventBridge work unchanged on CloudTrail files read from S3.
 */
export interface Route {
  readonly name: string;
  readonly targets: readonly string[];
}

export class Router {
  private readonly set = new PatternSet();
  private readonly routes = new Map<string, Route>();

  add(name: string, pattern: unknown, targets: readonly string[]): void {
    if (!name) throw new UserInputError('route: name must be a non-empty string');
    if (this.routes.has(name)) throw new UserInputError(`route "${name}": defined twice`);
    try {
      this.set.add(name, typeof pattern === 'string' ? pattern : pattern);
    } catch (err) {
      if (err instanceof UserInputError) throw new UserInputError(`route "${name}": ${err.message}`);
      throw err;
    }
    this.routes.set(name, { name, targets });
  }

  get size(): number {
    return this.routes.size;
  }

  /** Routes whose pattern matches the event, in definition order. */
  match(ev: NormalizedEvent): Route[] {
    return this.set.match(eventBridgeEnvelope(ev)).map((n) => this.routes.get(n)!);
  }
}

/** True when a YAML document is a routing file rather than a Sigma rule. */
export function isRoutesDocument(doc: unknown): boolean {
  return doc !== null && typeof doc === 'object' && !Array.isArray(doc) && 'routes' in doc;
}

export function parseRoutes(
  text: string,
  file = 'routes',
): Array<{ name: string; pattern: unknown; targets: string[] }> {
  let doc: unknown;
  try {
    doc = parse(text, { version: '1.2', uniqueKeys: true });
  } catch (err) {
    throw new UserInputError(`${file}: invalid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const routes = (doc as { routes?: unknown } | null)?.routes;
  if (!Array.isArray(routes)) throw new UserInputError(`${file}: "routes" must be a list`);
  return routes.map((r, i) => {
    const o = (r ?? {}) as Record<string, unknown>;
    const at = `${file}: routes[${i}]`;
    if (typeof o.name !== 'string' || o.name === '') throw new UserInputError(`${at}: name must be a non-empty string`);
    if (o.pattern === undefined || o.pattern === null)
      throw new UserInputError(`${at} (${o.name}): pattern is required`);
    const targets = o.targets ?? [];
    if (!Array.isArray(targets) || !targets.every((t) => typeof t === 'string')) {
      throw new UserInputError(`${at} (${o.name}): targets must be a list of names`);
    }
    return { name: o.name, pattern: o.pattern, targets: targets as string[] };
  });
}

const DETAIL_TYPE: Record<string, string> = {
  'kubernetes.audit': 'Kubernetes Audit Event',
  falco: 'Falco Alert',
  'egress-proxy': 'Egress Proxy Log',
};

/**
 * The EventBridge view of an event. CloudTrail records get the envelope AWS gives them ("AWS API Call via
 * CloudTrail", source "aws.<service>"); other sources get source "palisade.<source>" with the raw event as
 * detail. An event that arrived in an envelope keeps it.
 */
export function eventBridgeEnvelope(ev: NormalizedEvent): unknown {
  if (ev.envelope !== undefined) return ev.envelope;
  const raw = (ev.raw ?? {}) as Record<string, unknown>;
  if (ev.source === 'aws.cloudtrail') {
    const service = String(raw.eventSource ?? '').replace(/\.amazonaws\.com$/, '');
    return {
      version: '0',
      id: raw.eventID,
      'detail-type':
        raw.eventType === 'AwsConsoleSignIn' ? 'AWS Console Sign In via CloudTrail' : 'AWS API Call via CloudTrail',
      source: `aws.${service}`,
      account: ev.account,
      time: ev.time,
      region: ev.region,
      resources: [],
      detail: raw,
    };
  }
  return {
    version: '0',
    'detail-type': DETAIL_TYPE[ev.source] ?? 'Event',
    source: `palisade.${ev.source}`,
    ...(ev.account ? { account: ev.account } : {}),
    ...(ev.time ? { time: ev.time } : {}),
    ...(ev.region ? { region: ev.region } : {}),
    resources: ev.resource ? [ev.resource] : [],
    detail: raw,
  };
}
