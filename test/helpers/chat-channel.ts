// What the Slack, Teams and Google Chat tests share beyond the HTTP kit: a recording server
// standing in for the chat service with a capture of the exact body each delivery posts, and
// the tests that have the same inputs and expectations on every chat channel. Each file passes
// its own webhook URL, body type, secrets and accessors into the card it renders.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DeliveryEvent, RegisteredChannel, SendResult } from '../../shared/channels/channel.ts';
import { incidentSchema, type Incident } from '../../shared/incident.ts';
import { CHAT_FIRING, hugeChatIncident } from '../fixtures/channels/incidents.ts';
import { startRecorder, type HttpRecorder, type RecordedRequest, type Reply } from './http-recorder.ts';

/** A lone surrogate (half an emoji) cannot be sent as UTF-8: it arrives as U+FFFD. */
export const REPLACEMENT_CHARACTER = '\uFFFD';

export interface ChatRecorderOptions {
  readonly channel: RegisteredChannel;
  /** How the service answers a good post (Slack "ok", Teams 202 and no body, Google Chat the message). */
  readonly reply: Reply;
  /** The configured webhook URL on the recorder, with the channel's secret-looking path and query. */
  readonly webhookUrl: (recorderUrl: string) => string;
}

export interface Captured<Body> {
  readonly result: SendResult;
  readonly request: RecordedRequest;
  readonly body: Body;
}

export interface ChatRecorder<Body> {
  // Function-typed properties, not methods: the test files destructure them.
  /** The running recorder (started in beforeAll, so only call this inside a test). */
  readonly recorder: () => HttpRecorder;
  /** Delivers through the channel to the recorder and returns what the service received. */
  readonly capture: (event: DeliveryEvent, incident: Incident, extra?: Record<string, unknown>) => Promise<Captured<Body>>;
  /** Puts back the good-post reply after a test made the service fail. */
  readonly restoreReply: () => void;
}

/** Starts a recorder for the enclosing describe block; `Body` is the channel's message type. */
export function useChatRecorder<Body>(options: ChatRecorderOptions): ChatRecorder<Body> {
  let running: HttpRecorder | undefined;
  beforeAll(async () => {
    running = await startRecorder(() => options.reply);
  });
  afterAll(async () => {
    await running?.close();
  });

  const recorder = (): HttpRecorder => {
    if (!running) throw new Error('the chat recorder is used outside a test');
    return running;
  };
  return {
    recorder,
    capture: async (event, incident, extra = {}) => {
      const target = { type: options.channel.type, webhookUrl: options.webhookUrl(recorder().url), ...extra };
      const before = recorder().requests.length;
      const result = await options.channel.deliver(event, incident, target, { timeoutMs: 2_000, deliveryId: 'test-delivery-id' });
      const request = recorder().requests[before]!;
      return { result, request, body: JSON.parse(request.body) as Body };
    },
    restoreReply: () => {
      recorder().respondWith(() => options.reply);
    },
  };
}

export interface EchoedFailure {
  readonly title: string;
  readonly status: number;
  /** The service's error body, echoing what the real service would (the request path, its key). */
  readonly body: (request: RecordedRequest) => string;
  /** What the reason must look like: status first, then the service's words. */
  readonly reason: RegExp;
  /** Parts of the webhook URL that must not reach the reason. */
  readonly secrets: readonly string[];
}

/** A 4xx whose body echoes the webhook's secrets is a permanent failure whose reason names none of them. */
export function itReportsEchoedFailureWithoutSecrets<Body>(chat: ChatRecorder<Body>, failure: EchoedFailure): void {
  it(failure.title, async () => {
    chat.recorder().respondWith((request) => ({ status: failure.status, body: failure.body(request) }));
    try {
      const { result } = await chat.capture('opened', CHAT_FIRING.cloudwatch);
      expect(result).toMatchObject({ ok: false, retryable: false });
      const reason = result.ok ? '' : result.reason;
      expect(reason).toMatch(failure.reason);
      for (const secret of failure.secrets) expect(reason).not.toContain(secret);
    } finally {
      chat.restoreReply();
    }
  });
}

export interface MultiByteLimit<Body> {
  readonly title: string;
  /** The channel's body limit in UTF-8 bytes. */
  readonly maxBytes: number;
  /** Channel config beyond the webhook URL (a mention, to test the limit with it added). */
  readonly extra?: Record<string, unknown>;
  /** The rendered text that carries the (cut) incident title. */
  readonly titleOf: (body: Body) => string;
}

/** Emoji and CJK/Arabic text past the byte limit: cut under it, on whole characters. */
export function itHoldsTheByteLimitForMultiByteText<Body>(chat: ChatRecorder<Body>, limit: MultiByteLimit<Body>): void {
  it(limit.title, async () => {
    const incident = hugeChatIncident({ title: `x${'🔥警報'.repeat(2000)}`, summary: '漢字とعربي'.repeat(20_000) });
    const { body, request } = await chat.capture('opened', incident, limit.extra);
    expect(Buffer.byteLength(request.body, 'utf8')).toBeLessThanOrEqual(limit.maxBytes);
    expect(limit.titleOf(body)).toMatch(/^🔴 CRITICAL: x🔥警報(?:🔥|警|報)*…$/u);
    expect(request.body).not.toContain(REPLACEMENT_CHARACTER);
  });
}

export interface IntactText<Body> {
  /** The rendered title and summary texts. */
  readonly titleOf: (body: Body) => string;
  readonly summaryOf: (body: Body) => string;
}

/** Emoji, Hebrew and accented Latin pass through the title and summary unchanged. */
export function itKeepsEmojiAndRightToLeftText<Body>(chat: ChatRecorder<Body>, text: IntactText<Body>): void {
  it('keeps emoji and right-to-left text intact', async () => {
    const incident = incidentSchema.parse({ ...CHAT_FIRING.grafana, title: 'שגיאה בשרת 🔥 données', summary: 'הדיסק מלא — 🚨' });
    const { body } = await chat.capture('opened', incident);
    expect(text.titleOf(body)).toBe('🔵 INFO: שגיאה בשרת 🔥 données');
    expect(text.summaryOf(body)).toBe('הדיסק מלא — 🚨');
  });
}
