/** Notifications shared by watch and gate: Slack, signed webhook, e-mail, PagerDuty; outbox, routing, heartbeats. */

export { type ChannelConfig, channelsFromConfig } from './config.js';
export { type EmailOptions, emailNotifier, emailSubject, emailText } from './email.js';
export { HeartbeatMonitor, type HeartbeatRule } from './heartbeat.js';
export {
  backoffMs,
  type Channel,
  defaultDedupKey,
  Notifications,
  type NotificationsOptions,
  type RetryPolicy,
} from './outbox.js';
export { type PagerDutyOptions, pagerDutyBody, pagerDutyNotifier } from './pagerduty.js';
export { type SlackOptions, slackBody, slackNotifier } from './slack.js';
export { type Alert, type Notifier, NotifyError, type RecordedAlert } from './types.js';
export {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
  type VerifyInput,
  verifyWebhook,
  type WebhookOptions,
  webhookBody,
  webhookNotifier,
} from './webhook.js';
