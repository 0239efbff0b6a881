import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../src/core/checks.js';
import { UserInputError } from '../../src/core/errors.js';
import { checkFiles, checkText } from '../../src/misconfig/deploy.js';

const fixture = (name: string) => new URL(`../fixtures/misconfig/${name}`, import.meta.url).pathname;
const ids = (fs: { id: string }[]) => [...new Set(fs.map((f) => f.id))].sort();

describe('palisade check: Kubernetes and ECS', () => {
  it('a Deployment with every defect yields exactly the expected check ids', async () => {
    const { findings, resources } = await checkFiles([fixture('k8s-insecure.yaml')]);
    expect(resources).toEqual(['Deployment/payments-api']);
    expect(ids(findings)).toEqual([
      'K8S-CAPABILITIES',
      'K8S-HOST-IPC',
      'K8S-HOST-NETWORK',
      'K8S-HOST-PATH',
      'K8S-HOST-PID',
      'K8S-IMAGE-DIGEST',
      'K8S-PRIVILEGE-ESCALATION',
      'K8S-PRIVILEGED',
      'K8S-READONLY-ROOTFS',
      'K8S-RESOURCE-LIMITS',
      'K8S-RUN-AS-ROOT',
      'K8S-SA-TOKEN',
      'K8S-SECCOMP',
      'K8S-SECRET-ENV',
    ]);
    // Only the secret-named variable is reported, not LOG_LEVEL.
    expect(findings.filter((f) => f.id === 'K8S-SECRET-ENV').map((f) => f.detail)).toEqual([
      'container api: DB_PASSWORD has a literal value',
    ]);
  });

  it('findings point at the line in the file (SARIF locations)', async () => {
    const { findings } = await checkFiles([fixture('k8s-insecure.yaml')]);
    const line = (id: string) => findings.find((f) => f.id === id)?.line;
    expect(line('K8S-HOST-NETWORK')).toBe(15);
    expect(line('K8S-HOST-PATH')).toBe(21);
    expect(line('K8S-IMAGE-DIGEST')).toBe(24);
    expect(line('K8S-PRIVILEGED')).toBe(26);
    expect(line('K8S-SECRET-ENV')).toBe(32);
  });

  it('the hardened Deployment yields none', async () => {
    expect((await checkFiles([fixture('k8s-hardened.yaml')])).findings).toEqual([]);
  });

  it('an ECS task definition with every defect yields exactly the expected check ids', async () => {
    const { findings, resources } = await checkFiles([fixture('ecs-insecure.json')]);
    expect(resources).toEqual(['TaskDefinition/payments-api']);
    expect(ids(findings)).toEqual([
      'ECS-CAPABILITIES',
      'ECS-HOST-IPC',
      'ECS-HOST-NETWORK',
      'ECS-HOST-PATH',
      'ECS-HOST-PID',
      'ECS-IMAGE-DIGEST',
      'ECS-LOG-CONFIG',
      'ECS-NETWORK-MODE',
      'ECS-PRIVILEGED',
      'ECS-READONLY-ROOTFS',
      'ECS-RESOURCE-LIMITS',
      'ECS-RUN-AS-ROOT',
      'ECS-SECRET-ENV',
    ]);
    expect(findings.find((f) => f.id === 'ECS-PRIVILEGED')?.line).toBe(12);
  });

  it('the hardened task definition (describe-task-definition form) yields none', async () => {
    expect((await checkFiles([fixture('ecs-hardened.json')])).findings).toEqual([]);
  });

  it('multi-document YAML: CronJob and a List are checked, other kinds are skipped', async () => {
    const { findings, resources } = await checkFiles([fixture('k8s-multi.yaml')]);
    expect(resources).toEqual(['CronJob/settle', 'Pod/debug']);
    expect(findings.map((f) => `${f.resource} ${f.id}`)).toEqual(['CronJob/settle K8S-RESOURCE-LIMITS']);
  });

  it('every check id used is in the NIST/PCI table with a fix', () => {
    for (const c of CHECKS.filter((c) => /^(K8S|ECS)-/.test(c.id))) {
      expect(c.nist[0], c.id).toMatch(/^3\.[1-5]\.\d$/);
      expect(c.pci.length, c.id).toBeGreaterThan(0);
      expect(c.fix, c.id).toBeTruthy();
    }
  });

  it('bad input: invalid YAML and unreadable files are clear errors', async () => {
    expect(() => checkText('kind: Pod\nspec: [unclosed', 'bad.yaml')).toThrow(UserInputError);
    expect(() => checkText('kind: Pod\nspec: [unclosed', 'bad.yaml')).toThrow(/^bad\.yaml:\d+: not valid YAML\/JSON/);
    await expect(checkFiles(['does-not-exist.yaml'])).rejects.toThrow('does-not-exist.yaml: cannot read (ENOENT)');
    // A billion-laughs alias bomb is refused, not expanded.
    const bomb = `a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`;
    expect(() => checkText(bomb, 'bomb.yaml')).toThrow(UserInputError);
  });
});
