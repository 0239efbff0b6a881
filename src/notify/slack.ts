import { postBody } from './http.js';
import type { Notifier, RecordedAlert } from './types.js';

export interface SlackOptions {
  /** Incoming webhook URL (a secret: its path is the credential). */
  webhookUrl: string;
}

const EMOJI: Record<string, string> = {
  CRITICAL: ':red_circle:',
  HIGH: ':large_orange_circle:',
  MEDIUM: ':large_yellow_circle:',
  LOW: ':large_blue_circle:',
  UNKNOWN: ':white_circle:',
};

/** Slack mrkdwn needs only &, < and > escaped. */
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/**
 * Block Kit message: header (plain_text ≤ 150 chars), a section with the description and up to 10 fields
 * (each ≤ 2000 chars), and a context line with rule, source and time. `text` is the notification fallback.
 */
export function slackBody(alert: RecordedAlert): Record<string, unknown> {
  const facts: [string, string][] = [
    ['Severity', alert.severity],
    ['Rule', alert.rule],
    ...Object.entries(alert.fields ?? {}).map(([k, v]) => [k, String(v)] as [string, string]),
  ];
  const section: Record<string, unknown> = {
    type: 'section',
    text: { type: 'mrkdwn', text: cut(esc(alert.description ?? alert.title), 3000) },
    fields: facts.slice(0, 10).map(([k, v]) => ({ type: 'mrkdwn', text: cut(`*${esc(k)}*\n${esc(v)}`, 2000) })),
  };
  const context = [`rule \`${esc(alert.rule)}\``, alert.source ? `source ${esc(alert.source)}` : '', alert.time]
    .filter(Boolean)
    .join(' · ');
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(`${alert.severity}: ${alert.title}`, 150), emoji: true } },
    section,
    { type: 'context', elements: [{ type: 'mrkdwn', text: cut(context, 3000) }] },
  ];
  if (alert.link) {
    blocks.push({
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open' }, url: cut(alert.link, 3000) }],
    });
  }
  return { text: cut(`${EMOJI[alert.severity] ?? ''} ${alert.severity}: ${alert.title}`, 3000), blocks };
}

export function slackNotifier(options: SlackOptions): Notifier {
  return {
    type: 'slack',
    async send(alert) {
      await postBody(options.webhookUrl, JSON.stringify(slackBody(alert)));
    },
  };
}
