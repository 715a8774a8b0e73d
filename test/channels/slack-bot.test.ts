// Slack channel, bot mode: against a local Slack Web API (chat.postMessage / chat.update with
// Slack's answer shapes), the opening message is edited in place on resolve with a short reply in
// its thread, reminders and flapping notices go in the thread, and every failure is classified
// the way Slack means it (ok:false codes, ratelimited / HTTP 429 with Retry-After).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DeliveryEvent, MessageRefSlot, SendResult } from '../../shared/channels/channel.ts';
import { slackChannel } from '../../shared/channels/slack.ts';
import { MemoryDeliveryClaims } from '../../shared/delivery/claims.ts';
import { runDeliveryJob } from '../../shared/delivery/worker.ts';
import type { Incident } from '../../shared/incident.ts';
import { MemoryMessageRefs } from '../../shared/message-refs/port.ts';
import { CHAT_FIRING, chatResolved } from '../fixtures/channels/incidents.ts';
import { startFakeSlack, slackRateLimited, type FakeSlack } from '../helpers/slack-api.ts';

const TOKEN = 'xoxb-1234-5678-SecretBotToken';
const CHANNEL = 'C0OPS12345';
const incident = CHAT_FIRING.alertmanager;
const resolvedIncident = chatResolved(incident);

let slack: FakeSlack;
beforeAll(async () => {
  slack = await startFakeSlack({ token: TOKEN, channels: [CHANNEL] });
});
afterAll(async () => {
  await slack.close();
});

const target = (extra: Record<string, unknown> = {}): Record<string, unknown> & { type: string } => ({ type: 'slack', botToken: TOKEN, channelId: CHANNEL, apiUrl: slack.apiUrl, ...extra });

/** A slot over an in-process MessageRefs, as the delivery worker builds it. */
function slotOf(refs = new MemoryMessageRefs()): MessageRefSlot & { refs: MemoryMessageRefs } {
  const key = { fingerprint: incident.fingerprint, channel: 'ops-chat' };
  return { refs, get: () => refs.get(key), put: (ref) => refs.put(key, ref) };
}

function send(event: DeliveryEvent, subject: Incident, messageRef?: MessageRefSlot, extra?: Record<string, unknown>): Promise<SendResult> {
  return slackChannel.deliver(event, subject, target(extra), { timeoutMs: 2_000, deliveryId: 'd', messageRef });
}

beforeEach(() => {
  slack.messages.length = 0;
  slack.errors.length = 0;
});

describe('slack bot mode: config', () => {
  const schema = slackChannel.configSchema;
  it('takes a bot token and a channel ID instead of a webhook URL', () => {
    expect(schema.parse({ type: 'slack', botToken: TOKEN, channelId: CHANNEL })).toEqual({ type: 'slack', botToken: TOKEN, channelId: CHANNEL, mentionOn: ['critical'] });
  });
  it('says what is missing or mixed up, without repeating the token', () => {
    const problems = (config: Record<string, unknown>): string[] => {
      const result = schema.safeParse({ type: 'slack', ...config });
      expect(JSON.stringify(result.error?.issues ?? [])).not.toContain('SecretBotToken');
      return result.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) ?? [];
    };
    expect(problems({})).toEqual(['webhookUrl: set webhookUrl (incoming webhook) or botToken and channelId (Slack app)']);
    expect(problems({ botToken: TOKEN })).toEqual(['channelId: is required with botToken']);
    expect(problems({ botToken: TOKEN, channelId: CHANNEL, webhookUrl: 'https://hooks.slack.com/services/T/B/X' })).toEqual(['botToken: set either webhookUrl or botToken, not both']);
    expect(problems({ webhookUrl: 'https://hooks.slack.com/services/T/B/X', channelId: CHANNEL })).toEqual(['channelId: is only used with botToken']);
    expect(problems({ botToken: TOKEN, channelId: '#ops' })).toEqual(['channelId: must be a Slack channel ID such as C0123ABCDEF, not a #name']);
    expect(problems({ botToken: 'SecretBotToken', channelId: CHANNEL })).toEqual(['botToken: must be a Slack bot token (xoxb-…)']);
  });
});

describe('slack bot mode: messages updated in place', () => {
  it('posts the opening notice with chat.postMessage and keeps its channel and ts', async () => {
    const slot = slotOf();
    await expect(send('opened', incident, slot)).resolves.toEqual({ ok: true });
    const [posted] = slack.topLevel(CHANNEL);
    expect(posted).toMatchObject({ channel: CHANNEL, text: `🔴 CRITICAL: ${incident.title}` });
    expect(posted!.blocks?.[0]).toMatchObject({ type: 'header' });
    await expect(slot.get()).resolves.toBe(`${CHANNEL}:${posted!.ts}`);
    const request = slack.recorder.requests.at(-1)!;
    expect(request.path).toBe('/api/chat.postMessage');
    expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('threads reminders and flapping notices, then edits the original on resolve and adds a short reply', async () => {
    const slot = slotOf();
    await send('opened', incident, slot);
    const [original] = slack.topLevel(CHANNEL);
    await expect(send('renotified', incident, slot)).resolves.toEqual({ ok: true });
    await expect(send('flapping', incident, slot)).resolves.toEqual({ ok: true });
    await expect(send('resolved', resolvedIncident, slot)).resolves.toEqual({ ok: true });

    expect(slack.topLevel(CHANNEL)).toHaveLength(1);
    expect(original).toMatchObject({ text: `✅ RESOLVED: ${incident.title}`, edits: 1 });
    expect(JSON.stringify(original!.attachments)).toContain('#2EB67D');
    expect(slack.replies(CHANNEL, original!.ts).map((reply) => reply.text)).toEqual([
      `🔁 STILL FIRING · CRITICAL: ${incident.title}`,
      `⚠️ FLAPPING · CRITICAL: ${incident.title}`,
      `✅ RESOLVED: ${incident.title}`,
    ]);
    // The resolve reply is short: the headline, no card.
    expect(slack.replies(CHANNEL, original!.ts).at(-1)!.blocks).toBeUndefined();
    expect(slack.recorder.requests.filter((r) => r.path === '/api/chat.update')).not.toHaveLength(0);
  });

  it('a reopened incident gets a new message, which the next resolve edits', async () => {
    const slot = slotOf();
    await send('opened', incident, slot);
    await send('resolved', resolvedIncident, slot);
    await send('opened', incident, slot);
    const [first, second] = slack.topLevel(CHANNEL);
    await send('resolved', resolvedIncident, slot);
    expect(first!.edits).toBe(1);
    expect(second).toMatchObject({ edits: 1, text: `✅ RESOLVED: ${incident.title}` });
    expect(slack.topLevel(CHANNEL)).toHaveLength(2);
  });

  it('posts a new message when there is no stored one: no store, another channel, or deleted in Slack', async () => {
    await send('opened', incident);
    await send('resolved', resolvedIncident);
    expect(slack.topLevel(CHANNEL).map((m) => m.edits)).toEqual([0, 0]);

    const elsewhere = slotOf();
    await elsewhere.put('C0OTHER999:1764000000.000100');
    await send('resolved', resolvedIncident, elsewhere);
    expect(slack.topLevel(CHANNEL)).toHaveLength(3);

    const slot = slotOf();
    await send('opened', incident, slot);
    const opened = slack.topLevel(CHANNEL).at(-1)!;
    slack.deleteMessage(CHANNEL, opened.ts);
    await expect(send('resolved', resolvedIncident, slot)).resolves.toEqual({ ok: true });
    expect(slack.errors).toEqual(['message_not_found']);
    expect(slack.topLevel(CHANNEL).at(-1)!.text).toBe(`✅ RESOLVED: ${incident.title}`);
    await expect(send('renotified', incident, slot)).resolves.toEqual({ ok: true });
    expect(slack.errors).toEqual(['message_not_found', 'thread_not_found']);
  });

  it('the mention goes on the opening message only', async () => {
    const slot = slotOf();
    await send('opened', incident, slot, { mention: '<!here>' });
    await send('resolved', resolvedIncident, slot, { mention: '<!here>' });
    const [original] = slack.topLevel(CHANNEL);
    expect(slack.recorder.requests.find((r) => r.path === '/api/chat.postMessage' && r.body.includes('<!here>'))).toBeDefined();
    expect(original!.text).not.toContain('<!here>');
  });

  it('runs through the delivery worker: refs are kept per incident and channel name', async () => {
    const refs = new MemoryMessageRefs();
    const claims = new MemoryDeliveryClaims();
    const deps = { claims, messageRefs: refs, channelConfigs: { 'ops-chat': target() }, sendTimeoutMs: 2_000, maxAttempts: 3 };
    const job = (event: DeliveryEvent, subject: Incident, transitionId: string) => ({ event, incident: subject, channel: 'ops-chat', transitionId, attempt: 1 });
    await expect(runDeliveryJob(job('opened', incident, 'v1.1000'), deps)).resolves.toEqual({ kind: 'delivered' });
    const [original] = slack.topLevel(CHANNEL);
    await expect(refs.get({ fingerprint: incident.fingerprint, channel: 'ops-chat' })).resolves.toBe(`${CHANNEL}:${original!.ts}`);
    await expect(runDeliveryJob(job('resolved', resolvedIncident, 'v2.2000'), deps)).resolves.toEqual({ kind: 'delivered' });
    // A redelivered resolve job is not sent again (delivery claim): no second edit, no second reply.
    await expect(runDeliveryJob(job('resolved', resolvedIncident, 'v2.2000'), deps)).resolves.toEqual({ kind: 'already-delivered' });
    expect(original!.edits).toBe(1);
    expect(slack.replies(CHANNEL, original!.ts)).toHaveLength(1);
  });
});

describe('slack bot mode: answers', () => {
  it('Slack refusals (ok:false) are permanent, named by their code, without the token', async () => {
    const wrongChannel = await send('opened', incident, slotOf(), { channelId: 'C0NOSUCH99' });
    expect(wrongChannel).toEqual({ ok: false, retryable: false, reason: 'Slack chat.postMessage: channel_not_found' });
    const badToken = await send('opened', incident, slotOf(), { botToken: 'xoxb-0000-wrong' });
    expect(badToken).toEqual({ ok: false, retryable: false, reason: 'Slack chat.postMessage: invalid_auth' });
  });

  it('HTTP 429 ratelimited is retried after Retry-After, or with the worker’s backoff without one', async () => {
    slack.answerNext(slackRateLimited(7));
    const limited = await send('opened', incident, slotOf());
    expect(limited).toMatchObject({ ok: false, retryable: true, retryAfterMs: 7_000 });
    expect(limited.ok ? '' : limited.reason).toBe('Slack chat.postMessage: HTTP 429: {"ok":false,"error":"ratelimited"}');
    slack.answerNext(slackRateLimited());
    const bare = await send('opened', incident, slotOf());
    expect(bare).toMatchObject({ ok: false, retryable: true });
    expect(bare.ok ? 0 : bare.retryAfterMs).toBeUndefined();
    expect(slack.messages).toHaveLength(0);
  });

  it('ok:false ratelimited or internal_error at HTTP 200, 5xx and unreadable answers are retried', async () => {
    for (const reply of [
      { status: 200, body: '{"ok":false,"error":"ratelimited"}' },
      { status: 200, body: '{"ok":false,"error":"internal_error"}' },
      { status: 503, body: 'upstream connect error' },
      { status: 200, body: '<html>maintenance</html>' },
    ]) {
      slack.answerNext(reply);
      const result = await send('opened', incident, slotOf());
      expect(result, reply.body).toMatchObject({ ok: false, retryable: true });
      expect(result.ok ? '' : result.reason).not.toContain('SecretBotToken');
    }
  });

  it('a rate-limited thread reply after the edit is retried without a second reply', async () => {
    const slot = slotOf();
    await send('opened', incident, slot);
    const [original] = slack.topLevel(CHANNEL);
    // chat.update passes, then the thread reply is rate limited.
    slack.answerNext({ status: 200, body: JSON.stringify({ ok: true, channel: CHANNEL, ts: original!.ts }) }, slackRateLimited(1));
    await expect(send('resolved', resolvedIncident, slot)).resolves.toMatchObject({ ok: false, retryable: true, retryAfterMs: 1_000 });
    await expect(send('resolved', resolvedIncident, slot)).resolves.toEqual({ ok: true });
    expect(original).toMatchObject({ edits: 1, text: `✅ RESOLVED: ${incident.title}` });
    expect(slack.replies(CHANNEL, original!.ts)).toHaveLength(1);
  });

  it('a store that cannot be read makes the notice retry; one that cannot be written still counts the post as sent', async () => {
    const broken: MessageRefSlot = { get: () => Promise.reject(new Error('disk I/O error')), put: () => Promise.reject(new Error('disk I/O error')) };
    await expect(send('resolved', resolvedIncident, broken)).resolves.toMatchObject({ ok: false, retryable: true, reason: 'could not read the stored Slack message (Error)' });
    expect(slack.messages).toHaveLength(0);
    await expect(send('opened', incident, broken)).resolves.toEqual({ ok: true });
    expect(slack.messages).toHaveLength(1);
  });
});
