import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import { UserInputError } from '../core/errors.js';
import { type Notifier, NotifyError, type RecordedAlert } from './types.js';

export interface EmailOptions {
  host: string;
  port?: number;
  /** Implicit TLS (port 465). Otherwise STARTTLS is used whenever the server offers it. */
  secure?: boolean;
  /** Refuse to send unless STARTTLS succeeds. */
  requireTls?: boolean;
  /** Extra CA (PEM file) to trust, e.g. a company CA; certificate verification stays on. */
  caFile?: string;
  /** Only for test rigs; never default. */
  insecureSkipVerify?: boolean;
  user?: string;
  password?: string;
  from: string;
  to: string[];
  timeoutMs?: number;
}

export function emailSubject(alert: RecordedAlert): string {
  return `[Palisade ${alert.severity}] ${alert.title}`.replace(/[\r\n]+/g, ' ').slice(0, 200);
}

export function emailText(alert: RecordedAlert): string {
  const lines = [
    `${alert.severity}: ${alert.title}`,
    '',
    ...(alert.description ? [alert.description, ''] : []),
    `Rule: ${alert.rule}`,
    `Time: ${alert.time}`,
    ...(alert.source ? [`Source: ${alert.source}`] : []),
    ...Object.entries(alert.fields ?? {}).map(([k, v]) => `${k}: ${v}`),
    ...(alert.link ? ['', alert.link] : []),
    '',
    `Dedup key: ${alert.dedupKey}`,
  ];
  return `${lines.join('\n')}\n`;
}

export function emailNotifier(options: EmailOptions): Notifier {
  if (options.to.length === 0) throw new UserInputError('email notifier: no recipients');
  let ca: Buffer | undefined;
  if (options.caFile) {
    try {
      ca = readFileSync(options.caFile);
    } catch (err) {
      throw new UserInputError(`email notifier: cannot read caFile ${options.caFile}: ${(err as Error).message}`);
    }
  }
  const transport = nodemailer.createTransport({
    host: options.host,
    port: options.port ?? (options.secure ? 465 : 587),
    secure: options.secure ?? false,
    requireTLS: options.requireTls ?? false,
    auth: options.user ? { user: options.user, pass: options.password ?? '' } : undefined,
    tls: { rejectUnauthorized: !options.insecureSkipVerify, ...(ca ? { ca } : {}), servername: options.host },
    connectionTimeout: options.timeoutMs ?? 10_000,
    greetingTimeout: options.timeoutMs ?? 10_000,
    socketTimeout: options.timeoutMs ?? 10_000,
  });
  return {
    type: 'email',
    async send(alert, deliveryId) {
      try {
        await transport.sendMail({
          from: options.from,
          to: options.to,
          subject: emailSubject(alert),
          text: emailText(alert),
          headers: { 'X-Palisade-Delivery': deliveryId, 'X-Palisade-Severity': alert.severity },
        });
      } catch (err) {
        const e = err as { responseCode?: number; code?: string; message: string };
        // 5xx SMTP replies are permanent (bad recipient, refused); 4xx and connection/TLS trouble may pass later.
        const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500;
        throw new NotifyError(`SMTP: ${e.code ?? ''} ${e.responseCode ?? ''} ${e.message}`.trim(), !permanent);
      }
    },
  };
}
