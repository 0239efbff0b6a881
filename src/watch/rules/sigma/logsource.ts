/**
 * Sigma logsource -> the event sources of this product, and the field names each source uses for the
 * Sigma names (Sigma taxonomy). Unmapped fields pass through unchanged, which is right for CloudTrail and
 * Kubernetes audit: SigmaHQ writes those rules in the log's own field names.
 */
export interface LogSource {
  readonly product?: string;
  readonly category?: string;
  readonly service?: string;
}

export interface SourceBinding {
  /** The `source` of normalised events this rule applies to. */
  readonly source: string;
  readonly fields: Readonly<Record<string, readonly string[]>>;
}

/** Generic taxonomy names some rules use, mapped to CloudTrail's own. */
const CLOUDTRAIL_FIELDS: Record<string, string[]> = {
  src_ip: ['sourceIPAddress'],
  source_ip: ['sourceIPAddress'],
  user_agent: ['userAgent'],
  'user.name': ['userIdentity.userName'],
};

/**
 * SigmaHQ's Kubernetes rules also use two abstract fields that raw audit events do not have: `hostPath` (a pod
 * mounts a host path) and `capabilities` (a container adds Linux capabilities). They map into the pod spec that a
 * `create pods` audit event carries at RequestResponse/Request level.
 */
const K8S_FIELDS: Record<string, string[]> = {
  src_ip: ['sourceIPs'],
  user_agent: ['userAgent'],
  apiGroup: ['objectRef.apiGroup'],
  hostPath: ['requestObject.spec.volumes.hostPath.path'],
  capabilities: [
    'requestObject.spec.containers.securityContext.capabilities.add',
    'requestObject.spec.initContainers.securityContext.capabilities.add',
  ],
};

/** Falco alerts carry the process in output_fields; Sigma's process_creation names map onto them. */
const FALCO_PROCESS_FIELDS: Record<string, string[]> = {
  Image: ['output_fields.proc.exepath'],
  CommandLine: ['output_fields.proc.cmdline'],
  ParentImage: ['output_fields.proc.pexepath'],
  ParentCommandLine: ['output_fields.proc.pcmdline'],
  User: ['output_fields.user.name'],
  CurrentDirectory: ['output_fields.proc.cwd'],
  ProcessId: ['output_fields.proc.pid'],
  TargetFilename: ['output_fields.fd.name'],
};

export function bindingsFor(ls: LogSource): SourceBinding[] {
  const product = ls.product?.toLowerCase();
  const service = ls.service?.toLowerCase();
  if (product === 'aws' && service === 'cloudtrail') return [{ source: 'aws.cloudtrail', fields: CLOUDTRAIL_FIELDS }];
  if (product === 'kubernetes' && service === 'audit') return [{ source: 'kubernetes.audit', fields: K8S_FIELDS }];
  if (product === 'linux') {
    const out: SourceBinding[] = [{ source: 'linux', fields: {} }];
    const cat = ls.category?.toLowerCase();
    if (cat === 'process_creation' || cat === 'file_event') out.push({ source: 'falco', fields: FALCO_PROCESS_FIELDS });
    return out;
  }
  return [{ source: sourceKey(ls), fields: {} }];
}

/** A stable key for a logsource this product does not know ("windows/process_creation"). */
export function sourceKey(ls: LogSource): string {
  return [ls.product, ls.category, ls.service].filter(Boolean).join('/') || 'any';
}

export function fieldMapper(fields: Readonly<Record<string, readonly string[]>>): (f: string) => readonly string[] {
  return (f) => fields[f] ?? [f];
}
