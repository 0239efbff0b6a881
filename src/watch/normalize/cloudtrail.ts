import { compact, type NormalizedEvent, type Normalizer, obj, str, timeFields } from './types.js';

/** Request parameters that name the thing acted on, in the order we prefer them. */
const RESOURCE_KEYS = [
  'bucketName',
  'userName',
  'roleName',
  'policyArn',
  'groupName',
  'functionName',
  'name',
  'trailName',
  'secretId',
  'instanceId',
  'groupId',
  'snapshotId',
  'imageId',
  'dBSnapshotIdentifier',
  'repositoryName',
  'clusterName',
  'keyId',
];

function resourceOf(r: Record<string, unknown>): string | undefined {
  const resources = Array.isArray(r.resources) ? r.resources : [];
  for (const x of resources) {
    const arn = str(obj(x).ARN) ?? str(obj(x).arn);
    if (arn) return arn;
  }
  const p = obj(r.requestParameters);
  for (const k of RESOURCE_KEYS) {
    const v = str(p[k]);
    if (v) return v;
  }
  const ids = obj(obj(p.instancesSet).items);
  return str(ids.instanceId);
}

/** AWS CloudTrail records (one element of an S3 delivery file's "Records"). */
export const cloudtrail: Normalizer = {
  source: 'aws.cloudtrail',
  detect: (r) => typeof r.eventName === 'string' && typeof r.eventSource === 'string' && 'eventTime' in r,
  normalize(r): NormalizedEvent {
    const who = obj(r.userIdentity);
    const service = str(r.eventSource)?.replace(/\.amazonaws\.com$/, '');
    const consoleResult = str(obj(r.responseElements).ConsoleLogin);
    const failed = str(r.errorCode) !== undefined || consoleResult === 'Failure';
    const eventType = str(r.eventType);
    return compact({
      ...timeFields(str(r.eventTime)),
      source: 'aws.cloudtrail',
      actor: str(who.arn) ?? str(who.principalId) ?? str(who.userName) ?? str(who.invokedBy),
      action: service && str(r.eventName) ? `${service}:${str(r.eventName)}` : str(r.eventName),
      resource: resourceOf(r),
      outcome: failed ? 'failure' : 'success',
      sourceIp: str(r.sourceIPAddress),
      account: str(r.recipientAccountId) ?? str(who.accountId),
      region: str(r.awsRegion),
      ocsfClass: eventType === 'AwsConsoleSignIn' ? 'Authentication' : 'API Activity',
      raw: r,
    });
  },
};
