// Opsgenie channel: the shared HTTP kit, then a contract test against a local Alert API that
// checks the GenieKey header, validates the documented create / close / note bodies and answers
// as Opsgenie does (202 "Request will be processed", 401, 422, 429).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryEvent } from '../../shared/channels/channel.ts';
import { opsgenieChannel } from '../../shared/channels/opsgenie.ts';
import { incidentSchema, type Incident, type Severity } from '../../shared/incident.ts';
import { CHAT_FIRING, chatResolved, hugeChatIncident } from '../fixtures/channels/incidents.ts';
import { describeHttpChannelKit } from '../helpers/channel-kit.ts';
import { itClassifiesToolAnswers, startFakeOpsgenie, type FakeIncidentTool, type OpsgenieRequest as ReceivedRequest } from '../helpers/incident-tools.ts';

const API_KEY = 'eb243592-faa2-4ba2-a551-secretgeniekey';

describeHttpChannelKit({
  channel: opsgenieChannel,
  targetFor: (url) => ({ type: 'opsgenie', apiKey: API_KEY, url }),
  secrets: [API_KEY],
  incident: CHAT_FIRING.cloudwatch,
  requestPath: (path) => `${path}/v2/alerts`,
});

describe('opsgenie channel', () => {
  let fake: FakeIncidentTool<ReceivedRequest>;
  beforeAll(async () => {
    fake = await startFakeOpsgenie(API_KEY);
  });
  afterAll(async () => {
    await fake.close();
  });

  const target = (): { type: string; apiKey: string; url: string; tags?: string[] } => ({ type: 'opsgenie', apiKey: API_KEY, url: fake.url });
  async function send(event: DeliveryEvent, incident: Incident, extra: Record<string, unknown> = {}): Promise<ReceivedRequest> {
    const before = fake.accepted.length;
    const result = await opsgenieChannel.deliver(event, incident, { ...target(), ...extra }, { timeoutMs: 2_000, deliveryId: 'd' });
    expect(fake.refused).toEqual([]);
    expect(result).toEqual({ ok: true });
    return fake.accepted[before]!;
  }
  const created = (request: ReceivedRequest) => {
    if (request.action !== 'create') throw new Error(`expected a create, got ${request.action}`);
    return request.body;
  };

  describe('config', () => {
    const schema = opsgenieChannel.configSchema;
    it('needs an API key, defaults to the US instance and takes the EU one', () => {
      expect(schema.parse({ type: 'opsgenie', apiKey: API_KEY })).toEqual({ type: 'opsgenie', apiKey: API_KEY, region: 'us' });
      expect(schema.parse({ type: 'opsgenie', apiKey: API_KEY, region: 'eu' })).toMatchObject({ region: 'eu' });
      expect(schema.safeParse({ type: 'opsgenie', apiKey: API_KEY, region: 'apac' }).success).toBe(false);
      const bad = schema.safeParse({ type: 'opsgenie', apiKey: 'GenieKey secret with spaces' });
      expect(JSON.stringify(bad.error?.issues)).toContain('API key of an Opsgenie API integration');
      expect(JSON.stringify(bad.error?.issues)).not.toContain('secret with spaces');
    });
  });

  describe('requests', () => {
    it('creates with alias = fingerprint, priority from severity, description, details, entity and tags', async () => {
      const incident = CHAT_FIRING.cloudwatch;
      const body = created(await send('opened', incident, { tags: ['team-web'] }));
      expect(body).toMatchObject({
        message: `🟠 ERROR: ${incident.title}`,
        alias: incident.fingerprint,
        priority: 'P2',
        entity: 'web-1',
        source: 'Tocsin',
        tags: ['error', 'cloudwatch', 'team-web'],
      });
      expect(body.description).toContain(incident.summary);
      expect(body.details).toMatchObject({ Rule: 'HighCPU', 'label:InstanceId': 'i-0abc123', Fingerprint: incident.fingerprint });
      expect(fake.recorder.requests.at(-1)!.headers.authorization).toBe(`GenieKey ${API_KEY}`);
    });

    it('maps P1–P5 from severity', async () => {
      const expected: Record<Severity, string> = { critical: 'P1', error: 'P2', warning: 'P3', info: 'P5' };
      for (const [severity, priority] of Object.entries(expected)) {
        expect(created(await send('opened', incidentSchema.parse({ ...CHAT_FIRING.grafana, severity }))).priority).toBe(priority);
      }
    });

    it('re-creates for a reminder (Opsgenie counts it), notes flapping and closes by alias on resolve', async () => {
      const incident = CHAT_FIRING.alertmanager;
      expect(created(await send('renotified', incident)).alias).toBe(incident.fingerprint);
      expect(await send('flapping', incident)).toEqual({
        action: 'note',
        alias: incident.fingerprint,
        body: { source: 'Tocsin', note: `⚠️ FLAPPING · CRITICAL: ${incident.title}` },
      });
      expect(await send('resolved', chatResolved(incident))).toEqual({
        action: 'close',
        alias: incident.fingerprint,
        body: { source: 'Tocsin', note: `✅ RESOLVED: ${incident.title}` },
      });
      const close = fake.recorder.requests.at(-1)!;
      expect(close.path).toBe(`/v2/alerts/${encodeURIComponent(incident.fingerprint)}/close?identifierType=alias`);
    });

    it('keeps an extreme incident within every documented limit', async () => {
      const body = created(await send('opened', hugeChatIncident()));
      expect(body.message.length).toBeLessThanOrEqual(130);
      expect(body.description?.length).toBeLessThanOrEqual(15_000);
    });
  });

  describe('answers', () => {
    itClassifiesToolAnswers({
      fake: () => fake,
      deliver: () => opsgenieChannel.deliver('opened', CHAT_FIRING.cloudwatch, target(), { timeoutMs: 2_000, deliveryId: 'd' }),
      permanent: {
        status: 422,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: `Request body is not processable (key ${API_KEY})`, took: 0.01, requestId: 'r' }),
      },
      secrets: [API_KEY],
    });

    it('a wrong API key is refused (401) and reported as permanent', async () => {
      const wrong = { ...target(), apiKey: 'aaaaaaaa-bbbb-cccc-dddd-wrongkeyvalue' };
      const result = await opsgenieChannel.deliver('opened', CHAT_FIRING.cloudwatch, wrong, { timeoutMs: 2_000, deliveryId: 'd' });
      expect(result).toMatchObject({ ok: false, retryable: false, reason: expect.stringMatching(/^HTTP 401: .*Could not authenticate/) as unknown });
    });

    it('sends to the EU instance when the region says so', async () => {
      // The EU host cannot be reached from a test: what matters is the URL the request would go to.
      const calls: string[] = [];
      const realFetch = globalThis.fetch;
      globalThis.fetch = ((input: URL | string) => {
        calls.push(String(input));
        return Promise.resolve(new Response('{"result":"Request will be processed"}', { status: 202 }));
      }) as typeof fetch;
      try {
        const eu = { type: 'opsgenie', apiKey: API_KEY, region: 'eu' };
        await expect(opsgenieChannel.deliver('opened', CHAT_FIRING.cloudwatch, eu, { timeoutMs: 2_000, deliveryId: 'd' })).resolves.toEqual({ ok: true });
        const us = { type: 'opsgenie', apiKey: API_KEY };
        await opsgenieChannel.deliver('resolved', chatResolved(CHAT_FIRING.cloudwatch), us, { timeoutMs: 2_000, deliveryId: 'd' });
      } finally {
        globalThis.fetch = realFetch;
      }
      expect(calls).toEqual([
        'https://api.eu.opsgenie.com/v2/alerts',
        `https://api.opsgenie.com/v2/alerts/${encodeURIComponent(CHAT_FIRING.cloudwatch.fingerprint)}/close?identifierType=alias`,
      ]);
    });
  });
});
