/** The egress proxy stage: FQDN allowlists with an SSRF and rebinding guard (docs/egress.md). */
export { CidrSet, classifyAddress, parseCidr } from './address.js';
export {
  compileConfig,
  DEFAULT_LIMITS,
  type EgressConfig,
  type Limits,
  loadConfigFile,
  parseConfigText,
  type QuickStart,
  quickStartConfig,
  type RawConfig,
} from './config.js';
export {
  CachingResolver,
  type Dialer,
  guardAddress,
  PinnedResolver,
  type Resolver,
  systemResolver,
  tcpDialer,
} from './net.js';
export { type AccessLogEntry, type EventLogEntry, type LogSink, openLog } from './observe.js';
export { type Decision, decideTarget } from './policy.js';
export { EgressProxy, type ProxyOptions, REASON_HEADER } from './proxy.js';
export { type RunningEgress, type StartOptions, startEgress } from './runner.js';
export { readSni } from './sni.js';
export { hashToken, verifyToken } from './tokens.js';
