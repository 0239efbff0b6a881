import { readFile } from 'node:fs/promises';
import { requireCheck } from '../core/checks.js';
import { UserInputError } from '../core/errors.js';
import type { Finding } from '../core/types.js';
import { findSecrets } from '../secrets/index.js';
import { type LocatedDoc, type Path, parseDocuments } from './locate.js';

/** A check hit before it becomes a finding: the check id, where in the document, and what was seen. */
interface Hit {
  id: string;
  path: Path;
  detail: string;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const DANGEROUS_CAPS = new Set([
  'ALL',
  'SYS_ADMIN',
  'NET_ADMIN',
  'SYS_PTRACE',
  'SYS_MODULE',
  'SYS_RAWIO',
  'DAC_READ_SEARCH',
  'BPF',
  'PERFMON',
]);
const SECRET_NAME =
  /(?:PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?)(?:_|$)/i;

function capsHit(caps: Obj, path: Path, id: string): Hit[] {
  const drop = arr(caps.drop).map((c) => String(c).toUpperCase());
  const add = arr(caps.add).map((c) => String(c).toUpperCase().replace(/^CAP_/, ''));
  const bad = add.filter((c) => DANGEROUS_CAPS.has(c));
  if (drop.includes('ALL') && bad.length === 0) return [];
  const why = [
    drop.includes('ALL') ? '' : 'capabilities.drop does not include ALL',
    bad.length ? `adds ${bad.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('; ');
  return [{ id, path, detail: why }];
}

/** Literal environment values that are secrets: by variable name, or by a secret rule on the value. */
function envHits(env: unknown[], base: Path, id: string, nameKey: string, valueKey: string): Hit[] {
  const hits: Hit[] = [];
  env.forEach((e, i) => {
    const name = String(obj(e)[nameKey] ?? '');
    const value = obj(e)[valueKey];
    if (typeof value !== 'string' || value === '') return;
    if (SECRET_NAME.test(name) || findSecrets(`${name}=${value}`, 'env').length > 0) {
      hits.push({ id, path: [...base, i, valueKey], detail: `${name} has a literal value` });
    }
  });
  return hits;
}

// ---- Kubernetes -------------------------------------------------------------------------------

const WORKLOAD_POD_SPEC: Record<string, Path> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

function get(v: unknown, path: Path): unknown {
  let cur = v;
  for (const k of path) cur = Array.isArray(cur) && typeof k === 'number' ? cur[k] : obj(cur)[k as string];
  return cur;
}

function k8sPodHits(spec: Obj, base: Path): Hit[] {
  const hits: Hit[] = [];
  const podSc = obj(spec.securityContext);
  if (spec.hostNetwork === true)
    hits.push({ id: 'K8S-HOST-NETWORK', path: [...base, 'hostNetwork'], detail: 'hostNetwork: true' });
  if (spec.hostPID === true) hits.push({ id: 'K8S-HOST-PID', path: [...base, 'hostPID'], detail: 'hostPID: true' });
  if (spec.hostIPC === true) hits.push({ id: 'K8S-HOST-IPC', path: [...base, 'hostIPC'], detail: 'hostIPC: true' });
  arr(spec.volumes).forEach((v, i) => {
    const hp = obj(v).hostPath;
    if (hp)
      hits.push({
        id: 'K8S-HOST-PATH',
        path: [...base, 'volumes', i, 'hostPath'],
        detail: `hostPath ${String(obj(hp).path ?? '')}`,
      });
  });
  if (spec.automountServiceAccountToken !== false) {
    hits.push({ id: 'K8S-SA-TOKEN', path: [...base], detail: 'automountServiceAccountToken is not false' });
  }
  for (const group of ['initContainers', 'containers', 'ephemeralContainers'] as const) {
    arr(spec[group]).forEach((c0, i) => {
      const c = obj(c0);
      const p: Path = [...base, group, i];
      const name = String(c.name ?? i);
      const sc = obj(c.securityContext);
      const at = (id: string, path: Path, detail: string) =>
        hits.push({ id, path, detail: `container ${name}: ${detail}` });
      if (sc.readOnlyRootFilesystem !== true)
        at('K8S-READONLY-ROOTFS', [...p, 'securityContext'], 'readOnlyRootFilesystem is not true');
      const nonRoot = (sc.runAsNonRoot ?? podSc.runAsNonRoot) === true;
      const uid = sc.runAsUser ?? podSc.runAsUser;
      if (uid === 0 || (!nonRoot && !(typeof uid === 'number' && uid > 0))) {
        at(
          'K8S-RUN-AS-ROOT',
          [...p, 'securityContext'],
          uid === 0 ? 'runAsUser: 0' : 'neither runAsNonRoot nor a non-zero runAsUser',
        );
      }
      if (sc.privileged === true) at('K8S-PRIVILEGED', [...p, 'securityContext', 'privileged'], 'privileged: true');
      if (sc.allowPrivilegeEscalation !== false) {
        at('K8S-PRIVILEGE-ESCALATION', [...p, 'securityContext'], 'allowPrivilegeEscalation is not false');
      }
      for (const h of capsHit(obj(sc.capabilities), [...p, 'securityContext', 'capabilities'], 'K8S-CAPABILITIES')) {
        at(h.id, h.path, h.detail);
      }
      const image = String(c.image ?? '');
      if (!/@sha256:[a-f0-9]{64}$/.test(image)) at('K8S-IMAGE-DIGEST', [...p, 'image'], `image ${image || '(none)'}`);
      const limits = obj(obj(c.resources).limits);
      if (group !== 'ephemeralContainers' && (!limits.cpu || !limits.memory)) {
        at(
          'K8S-RESOURCE-LIMITS',
          [...p, 'resources'],
          `missing limits: ${['cpu', 'memory'].filter((k) => !limits[k]).join(', ')}`,
        );
      }
      const seccomp = String(obj(sc.seccompProfile).type ?? obj(podSc.seccompProfile).type ?? '');
      if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') {
        at('K8S-SECCOMP', [...p, 'securityContext'], seccomp ? `seccompProfile ${seccomp}` : 'no seccompProfile');
      }
      for (const h of envHits(arr(c.env), [...p, 'env'], 'K8S-SECRET-ENV', 'name', 'value')) at(h.id, h.path, h.detail);
    });
  }
  return hits;
}

function k8sHits(doc: Obj, base: Path = []): { hits: Hit[]; resource: string }[] {
  const kind = String(doc.kind ?? '');
  if (kind === 'List' || kind.endsWith('List')) {
    return arr(doc.items).flatMap((item, i) => k8sHits(obj(item), [...base, 'items', i]));
  }
  const specPath = WORKLOAD_POD_SPEC[kind];
  if (!specPath || typeof doc.apiVersion !== 'string') return [];
  const name = String(obj(doc.metadata).name ?? '');
  return [{ hits: k8sPodHits(obj(get(doc, specPath)), [...base, ...specPath]), resource: `${kind}/${name}` }];
}

// ---- ECS --------------------------------------------------------------------------------------

function ecsHits(task: Obj, base: Path): Hit[] {
  const hits: Hit[] = [];
  const mode = String(task.networkMode ?? 'bridge');
  if (mode === 'host')
    hits.push({ id: 'ECS-HOST-NETWORK', path: [...base, 'networkMode'], detail: 'networkMode host' });
  if (mode !== 'awsvpc')
    hits.push({ id: 'ECS-NETWORK-MODE', path: [...base, 'networkMode'], detail: `networkMode ${mode}` });
  if (task.pidMode === 'host') hits.push({ id: 'ECS-HOST-PID', path: [...base, 'pidMode'], detail: 'pidMode host' });
  if (task.ipcMode === 'host') hits.push({ id: 'ECS-HOST-IPC', path: [...base, 'ipcMode'], detail: 'ipcMode host' });
  arr(task.volumes).forEach((v, i) => {
    const src = obj(obj(v).host).sourcePath;
    if (src)
      hits.push({
        id: 'ECS-HOST-PATH',
        path: [...base, 'volumes', i, 'host'],
        detail: `host sourcePath ${String(src)}`,
      });
  });
  arr(task.containerDefinitions).forEach((c0, i) => {
    const c = obj(c0);
    const p: Path = [...base, 'containerDefinitions', i];
    const name = String(c.name ?? i);
    const at = (id: string, path: Path, detail: string) =>
      hits.push({ id, path, detail: `container ${name}: ${detail}` });
    if (c.readonlyRootFilesystem !== true) at('ECS-READONLY-ROOTFS', p, 'readonlyRootFilesystem is not true');
    const user = String(c.user ?? '').split(':')[0]!;
    if (user === '' || user === 'root' || user === '0')
      at('ECS-RUN-AS-ROOT', user ? [...p, 'user'] : p, user ? `user ${String(c.user)}` : 'no user');
    if (c.privileged === true) at('ECS-PRIVILEGED', [...p, 'privileged'], 'privileged: true');
    for (const h of capsHit(obj(obj(c.linuxParameters).capabilities), [...p, 'linuxParameters'], 'ECS-CAPABILITIES'))
      at(h.id, h.path, h.detail);
    const image = String(c.image ?? '');
    if (!/@sha256:[a-f0-9]{64}$/.test(image)) at('ECS-IMAGE-DIGEST', [...p, 'image'], `image ${image || '(none)'}`);
    if (!c.memory && !c.memoryReservation && !task.memory)
      at('ECS-RESOURCE-LIMITS', p, 'no memory limit on the container or task');
    if (!c.logConfiguration) at('ECS-LOG-CONFIG', p, 'no logConfiguration');
    for (const h of envHits(arr(c.environment), [...p, 'environment'], 'ECS-SECRET-ENV', 'name', 'value'))
      at(h.id, h.path, h.detail);
  });
  return hits;
}

/** A task definition as registered, or as `aws ecs describe-task-definition` prints it. */
function ecsTask(doc: Obj): { task: Obj; base: Path } | undefined {
  if (Array.isArray(doc.containerDefinitions)) return { task: doc, base: [] };
  const wrapped = obj(doc.taskDefinition);
  if (Array.isArray(wrapped.containerDefinitions)) return { task: wrapped, base: ['taskDefinition'] };
  return undefined;
}

// ---- entry points -----------------------------------------------------------------------------

export interface DeployFinding extends Finding {
  file: string;
  line: number;
  resource: string;
}

function toFinding(h: Hit, doc: LocatedDoc, file: string, resource: string): DeployFinding {
  const c = requireCheck(h.id);
  return {
    kind: 'misconfiguration',
    id: c.id,
    severity: c.severity,
    title: c.title,
    nist: c.nist[0]!,
    nistAll: c.nist,
    pci: c.pci,
    fix: c.fix,
    detail: h.detail,
    path: file,
    file,
    line: doc.line(h.path),
    resource,
  };
}

/** Checks every Kubernetes workload and ECS task definition in one YAML/JSON text. */
export function checkText(text: string, file: string): { findings: DeployFinding[]; resources: string[] } {
  const findings: DeployFinding[] = [];
  const resources: string[] = [];
  for (const doc of parseDocuments(text, file)) {
    const value = obj(doc.value);
    const ecs = ecsTask(value);
    if (ecs) {
      const resource = `TaskDefinition/${String(ecs.task.family ?? '')}`;
      resources.push(resource);
      findings.push(...ecsHits(ecs.task, ecs.base).map((h) => toFinding(h, doc, file, resource)));
      continue;
    }
    for (const { hits, resource } of k8sHits(value)) {
      resources.push(resource);
      findings.push(...hits.map((h) => toFinding(h, doc, file, resource)));
    }
  }
  return { findings, resources };
}

export async function checkFiles(
  files: readonly string[],
): Promise<{ findings: DeployFinding[]; resources: string[] }> {
  const findings: DeployFinding[] = [];
  const resources: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new UserInputError(
        `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
    const r = checkText(text, file);
    findings.push(...r.findings);
    resources.push(...r.resources);
  }
  return { findings, resources };
}
