import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { UserInputError } from '../../../src/core/errors.js';
import { loadRuleSet, type ReplayMatch, readEvents, replay, replayEvents } from '../../../src/watch/replay.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixtures = join(root, 'test/fixtures/watch');
const stratus = join(fixtures, 'cloudtrail/stratus-red-team');
const shippedRules = join(root, 'rules/sigma');
const tmp = mkdtempSync(join(tmpdir(), 'palisade-replay-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, text: string | Buffer) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

interface Technique {
  technique: string;
  file: string;
  candidate_sigma_rules_COMPUTED_by_eventName_lookup: Array<{ id: string; title: string }>;
}
const techniques: Technique[] = JSON.parse(readFileSync(join(stratus, 'index.json'), 'utf8'));

/**
 * Candidates (index.json, found by eventName lookup) that genuinely do not apply to the detonation logs.
 * Each reason names the condition the sample does not meet; the test checks these stay silent.
 */
const NOT_APPLICABLE: Record<string, string> = {
  '9b1b8e9b-0a5d-4af1-9d2f-4c4b6e7c2c9d':
    'needs userAgent containing "TruffleHog"; the detonations use a stratus-red-team agent',
  'db014773-d9d9-4792-91e5-133337c0ffee': 'needs userAgent containing "S3 Browser"',
  'db014773-b1d3-46bd-ba26-133337c0ffee': 'needs userAgent containing "S3 Browser"',
  '6393e346-1977-46ef-8987-ad414a145fad': 'needs errorMessage "Failed authentication"; the sample login succeeded',
  '1ab3c5ed-5baf-417b-bb6b-78ca33f6c3df':
    'needs requestParameters.attribute "userData"; the detonation sets requestParameters.userData (the UserData structure form), which the rule does not cover',
};

/** Rules that fire beyond the eventName lookup, and why that is right. */
const ALSO_FIRES: Record<string, string> = {
  '905d389b-b853-46d0-9d3d-dea0d3a3cd49':
    'AWS STS AssumeRole Misuse: any call by an assumed role (userIdentity.type AssumedRole); the lookup ignores rules without eventName',
  '97fbabf8-8e1b-47a2-b7d5-a418d2b95e3d':
    'AWS New Lambda Layer Attached: eventName|startswith UpdateFunctionConfiguration matches the versioned UpdateFunctionConfiguration20150331v2, which an exact lookup misses',
};

/**
 * Palisade's own rules (rules/sigma/palisade/), written from the detection text of the Stratus Red Team docs for
 * techniques SigmaHQ has no rule for: technique -> rule titles expected to fire.
 */
const PALISADE_EXPECTED: Record<string, string[]> = {
  'aws.credential-access.ec2-get-password-data': ['AWS EC2 Password Data Requested For Many Instances'],
  'aws.credential-access.secretsmanager-batch-retrieve-secrets': ['AWS Secrets Manager Secrets Retrieved In Batch'],
  'aws.credential-access.secretsmanager-retrieve-secrets': ['AWS Secrets Manager Many Secrets Read By One Principal'],
  'aws.defense-evasion.cloudtrail-event-selectors': ['AWS CloudTrail Event Selectors Changed'],
  'aws.defense-evasion.dns-delete-logs': ['AWS Route 53 Resolver Query Logging Removed'],
  'aws.defense-evasion.organizations-leave': ['AWS Account Attempts To Leave Its Organization'],
  'aws.discovery.ec2-download-user-data': ['AWS EC2 Instance User Data Read'],
  'aws.execution.ec2-launch-unusual-instances': ['AWS EC2 RunInstances Denied'],
  'aws.execution.ssm-start-session': ['AWS SSM Sessions To Several Instances'],
  'aws.exfiltration.ec2-share-ami': ['AWS EC2 AMI Shared With Another Account Or Made Public'],
  'aws.exfiltration.rds-share-snapshot': ['AWS RDS Snapshot Shared With Another Account'],
};

describe('replay: Stratus Red Team detonation logs raise the detections their techniques describe', async () => {
  const set = await loadRuleSet([shippedRules]);
  const titleOf = new Map([...set.detections, ...set.correlations].map((r) => [r.id ?? r.title, r.title]));
  const detected = async (t: Technique) =>
    new Set(
      replayEvents(set, await readEvents(join(fixtures, 'cloudtrail', t.file)))
        .filter((m) => m.kind !== 'route')
        .map((m) => m.rule),
    );
  it('has 35 techniques', () => expect(techniques).toHaveLength(35));
  it.each(techniques.map((t) => [t.technique, t] as const))('%s', async (_name, t) => {
    const got = await detected(t);
    const candidates = t.candidate_sigma_rules_COMPUTED_by_eventName_lookup.map((c) => c.id);
    const expected = candidates.filter((id) => !(id in NOT_APPLICABLE));
    for (const id of expected) expect(got, `expected ${id}`).toContain(id);
    for (const id of candidates.filter((c) => c in NOT_APPLICABLE))
      expect(got, `${id}: ${NOT_APPLICABLE[id]}`).not.toContain(id);
    const gotTitles = [...got].map((id) => titleOf.get(id));
    for (const title of PALISADE_EXPECTED[t.technique] ?? []) expect(gotTitles).toContain(title);
    for (const id of got) {
      const explained =
        candidates.includes(id) ||
        id in ALSO_FIRES ||
        (PALISADE_EXPECTED[t.technique] ?? []).includes(titleOf.get(id)!);
      expect(explained, `unexplained detection ${id} (${titleOf.get(id)})`).toBe(true);
    }
  });
  it('SigmaHQ candidates: 12 of the 20 (technique, candidate) pairs fire, the other 8 are explained above', async () => {
    let fired = 0;
    let total = 0;
    for (const t of techniques) {
      const got = await detected(t);
      for (const c of t.candidate_sigma_rules_COMPUTED_by_eventName_lookup) {
        total++;
        if (got.has(c.id)) fired++;
      }
    }
    expect([fired, total]).toEqual([12, 20]);
  });
  it('with the Palisade rules, 23 of the 35 techniques raise a technique-specific detection; these 12 do not', async () => {
    const uncovered: string[] = [];
    for (const t of techniques) {
      const specific = [...(await detected(t))].filter((id) => id !== '905d389b-b853-46d0-9d3d-dea0d3a3cd49');
      if (specific.length === 0) uncovered.push(t.technique);
    }
    expect(uncovered).toEqual(
      [
        'aws.credential-access.ssm-retrieve-securestring-parameters',
        'aws.execution.ec2-user-data',
        'aws.lateral-movement.ec2-instance-connect',
        'aws.lateral-movement.ec2-serial-console-send-ssh-public-key',
        'aws.impact.bedrock-invoke-model',
        'aws.persistence.iam-backdoor-role',
        'aws.persistence.iam-create-backdoor-role',
        'aws.persistence.iam-create-user-login-profile',
        'aws.persistence.lambda-backdoor-function',
        'aws.persistence.lambda-overwrite-code',
        'aws.persistence.rolesanywhere-create-trust-anchor',
        'aws.persistence.sts-federation-token',
      ].sort(),
    );
  });
});

describe('replay: inputs, ordering and output', () => {
  const routes = write(
    'routes.yml',
    `routes:
  - name: iam-writes
    pattern: {source: [aws.iam], detail: {readOnly: [false]}}
    targets: [slack-security]
  - name: k8s-exec
    pattern: {source: [palisade.kubernetes.audit], detail: {objectRef: {subresource: [exec]}}}
    targets: [pagerduty]
`,
  );
  const ct = (name: string, time: string) => ({
    eventName: name,
    eventSource: 'iam.amazonaws.com',
    eventTime: time,
    readOnly: false,
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/a' },
  });

  it('matches are printed in event-time order and name events by their input index', async () => {
    const nd = write(
      'mixed.ndjson',
      [
        JSON.stringify(ct('CreateUser', '2024-01-01T00:00:10Z')),
        JSON.stringify(ct('DeleteUser', '2024-01-01T00:00:05Z')),
        JSON.stringify({
          kind: 'Event',
          apiVersion: 'audit.k8s.io/v1',
          auditID: 'x',
          verb: 'create',
          stageTimestamp: '2024-01-01T00:00:07Z',
          objectRef: { resource: 'pods', subresource: 'exec', namespace: 'default', name: 'p' },
          user: { username: 'u' },
        }),
      ].join('\n'),
    );
    const m = await replay({ rules: [routes], inputs: [nd] });
    expect(m).toEqual([
      { rule: 'iam-writes', kind: 'route', event: 1 },
      { rule: 'k8s-exec', kind: 'route', event: 2 },
      { rule: 'iam-writes', kind: 'route', event: 0 },
    ]);
  });

  it('a gzip CloudTrail file gives the same matches as the plain file', async () => {
    const plain = join(stratus, 'aws.defense-evasion.cloudtrail-stop.json');
    const gz = write('trail.json.gz', gzipSync(readFileSync(plain)));
    const a = await replay({ rules: [shippedRules, routes], inputs: [plain] });
    const b = await replay({ rules: [shippedRules, routes], inputs: [gz] });
    expect(b).toEqual(a);
    expect(a.some((x) => x.kind === 'sigma')).toBe(true);
  });

  it('JSON arrays and Kubernetes EventLists are read as event lists; indexes continue across inputs', async () => {
    const arr = write('arr.json', JSON.stringify([ct('CreateRole', '2024-01-01T00:00:00Z')]));
    const items = readFileSync(join(fixtures, 'k8s-audit/exec_pod.json'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const list = write('list.json', JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items }));
    expect(await readEvents(list)).toHaveLength(1);
    const m = await replay({ rules: [shippedRules, routes], inputs: [arr, list] });
    expect(m.filter((x) => x.kind === 'route').map((x) => [x.rule, x.event])).toEqual([
      ['k8s-exec', 1],
      ['iam-writes', 0],
    ]);
    // The shipped SigmaHQ rule for exec into a pod fires on the Falco trace, with its author carried along.
    expect(m).toContainEqual({
      rule: 'a1b0ca4e-7835-413e-8471-3ff2b8a66be6',
      kind: 'sigma',
      event: 1,
      author: 'Leo Tsaousis (@laripping)',
    });
  });

  it('a correlation names the event that completed it, and its base rule is not reported alone', async () => {
    const login = JSON.parse(
      readFileSync(join(stratus, 'aws.initial-access.console-login-without-mfa.json'), 'utf8'),
    ).Records.find((r: { eventName: string }) => r.eventName === 'ConsoleLogin');
    const t0 = Date.parse(login.eventTime);
    const events = Array.from({ length: 7 }, (_v, i) => ({
      ...login,
      eventTime: new Date(t0 + (6 - i) * 20_000).toISOString(), // written newest first
      responseElements: { ConsoleLogin: 'Failure' },
      errorMessage: 'Failed authentication',
    }));
    const m: ReplayMatch[] = await replay({
      rules: [shippedRules],
      inputs: [write('fail.json', JSON.stringify(events))],
    });
    const corr = m.filter((x) => x.kind === 'correlation');
    // In time order the 5th failure is input index 2 (indexes 6,5,4,3,2 are the five oldest).
    expect(corr).toEqual([
      { rule: '5474c2ff-da31-4840-9b3f-e23b150c1b5c', kind: 'correlation', event: 2, author: 'Palisade' },
    ]);
    expect(m.filter((x) => x.rule === 'aa05ddf5-b23e-4578-a43f-7a4c6ed1fd64')).toEqual([]);
    // SigmaHQ's own failed-authentication rule is not part of a correlation, so it reports every failure.
    expect(m.filter((x) => x.rule === '6393e346-1977-46ef-8987-ad414a145fad')).toHaveLength(7);
  });

  it.each([
    ['a file that is not JSON', 'bad.json', '{"Records": [', /not JSON/],
    ['a scalar event', 'num.json', '42', /must be a JSON object/],
    ['broken gzip', 'bad.gz', Buffer.from([0x1f, 0x8b, 0, 1, 2, 3]), /gzip/],
  ])('refuses %s', async (_n, name, body, msg) => {
    await expect(replay({ rules: [routes], inputs: [write(name, body)] })).rejects.toThrow(msg);
    await expect(replay({ rules: [routes], inputs: [write(name, body)] })).rejects.toBeInstanceOf(UserInputError);
  });

  it('a bad NDJSON line is reported with its line number', async () => {
    const nd = write('bad.ndjson', '{"a":1}\n{"a":2}\nnot json\n');
    await expect(replay({ rules: [routes], inputs: [nd] })).rejects.toThrow(/bad\.ndjson:3: not JSON/);
  });

  it('a Sigma file with a broken rule is refused with the file and rule named', async () => {
    const bad = write(
      'bad-rule.yml',
      'title: Broken\nlogsource: {}\ndetection:\n  sel: {a|nope: 1}\n  condition: sel\n',
    );
    await expect(loadRuleSet([bad])).rejects.toThrow(/bad-rule\.yml: rule "Broken": .*unknown modifier "nope"/);
  });

  it('an invalid routing pattern is refused with the route named', async () => {
    const bad = write(
      'badroutes.yml',
      'routes:\n  - name: broken\n    pattern: {a: [{wildcard: "x**"}]}\n    targets: []\n',
    );
    await expect(loadRuleSet([bad])).rejects.toThrow(/route "broken": .*Consecutive wildcard/);
  });
});

describe('replay: the CLI', () => {
  const cli = (args: string[]) =>
    run(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'watch', 'replay', ...args], {
      cwd: root,
    }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  it('prints one JSON line per match and exits 0', async () => {
    const r = await cli([
      '--rules',
      shippedRules,
      '--input',
      join(stratus, 'aws.defense-evasion.cloudtrail-delete.json'),
    ]);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(Object.keys(l).slice(0, 3)).toEqual(['rule', 'kind', 'event']);
  });
  it('bad input: one line on stderr and exit code 2', async () => {
    const r = await cli(['--rules', shippedRules, '--input', join(tmp, 'does-not-exist.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/input not found/);
  });
  it('--placeholder fills Sigma %placeholders%: a login from a listed country is filtered out', async () => {
    const login = JSON.parse(
      readFileSync(join(stratus, 'aws.initial-access.console-login-without-mfa.json'), 'utf8'),
    ).Records.find((r: { eventName: string }) => r.eventName === 'ConsoleLogin');
    const input = write('login-country.json', JSON.stringify([{ ...login, src_country: 'CH' }]));
    const rule = join(shippedRules, 'rules-placeholder');
    const without = await cli(['--rules', rule, '--input', input]);
    const withList = await cli([
      '--rules',
      rule,
      '--input',
      input,
      '--placeholder',
      'Legitimate_Countries=CH,DE',
      'Legitimate_IP_Ranges=10.0.0.0/8',
    ]);
    expect(
      without.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).rule),
    ).toEqual(['313e72de-0c0d-4d65-8c95-87f4d546eceb']);
    expect(withList.stdout.trim()).toBe('');
  });
  it('an unknown --format is refused', async () => {
    const r = await cli(['--rules', shippedRules, '--input', join(stratus, 'index.json'), '--format', 'xml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown format/);
  });
});

describe('replay: SigmaHQ Kubernetes audit rules on the Falco audit trace files', async () => {
  const set = await loadRuleSet([join(shippedRules, 'rules/application/kubernetes')]);
  const titleOf = new Map(set.detections.map((r) => [r.id ?? r.title, r.title]));
  // Every trace file not listed raises nothing (configmaps, deployments created, anonymous namespace, the fuzz input...).
  const expected: Record<string, string[]> = {
    'attach_cluster_admin_role.json': ['Kubernetes Rolebinding Modification'],
    'create_clusterrolebinding.json': ['Kubernetes Rolebinding Modification'],
    'delete_clusterrolebinding.json': ['Kubernetes Rolebinding Modification'],
    'create_kube_system_secret.json': ['Kubernetes Secrets Modified or Deleted'],
    'create_secret.json': ['Kubernetes Secrets Modified or Deleted'],
    'create_service_account_token_secret.json': ['Kubernetes Secrets Modified or Deleted'],
    'delete_secret.json': ['Kubernetes Secrets Modified or Deleted'],
    // `hostPath` is mapped to the pod spec's volumes (the unsensitive-mount trace is a `get`, not a create).
    'create_nginx_pod_sensitive_mount.json': ['Container With A hostPath Mount Created'],
    'create_nginx_pod_sensitive_mount_2nd_container.json': ['Container With A hostPath Mount Created'],
    'create_pod_kube_system_namespace.json': ['Creation Of Pod In System Namespace'],
    'create_serviceaccount.json': ['New Kubernetes Service Account Created'],
    'create_serviceaccount_kube_public_namespace.json': ['New Kubernetes Service Account Created'],
    'create_serviceaccount_kube_system_namespace.json': ['New Kubernetes Service Account Created'],
    'delete_deployment.json': ['Deployment Deleted From Kubernetes Cluster'],
    'exec_pod.json': ['Potential Remote Command Execution In Pod Container'],
  };
  const files = readdirSync(join(fixtures, 'k8s-audit')).sort();
  it('has the 47 trace files', () => expect(files).toHaveLength(47));
  it.each(files)('%s', async (file) => {
    const m = replayEvents(set, await readEvents(join(fixtures, 'k8s-audit', file)));
    const titles = [...new Set(m.filter((x) => x.kind === 'sigma').map((x) => titleOf.get(x.rule)))];
    expect(titles).toEqual(expected[file] ?? []);
  });
});
