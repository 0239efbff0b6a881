import { request } from 'undici';
import { NotifyError } from './types.js';

export interface PostOptions {
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * POSTs a body and classifies the outcome: network errors, timeouts, 408, 429 and 5xx are retryable; other
 * non-2xx answers are not (the request itself is wrong). The URL is never put in the error: webhook URLs
 * carry secrets (Slack's path is the credential).
 */
export async function postBody(url: string, body: string, options: PostOptions = {}): Promise<string> {
  const timeout = options.timeoutMs ?? 10_000;
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...options.headers },
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
  } catch (err) {
    const code = (err as { code?: string }).code ?? (err as Error).name;
    throw new NotifyError(`connection failed (${code})`, true);
  }
  // Bounded read of the answer: we only need a short reason.
  const text = (await res.body.text()).slice(0, 500);
  if (res.statusCode >= 200 && res.statusCode < 300) return text;
  const retryable = res.statusCode === 408 || res.statusCode === 429 || res.statusCode >= 500;
  throw new NotifyError(`HTTP ${res.statusCode}: ${text.replace(/\s+/g, ' ').slice(0, 200)}`, retryable);
}
