// A local Slack Web API on 127.0.0.1 with the two methods the Slack channel's bot mode uses,
// chat.postMessage and chat.update, keeping the messages and threads it was sent. It checks what
// Slack checks (the bearer token, the channel, the documented fields, the message to update)
// and answers in Slack's shapes: HTTP 200 `{"ok":true,…}` or `{"ok":false,"error":"<code>"}`.
// A test can queue other answers (HTTP 429 `ratelimited` with Retry-After, 5xx) for the next calls.
import { z } from 'zod';
import { startRecorder, type HttpRecorder, type RecordedRequest, type Reply } from './http-recorder.ts';

const TS = /^\d{10}\.\d{6}$/;
const postMessageSchema = z.strictObject({
  channel: z.string().min(1),
  text: z.string().min(1).max(40_000),
  blocks: z.array(z.looseObject({ type: z.string() })).max(50).optional(),
  attachments: z.array(z.looseObject({})).optional(),
  thread_ts: z.string().regex(TS).optional(),
  unfurl_links: z.boolean().optional(),
  unfurl_media: z.boolean().optional(),
});
const updateSchema = z.strictObject({
  channel: z.string().min(1),
  ts: z.string().regex(TS),
  text: z.string().min(1).max(40_000),
  blocks: z.array(z.looseObject({ type: z.string() })).max(50).optional(),
  attachments: z.array(z.looseObject({})).optional(),
});

export interface SlackStoredMessage {
  readonly channel: string;
  readonly ts: string;
  text: string;
  blocks?: unknown[] | undefined;
  attachments?: unknown[] | undefined;
  readonly threadTs?: string | undefined;
  edits: number;
}

export interface FakeSlack {
  /** The Web API base URL (`…/api`), as the channel's apiUrl. */
  readonly apiUrl: string;
  readonly recorder: HttpRecorder;
  /** Every message posted, replies included, in order. */
  readonly messages: SlackStoredMessage[];
  /** Top-level messages of a channel. */
  topLevel(channel: string): SlackStoredMessage[];
  /** Replies in the thread of `ts`. */
  replies(channel: string, ts: string): SlackStoredMessage[];
  /** Removes a message, as a person deleting it in Slack would. */
  deleteMessage(channel: string, ts: string): void;
  /** Slack's `error` codes it answered, in order. */
  readonly errors: string[];
  answerNext(...replies: Reply[]): void;
  close(): Promise<void>;
}

export async function startFakeSlack(options: { readonly token: string; readonly channels: readonly string[] }): Promise<FakeSlack> {
  const messages: SlackStoredMessage[] = [];
  const errors: string[] = [];
  const queued: Reply[] = [];
  let clock = 1_764_000_000_000_100;
  const nextTs = (): string => {
    clock += 100;
    const text = String(clock);
    return `${text.slice(0, 10)}.${text.slice(10)}`;
  };
  const answer = (body: Record<string, unknown>): Reply => ({ status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) });
  const refuse = (error: string): Reply => {
    errors.push(error);
    return answer({ ok: false, error });
  };
  const find = (channel: string, ts: string): SlackStoredMessage | undefined => messages.find((m) => m.channel === channel && m.ts === ts);

  const handle = (request: RecordedRequest): Reply => {
    const method = /^\/api\/(chat\.postMessage|chat\.update)$/.exec(request.path)?.[1];
    if (request.method !== 'POST' || method === undefined) return { status: 404, body: 'unknown_method' };
    const auth = request.headers.authorization;
    if (auth === undefined) return refuse('not_authed');
    if (auth !== `Bearer ${options.token}`) return refuse('invalid_auth');
    if (!/^application\/json/.test(request.headers['content-type'] ?? '')) return refuse('invalid_arguments');
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch {
      return refuse('invalid_json');
    }
    if (method === 'chat.postMessage') {
      const parsed = postMessageSchema.safeParse(body);
      if (!parsed.success) return refuse('invalid_arguments');
      const { channel, thread_ts: threadTs } = parsed.data;
      if (!options.channels.includes(channel)) return refuse('channel_not_found');
      if (threadTs !== undefined && find(channel, threadTs) === undefined) return refuse('thread_not_found');
      const ts = nextTs();
      messages.push({ channel, ts, text: parsed.data.text, blocks: parsed.data.blocks, attachments: parsed.data.attachments, threadTs, edits: 0 });
      return answer({ ok: true, channel, ts, message: { type: 'message', subtype: 'bot_message', text: parsed.data.text, ts } });
    }
    const parsed = updateSchema.safeParse(body);
    if (!parsed.success) return refuse('invalid_arguments');
    if (!options.channels.includes(parsed.data.channel)) return refuse('channel_not_found');
    const message = find(parsed.data.channel, parsed.data.ts);
    if (message === undefined) return refuse('message_not_found');
    message.text = parsed.data.text;
    message.blocks = parsed.data.blocks;
    message.attachments = parsed.data.attachments;
    message.edits += 1;
    return answer({ ok: true, channel: message.channel, ts: message.ts, text: message.text });
  };

  const recorder = await startRecorder((request) => queued.shift() ?? handle(request));
  return {
    apiUrl: `${recorder.url}/api`,
    recorder,
    messages,
    errors,
    topLevel: (channel) => messages.filter((m) => m.channel === channel && m.threadTs === undefined),
    replies: (channel, ts) => messages.filter((m) => m.channel === channel && m.threadTs === ts),
    deleteMessage: (channel, ts) => {
      const index = messages.findIndex((m) => m.channel === channel && m.ts === ts);
      if (index >= 0) messages.splice(index, 1);
    },
    answerNext: (...replies) => {
      queued.push(...replies);
    },
    close: () => recorder.close(),
  };
}

/** Slack's rate-limit answer. */
export function slackRateLimited(retryAfterSeconds?: number): Reply {
  return {
    status: 429,
    headers: { 'content-type': 'application/json; charset=utf-8', ...(retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) }) },
    body: JSON.stringify({ ok: false, error: 'ratelimited' }),
  };
}
