// Failure classification for the channels that send through the AWS SDK (SMS via SNS, email
// via SES). Reasons name the service, the error name and the HTTP status only: an SDK error
// *message* often quotes the phone number or address it refused, which must not reach logs.
import type { SendResult } from './channel.ts';

type Failure = Extract<SendResult, { ok: false }>;

export interface AwsErrorRules {
  /** Error names (service exceptions) that are worth retrying even though they are 4xx. */
  readonly retryable: ReadonlySet<string>;
  /** Error names that will fail again however often they are retried. */
  readonly permanent: ReadonlySet<string>;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** A failure from `client.send`: retryable for throttling, 5xx and network trouble; else permanent. */
export function classifyAwsError(service: string, error: unknown, rules: AwsErrorRules, timeoutMs: number): Failure {
  if (!(error instanceof Error)) return { ok: false, retryable: true, reason: `${service}: unknown error` };
  if (error.name === 'TimeoutError' || error.name === 'AbortError') {
    return { ok: false, retryable: true, reason: `${service}: timed out after ${timeoutMs} ms` };
  }
  const details = error as Error & {
    code?: unknown;
    $fault?: unknown;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  const status = typeof details.$metadata?.httpStatusCode === 'number' ? details.$metadata.httpStatusCode : undefined;
  const reason = `${service} ${error.name}${status !== undefined ? ` (HTTP ${status})` : ''}`;

  if (rules.permanent.has(error.name)) return { ok: false, retryable: false, reason };
  if (rules.retryable.has(error.name) || details.$retryable !== undefined) return { ok: false, retryable: true, reason };
  if (status !== undefined) {
    return { ok: false, retryable: status >= 500 || status === 429 || status === 408, reason };
  }
  if (details.$fault === 'client') return { ok: false, retryable: false, reason };
  if (details.$fault === 'server') return { ok: false, retryable: true, reason };
  // No HTTP response at all: the request never got an answer (DNS, refused, reset).
  const code = typeof details.code === 'string' ? details.code : undefined;
  const what = code !== undefined && NETWORK_CODES.has(code) ? `network error ${code}` : error.name;
  return { ok: false, retryable: true, reason: `${service}: ${what}` };
}
