import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { normalizeEvent } from '../../../src/watch/normalize/index.js';

const fixtures = fileURLToPath(new URL('../../fixtures/watch/', import.meta.url));
const json = (p: string) => JSON.parse(readFileSync(join(fixtures, p), 'utf8'));
const lines = (p: string) =>
  readFileSync(join(fixtures, p), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));

describe('normalize: CloudTrail', () => {
  it('every Stratus Red Team record is CloudTrail with time, action, account and region', () => {
    const dir = join(fixtures, 'cloudtrail/stratus-red-team');
    const records = readdirSync(dir)
      .filter((f) => f !== 'index.json')
      .flatMap((f) => json(`cloudtrail/stratus-red-team/${f}`).Records);
    expect(records).toHaveLength(310);
    for (const r of records) {
      const ev = normalizeEvent(r);
      expect(ev.source).toBe('aws.cloudtrail');
      expect(ev.timeMs).toBe(Date.parse(r.eventTime));
      expect(ev.action).toBe(`${r.eventSource.replace('.amazonaws.com', '')}:${r.eventName}`);
      expect(ev.region).toBe(r.awsRegion);
      expect(ev.account).toBeDefined();
      expect(ev.outcome).toBe(r.errorCode ? 'failure' : 'success');
      expect(ev.raw).toBe(r);
    }
  });
  it('maps the AWS documentation ECR PutImage record field by field', () => {
    const put = json('cloudtrail/awsdocs/ecr-logging-using-cloudtrail.json').Records.find(
      (r: { eventName: string }) => r.eventName === 'PutImage',
    );
    const ev = normalizeEvent(put);
    expect(ev).toMatchObject({
      source: 'aws.cloudtrail',
      time: put.eventTime,
      actor: put.userIdentity.arn,
      action: 'ecr:PutImage',
      outcome: 'success',
      sourceIp: put.sourceIPAddress,
      account: put.recipientAccountId,
      region: put.awsRegion,
      ocsfClass: 'API Activity',
    });
    expect(ev.resource).toBe(put.resources?.[0]?.ARN ?? put.requestParameters.repositoryName);
  });
  it('a console sign-in is an OCSF Authentication, and a Failure is a failed outcome', () => {
    const login = json('cloudtrail/stratus-red-team/aws.initial-access.console-login-without-mfa.json').Records.find(
      (r: { eventName: string }) => r.eventName === 'ConsoleLogin',
    );
    expect(normalizeEvent(login)).toMatchObject({ ocsfClass: 'Authentication', outcome: 'success' });
    expect(normalizeEvent({ ...login, responseElements: { ConsoleLogin: 'Failure' } }).outcome).toBe('failure');
  });
  it('a CloudTrail record inside an EventBridge envelope is unwrapped and the envelope kept', () => {
    const r = json('cloudtrail/awsdocs/ecs-logging-using-cloudtrail.json').Records[0];
    const env = { version: '0', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.ecs', detail: r };
    const ev = normalizeEvent(env);
    expect(ev.source).toBe('aws.cloudtrail');
    expect(ev.raw).toBe(r);
    expect(ev.envelope).toBe(env);
  });
  it('other EventBridge events (ECS service actions) keep their envelope', () => {
    for (const e of json('cloudtrail/awsdocs/ecs-eventbridge-events.json')) {
      const ev = normalizeEvent(e);
      expect(ev).toMatchObject({ source: 'aws.eventbridge', account: e.account, region: e.region, time: e.time });
      expect(ev.action).toBe(`aws.ecs:${e['detail-type']}`);
      expect(ev.resource).toBe(e.resources[0]);
    }
  });
});

describe('normalize: Kubernetes audit (Falco trace files)', () => {
  const dir = join(fixtures, 'k8s-audit');
  const all = readdirSync(dir).flatMap((f) => lines(`k8s-audit/${f}`).map((e) => [f, e] as const));
  it('every audit event in the 47 trace files maps to kubernetes.audit; the fuzz input does not', () => {
    const sources = all.map(([f, e]) => [f, normalizeEvent(e).source]);
    const notAudit = sources.filter(([, s]) => s !== 'kubernetes.audit');
    expect(notAudit).toEqual([['fal_01_003.json', 'unknown']]);
  });
  it('exec into a pod: actor, action with subresource, namespaced resource, source IP, outcome', () => {
    const [e] = lines('k8s-audit/exec_pod.json');
    const ev = normalizeEvent(e);
    expect(ev.actor).toBe(e.user.username);
    expect(ev.action).toBe(`${e.verb} pods/exec`);
    expect(ev.resource).toBe(`pods/${e.objectRef.namespace}/${e.objectRef.name}`);
    expect(ev.sourceIp).toBe(e.sourceIPs[0]);
    expect(ev.outcome).toBe(e.responseStatus.code < 400 ? 'success' : 'failure');
  });
  it('a 403 response is a failure', () => {
    const [e] = lines('k8s-audit/exec_pod.json');
    expect(normalizeEvent({ ...e, responseStatus: { code: 403 } }).outcome).toBe('failure');
  });
});

describe('normalize: Falco alerts (falcosidekick test payloads)', () => {
  const alerts: Array<{ json: Record<string, unknown> }> = json(
    'falco/falcosidekick-test-alerts.json',
  ).alerts_posted_to_falcosidekick;
  it.each(alerts.map((a, i) => [i, a.json] as const))('alert #%i is a Detection Finding named by its rule', (_i, a) => {
    const ev = normalizeEvent(a);
    expect(ev).toMatchObject({ source: 'falco', action: a.rule, ocsfClass: 'Detection Finding', outcome: 'unknown' });
    expect(ev.timeMs).toBe(Date.parse(a.time as string));
  });
});

describe('normalize: egress proxy log lines', () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    [
      'a denied CONNECT',
      {
        time: '2026-01-01T00:00:00.000Z',
        type: 'connect',
        src: '10.1.2.3:51000',
        client: 'payments',
        policy: 'p',
        method: null,
        host: 'evil.example',
        port: 443,
        address: null,
        decision: 'deny',
        reason: 'host not allowed',
        status: 403,
        bytesUp: 0,
        bytesDown: 0,
        durationMs: 1,
      },
      {
        actor: 'payments',
        action: 'connect',
        resource: 'evil.example:443',
        outcome: 'failure',
        sourceIp: '10.1.2.3',
        ocsfClass: 'Network Activity',
      },
    ],
    [
      'an allowed HTTP GET from an IPv6 client',
      {
        time: '2026-01-01T00:00:01.000Z',
        type: 'http',
        src: '[::1]:40000',
        client: null,
        policy: 'p',
        method: 'GET',
        host: 'api.example',
        port: 80,
        address: '192.0.2.1',
        decision: 'allow',
        reason: 'allowlisted',
        status: 200,
        bytesUp: 10,
        bytesDown: 20,
        durationMs: 3,
      },
      {
        actor: '::1',
        action: 'http GET',
        resource: 'api.example:80',
        outcome: 'success',
        sourceIp: '::1',
        ocsfClass: 'HTTP Activity',
      },
    ],
    [
      'a report-mode would-be denial (it went through)',
      {
        time: '2026-01-01T00:00:02.000Z',
        type: 'connect',
        src: '10.0.0.9:1',
        client: null,
        policy: null,
        method: null,
        host: 'x.example',
        port: 443,
        address: null,
        decision: 'report',
        reason: 'host not allowed',
        status: 200,
        bytesUp: 0,
        bytesDown: 0,
        durationMs: 1,
      },
      { outcome: 'success' },
    ],
    [
      'a failed config reload',
      { time: '2026-01-01T00:00:03.000Z', event: 'config_reload', ok: false, message: 'bad yaml' },
      { action: 'egress config_reload', outcome: 'failure' },
    ],
  ];
  it.each(cases)('%s', (_n, line, want) => {
    const ev = normalizeEvent(line);
    expect(ev.source).toBe('egress-proxy');
    expect(ev).toMatchObject(want);
    expect(ev.time).toBe(line.time);
  });
});

describe('normalize: anything else', () => {
  it('keeps the raw event, takes a time from common fields, and says unknown', () => {
    const raw = { '@timestamp': '2026-01-01T00:00:00Z', message: 'hello' };
    expect(normalizeEvent(raw)).toEqual({
      time: raw['@timestamp'],
      timeMs: Date.parse(raw['@timestamp']),
      source: 'unknown',
      outcome: 'unknown',
      raw,
    });
  });
  it('a forced source mapping is used even when the shape is not detected', () => {
    expect(normalizeEvent({ rule: 'r' }, 'falco').source).toBe('falco');
  });
});
