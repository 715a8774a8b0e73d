// Slack Web API transport for the Slack channel's bot mode: chat.postMessage and chat.update
// with a bot token, and the classification of Slack's answers. What a message says is
// slack.ts's business; this module only sends it and reads the answer.
//
// Relied on: Slack's Web API reference (docs.slack.dev/reference/methods/chat.postMessage,
// …/chat.update, and docs.slack.dev/apis/web-api/rate-limits):
// - POST https://slack.com/api/<method> with a JSON body (`Content-type: application/json;
//   charset=utf-8`) and the token in `Authorization: Bearer xoxb-…`;
// - chat.postMessage takes `channel`, `text`, `blocks`, `attachments`, `thread_ts` (the parent's
//   ts, to reply in its thread), `unfurl_links`, `unfurl_media`; it answers
//   `{"ok":true,"channel":"C…","ts":"1503435956.000247","message":{…}}`;
// - chat.update takes `channel`, `ts`, `text`, `blocks`, `attachments` and answers
//   `{"ok":true,"channel":…,"ts":…,"text":…}`;
// - a refusal is HTTP 200 `{"ok":false,"error":"<code>"}` (channel_not_found, not_in_channel,
//   invalid_auth, message_not_found, cant_update_message, edit_window_closed, msg_too_long,
//   invalid_blocks, …); over the rate limit Slack answers HTTP 429 with `Retry-After` (seconds)
//   and `{"ok":false,"error":"ratelimited"}`. internal_error, fatal_error, service_unavailable
//   and request_timeout are Slack's own trouble: retried, like 5xx.
import type { SendResult } from './channel.ts';
import { postForAnswer } from './http.ts';

export const SLACK_API_URL = 'https://slack.com/api';

type Failure = Extract<SendResult, { ok: false }>;

/** Slack's error codes that a retry can fix. */
const TRANSIENT_ERRORS: ReadonlySet<string> = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

export interface SlackApiOk {
  readonly ok: true;
  readonly channel?: string;
  readonly ts?: string;
}

/** A Slack refusal, with its error code (for callers that fall back on some). */
export type SlackApiFailure = Failure & { readonly slackError?: string };

export interface SlackApiCall {
  /** `https://slack.com/api` or a test server. */
  readonly apiUrl: string;
  readonly token: string;
  readonly timeoutMs: number;
}

export async function callSlack(
  method: 'chat.postMessage' | 'chat.update',
  payload: Readonly<Record<string, unknown>>,
  call: SlackApiCall,
): Promise<SlackApiOk | SlackApiFailure> {
  const url = `${call.apiUrl.replace(/\/+$/, '')}/${method}`;
  const answer = await postForAnswer(url, JSON.stringify(payload), {
    headers: { authorization: `Bearer ${call.token}` },
    timeoutMs: call.timeoutMs,
    secrets: [call.token],
  });
  if (!answer.ok) return { ...answer, reason: `Slack ${method}: ${answer.reason}` };

  const body = parseAnswer(answer.body);
  if (body === undefined) {
    // A 2xx that is not Slack's JSON: a proxy or an outage page. Slack may not have posted it.
    return { ok: false, retryable: true, reason: `Slack ${method}: unreadable answer (HTTP ${String(answer.status)})` };
  }
  if (body.ok === true) return { ok: true, ...(typeof body.channel === 'string' ? { channel: body.channel } : {}), ...(typeof body.ts === 'string' ? { ts: body.ts } : {}) };

  // Error codes are Slack's own snake_case words; anything else is not repeated.
  const code = typeof body.error === 'string' && /^[a-z_]{1,64}$/.test(body.error) ? body.error : 'unknown_error';
  return {
    ok: false,
    retryable: TRANSIENT_ERRORS.has(code),
    reason: `Slack ${method}: ${code}`,
    slackError: code,
    ...(code === 'ratelimited' ? { throttled: true } : {}),
  };
}

function parseAnswer(text: string): { ok?: unknown; error?: unknown; channel?: unknown; ts?: unknown } | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The stored ref of a posted message: `<channel id>:<ts>`. */
export function slackMessageRef(channel: string, ts: string): string {
  return `${channel}:${ts}`;
}

export function parseSlackMessageRef(ref: string | undefined): { readonly channel: string; readonly ts: string } | undefined {
  const groups = ref === undefined ? undefined : /^(?<channel>[A-Z0-9]+):(?<ts>\d+\.\d+)$/.exec(ref)?.groups;
  return groups?.channel === undefined || groups.ts === undefined ? undefined : { channel: groups.channel, ts: groups.ts };
}
