import type { FindingKind, Severity } from './types.js';

/**
 * The product's spine: every check id -> NIST SP 800-190 risk ids, PCI DSS v4 requirement ids, title and
 * default severity. Ids never change once published; `palisade rules` prints this table.
 *
 * NIST SP 800-190 §3: 3.1.x image risks (3.1.1 vulnerabilities, 3.1.2 configuration defects, 3.1.3 embedded
 * malware, 3.1.4 embedded clear-text secrets, 3.1.5 untrusted images); 3.2.x registry; 3.3.x orchestrator;
 * 3.4.x container; 3.5.x host OS.
 */
export interface CheckInfo {
  id: string;
  kind: FindingKind;
  title: string;
  severity: Severity;
  nist: string[];
  pci: string[];
  /** One-line fix. */
  fix?: string;
}

const SECRET = { kind: 'secret' as const, nist: ['3.1.4'] };
const IMAGE = { kind: 'misconfiguration' as const, nist: ['3.1.2'] };
const DEPLOY = { kind: 'misconfiguration' as const };
/** The same control for Kubernetes (K8S-) and ECS (ECS-) where both have it. */
function both(suffix: string, row: Omit<CheckInfo, 'id' | 'kind'>): CheckInfo[] {
  return [
    { ...DEPLOY, ...row, id: `K8S-${suffix}` },
    { ...DEPLOY, ...row, id: `ECS-${suffix}` },
  ];
}

/** The one table. Sorted by id; ids are stable. */
export const CHECKS: readonly CheckInfo[] = [
  // Secrets (3.1.4). PCI 3.5.1 (stored account data protected), 8.3.2 (authentication factors protected),
  // 6.5.x where secrets ship with software changes, 8.6.2 (no hard-coded passwords for system accounts).
  {
    ...SECRET,
    id: 'SECRET-AWS-ACCESS-KEY-ID',
    title: 'AWS access key id',
    severity: 'HIGH',
    pci: ['8.3.2', '8.6.2'],
    fix: 'Remove the key from the image, rotate it in IAM, and inject credentials at run time (IAM roles, Secrets Manager).',
  },
  {
    ...SECRET,
    id: 'SECRET-AWS-SECRET-ACCESS-KEY',
    title: 'AWS secret access key',
    severity: 'CRITICAL',
    pci: ['8.3.2', '8.6.2'],
    fix: 'Remove the key from the image, rotate it in IAM, and use an IAM role for the task or pod.',
  },
  {
    ...SECRET,
    id: 'SECRET-GITHUB-TOKEN',
    title: 'GitHub token',
    severity: 'CRITICAL',
    pci: ['8.3.2', '8.6.2'],
    fix: 'Revoke the token in GitHub and pass tokens at build time as secrets, not layers.',
  },
  {
    ...SECRET,
    id: 'SECRET-GITLAB-TOKEN',
    title: 'GitLab token',
    severity: 'CRITICAL',
    pci: ['8.3.2', '8.6.2'],
    fix: 'Revoke the token in GitLab and pass tokens at build time as secrets, not layers.',
  },
  {
    ...SECRET,
    id: 'SECRET-SLACK-TOKEN',
    title: 'Slack token',
    severity: 'HIGH',
    pci: ['8.3.2'],
    fix: 'Revoke the token in Slack and load it from a secret store at run time.',
  },
  {
    ...SECRET,
    id: 'SECRET-SLACK-WEBHOOK',
    title: 'Slack incoming webhook URL',
    severity: 'MEDIUM',
    pci: ['8.3.2'],
    fix: 'Regenerate the webhook and load it from a secret store at run time.',
  },
  {
    ...SECRET,
    id: 'SECRET-STRIPE-KEY',
    title: 'Stripe API key',
    severity: 'CRITICAL',
    pci: ['3.5.1', '8.3.2', '8.6.2'],
    fix: 'Roll the key in the Stripe dashboard and load it from a secret store at run time.',
  },
  {
    ...SECRET,
    id: 'SECRET-GOOGLE-API-KEY',
    title: 'Google API key',
    severity: 'HIGH',
    pci: ['8.3.2'],
    fix: 'Delete or restrict the key in the Google Cloud console and load it at run time.',
  },
  {
    ...SECRET,
    id: 'SECRET-PRIVATE-KEY',
    title: 'Private key',
    severity: 'HIGH',
    pci: ['3.6.1', '4.2.1', '8.3.2'],
    fix: 'Remove the key from the image, replace the certificate, and mount keys from a secret store.',
  },
  {
    ...SECRET,
    id: 'SECRET-JWT',
    title: 'JSON Web Token',
    severity: 'MEDIUM',
    pci: ['8.3.2'],
    fix: 'Remove the token; tokens are credentials and expire or must be revoked.',
  },
  {
    ...SECRET,
    id: 'SECRET-DATABASE-URL',
    title: 'Database URL with a password',
    severity: 'HIGH',
    pci: ['8.3.2', '8.6.2'],
    fix: 'Change the database password and pass the URL from a secret store at run time.',
  },
  {
    ...SECRET,
    id: 'SECRET-GENERIC-ASSIGNMENT',
    title: 'Password or secret assigned in a configuration file',
    severity: 'MEDIUM',
    pci: ['8.3.2', '8.6.2'],
    fix: 'Move the value to a secret store and reference it from the configuration.',
  },
  {
    ...SECRET,
    id: 'SECRET-IMAGE-ENV',
    title: 'Secret in the image configuration environment',
    severity: 'HIGH',
    pci: ['8.3.2', '8.6.2'],
    fix: 'Do not bake secrets into ENV; inject them at run time (Kubernetes Secrets, ECS secrets).',
  },
  {
    ...SECRET,
    id: 'SECRET-IMAGE-HISTORY',
    title: 'Secret in the image build history',
    severity: 'HIGH',
    pci: ['8.3.2', '8.6.2'],
    fix: 'Use build secrets (RUN --mount=type=secret) so that values never reach the history.',
  },
  // Image configuration (3.1.2; 3.1.5 where the image's origin is in question).
  {
    ...IMAGE,
    id: 'IMG-ROOT-USER',
    title: 'Image runs as root (no USER, or USER root)',
    severity: 'MEDIUM',
    pci: ['2.2.1', '7.2.2'],
    fix: 'Add a non-root USER (numeric uid) to the Dockerfile.',
  },
  {
    ...IMAGE,
    id: 'IMG-SETUID-FILE',
    title: 'setuid or setgid file in the image',
    severity: 'LOW',
    pci: ['2.2.4', '7.2.2'],
    fix: 'Remove the setuid/setgid bit (chmod u-s,g-s) from files the container does not need to escalate with.',
  },
  {
    ...IMAGE,
    id: 'IMG-WORLD-WRITABLE',
    title: 'World-writable file or directory outside /tmp',
    severity: 'LOW',
    pci: ['2.2.6'],
    fix: 'Remove the world-write bit (chmod o-w) or mount a writable volume instead.',
  },
  {
    ...IMAGE,
    id: 'IMG-SSHD',
    title: 'SSH server in the image',
    severity: 'MEDIUM',
    pci: ['2.2.4', '2.2.7'],
    fix: 'Remove openssh-server; use the orchestrator (kubectl exec, ECS Exec) for access.',
  },
  {
    ...IMAGE,
    id: 'IMG-ADD-REMOTE',
    title: 'ADD from a remote URL in the build history',
    severity: 'MEDIUM',
    nist: ['3.1.2', '3.1.5'],
    pci: ['6.3.2'],
    fix: 'Download with a pinned checksum (ADD --checksum or curl + sha256sum -c) instead of ADD http...',
  },
  {
    ...IMAGE,
    id: 'IMG-UNPINNED-REFERENCE',
    title: 'Image referenced by a mutable tag (:latest or no digest)',
    severity: 'LOW',
    nist: ['3.1.5'],
    pci: ['6.3.2'],
    fix: 'Reference images by digest (repo@sha256:...) so that what was scanned is what runs.',
  },
  {
    ...IMAGE,
    id: 'IMG-NO-HEALTHCHECK',
    title: 'No HEALTHCHECK in the image configuration',
    severity: 'LOW',
    pci: ['2.2.1'],
    fix: 'Add a HEALTHCHECK, or make sure the orchestrator defines liveness and readiness probes.',
  },
  {
    ...IMAGE,
    id: 'IMG-PORT-22',
    title: 'Port 22 exposed',
    severity: 'MEDIUM',
    pci: ['1.2.5', '2.2.4'],
    fix: 'Do not EXPOSE 22; containers are administered through the orchestrator.',
  },
  {
    ...IMAGE,
    id: 'IMG-EOL-OS',
    title: 'Operating system release is past its end of life',
    severity: 'HIGH',
    nist: ['3.1.2', '3.1.1'],
    pci: ['6.3.3', '12.3.4'],
    fix: 'Rebuild on a supported release of the base image.',
  },
  {
    ...IMAGE,
    id: 'IMG-PACKAGE-CACHE',
    title: 'Package manager cache left in the image',
    severity: 'LOW',
    pci: ['2.2.1'],
    fix: 'Clean the cache in the same RUN step (apt-get clean && rm -rf /var/lib/apt/lists/*, apk --no-cache, dnf clean all).',
  },
  // Deploy-time configuration: Kubernetes workloads (K8S-) and ECS task definitions (ECS-).
  // 3.4.3 insecure container runtime configurations; 3.3.x orchestrator; 3.5.5 host file system tampering.
  ...both('READONLY-ROOTFS', {
    title: 'Root filesystem is writable',
    severity: 'MEDIUM',
    nist: ['3.4.3', '3.4.4'],
    pci: ['2.2.1', '11.5.2'],
    fix: 'Set readOnlyRootFilesystem: true (ECS: readonlyRootFilesystem) and mount writable volumes where needed.',
  }),
  ...both('RUN-AS-ROOT', {
    title: 'Container may run as root',
    severity: 'MEDIUM',
    nist: ['3.4.3'],
    pci: ['2.2.1', '7.2.2'],
    fix: 'Set runAsNonRoot: true and a non-zero runAsUser (ECS: "user": "10001").',
  }),
  ...both('PRIVILEGED', {
    title: 'Privileged container',
    severity: 'HIGH',
    nist: ['3.4.3', '3.5.2'],
    pci: ['2.2.1', '7.2.2'],
    fix: 'Remove privileged: true; grant only the capabilities the process needs.',
  }),
  {
    ...DEPLOY,
    id: 'K8S-PRIVILEGE-ESCALATION',
    title: 'Privilege escalation allowed',
    severity: 'MEDIUM',
    nist: ['3.4.3'],
    pci: ['2.2.1', '7.2.2'],
    fix: 'Set allowPrivilegeEscalation: false.',
  },
  ...both('CAPABILITIES', {
    title: 'Linux capabilities not dropped (drop ALL) or dangerous ones added',
    severity: 'MEDIUM',
    nist: ['3.4.3'],
    pci: ['2.2.1', '7.2.2'],
    fix: 'Drop ALL capabilities and add back only what is needed (never SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE).',
  }),
  ...both('HOST-NETWORK', {
    title: 'Host network namespace shared',
    severity: 'HIGH',
    nist: ['3.4.3', '3.3.3'],
    pci: ['1.3.1', '2.2.1'],
    fix: 'Remove hostNetwork: true (ECS: use networkMode awsvpc).',
  }),
  ...both('HOST-PID', {
    title: 'Host PID namespace shared',
    severity: 'HIGH',
    nist: ['3.4.3', '3.5.2'],
    pci: ['2.2.1'],
    fix: 'Remove hostPID: true (ECS: pidMode task or unset).',
  }),
  ...both('HOST-IPC', {
    title: 'Host IPC namespace shared',
    severity: 'HIGH',
    nist: ['3.4.3', '3.5.2'],
    pci: ['2.2.1'],
    fix: 'Remove hostIPC: true (ECS: ipcMode task or none).',
  }),
  ...both('HOST-PATH', {
    title: 'Host path mounted into the container',
    severity: 'HIGH',
    nist: ['3.4.3', '3.5.5'],
    pci: ['2.2.1', '11.5.2'],
    fix: 'Use volumes that do not expose the host filesystem (emptyDir, EFS, secrets).',
  }),
  ...both('IMAGE-DIGEST', {
    title: 'Image not pinned by digest',
    severity: 'LOW',
    nist: ['3.1.5'],
    pci: ['6.3.2'],
    fix: 'Reference the image as repo@sha256:… so that what was scanned and approved is what runs.',
  }),
  ...both('RESOURCE-LIMITS', {
    title: 'No CPU or memory limits',
    severity: 'LOW',
    nist: ['3.4.3', '3.3.4'],
    pci: ['2.2.1'],
    fix: 'Set resources.limits.cpu and .memory (ECS: memory and cpu on the container or task).',
  }),
  {
    ...DEPLOY,
    id: 'K8S-SECCOMP',
    title: 'No seccomp profile (RuntimeDefault or Localhost)',
    severity: 'LOW',
    nist: ['3.4.3', '3.5.2'],
    pci: ['2.2.1'],
    fix: 'Set securityContext.seccompProfile.type: RuntimeDefault on the pod or container.',
  },
  {
    ...DEPLOY,
    id: 'K8S-SA-TOKEN',
    title: 'Service account token mounted automatically',
    severity: 'LOW',
    nist: ['3.3.2'],
    pci: ['7.2.1', '7.2.2'],
    fix: 'Set automountServiceAccountToken: false unless the workload calls the Kubernetes API.',
  },
  ...both('SECRET-ENV', {
    title: 'Secret in a plain environment variable',
    severity: 'HIGH',
    nist: ['3.1.4', '3.3.2'],
    pci: ['8.3.2', '8.6.2'],
    fix: 'Reference a Secret (valueFrom.secretKeyRef; ECS: "secrets" from Secrets Manager or SSM Parameter Store).',
  }),
  {
    ...DEPLOY,
    id: 'ECS-LOG-CONFIG',
    title: 'No log configuration',
    severity: 'MEDIUM',
    nist: ['3.4.3'],
    pci: ['10.2.1', '10.3.3'],
    fix: 'Add logConfiguration (awslogs, awsfirelens) so that the container logs reach the log store.',
  },
  {
    ...DEPLOY,
    id: 'ECS-NETWORK-MODE',
    title: 'Network mode is not awsvpc',
    severity: 'MEDIUM',
    nist: ['3.3.3'],
    pci: ['1.2.1', '1.3.1'],
    fix: 'Use networkMode awsvpc so that each task has its own security groups.',
  },
];

const byId = new Map(CHECKS.map((c) => [c.id, c]));
if (byId.size !== CHECKS.length) throw new Error('duplicate check id in CHECKS');

export function checkInfo(id: string): CheckInfo | undefined {
  return byId.get(id);
}

/** The row for an id that must exist; a missing row is a programming error caught by the tests. */
export function requireCheck(id: string): CheckInfo {
  const c = byId.get(id);
  if (!c) throw new Error(`unknown check id ${id}`);
  return c;
}

/** The NIST/PCI mapping of whole finding kinds that have no per-check rows (vulnerabilities, malware). */
export const KIND_MAPPING: Record<'vulnerability' | 'malware' | 'not-scanned', { nist: string; pci: string[] }> = {
  vulnerability: { nist: '3.1.1', pci: ['6.3.1', '6.3.3', '11.3.1'] },
  malware: { nist: '3.1.3', pci: ['5.2.1', '5.2.2', '5.3.2'] },
  'not-scanned': { nist: '3.1.3', pci: ['5.2.2'] },
};
