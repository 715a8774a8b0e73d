// PagerDuty channel: the shared HTTP kit, then a contract test against a local Events API v2
// that validates the documented event schema and routing key and answers as PagerDuty does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pagerDutyChannel, PAGERDUTY_EVENTS_URL } from '../../shared/channels/pagerduty.ts';
import { incidentSchema, SEVERITIES, type Incident } from '../../shared/incident.ts';
import { CHAT_FIRING, CHAT_SOURCE_KINDS, chatResolved, hugeChatIncident } from '../fixtures/channels/incidents.ts';
import { describeHttpChannelKit } from '../helpers/channel-kit.ts';
import { itClassifiesToolAnswers, startFakePagerDuty, type FakeIncidentTool, type PagerDutyEventBody } from '../helpers/incident-tools.ts';
import type { DeliveryEvent } from '../../shared/channels/channel.ts';

const ROUTING_KEY = 'R0UT1NGKEYsecret0123456789abcdef';

describeHttpChannelKit({
  channel: pagerDutyChannel,
  targetFor: (url) => ({ type: 'pagerduty', routingKey: ROUTING_KEY, url }),
  secrets: [ROUTING_KEY],
  incident: CHAT_FIRING.cloudwatch,
});

describe('pagerduty channel', () => {
  let fake: FakeIncidentTool<PagerDutyEventBody>;
  beforeAll(async () => {
    fake = await startFakePagerDuty(ROUTING_KEY);
  });
  afterAll(async () => {
    await fake.close();
  });

  const target = (): { type: string; routingKey: string; url: string } => ({ type: 'pagerduty', routingKey: ROUTING_KEY, url: `${fake.url}/v2/enqueue` });
  async function send(event: DeliveryEvent, incident: Incident): Promise<PagerDutyEventBody> {
    const before = fake.accepted.length;
    const result = await pagerDutyChannel.deliver(event, incident, target(), { timeoutMs: 2_000, deliveryId: 'd' });
    expect(fake.refused).toEqual([]);
    expect(result).toEqual({ ok: true });
    expect(fake.accepted).toHaveLength(before + 1);
    return fake.accepted[before]!;
  }

  describe('config', () => {
    const schema = pagerDutyChannel.configSchema;
    it('needs a 32-character routing key and says so without repeating it', () => {
      const short = schema.safeParse({ type: 'pagerduty', routingKey: 'tooShortSecretKey' });
      expect(short.success).toBe(false);
      expect(JSON.stringify(short.error?.issues)).toContain('32-character Integration Key');
      expect(JSON.stringify(short.error?.issues)).not.toContain('tooShortSecretKey');
      expect(schema.safeParse({ type: 'pagerduty' }).success).toBe(false);
    });
    it('defaults to the US endpoint, takes https (or loopback http) and refuses unknown keys', () => {
      expect(schema.parse({ type: 'pagerduty', routingKey: ROUTING_KEY })).toEqual({ type: 'pagerduty', routingKey: ROUTING_KEY, url: PAGERDUTY_EVENTS_URL });
      expect(schema.safeParse({ type: 'pagerduty', routingKey: ROUTING_KEY, url: 'https://events.eu.pagerduty.com/v2/enqueue' }).success).toBe(true);
      expect(schema.safeParse({ type: 'pagerduty', routingKey: ROUTING_KEY, url: 'http://events.example.com/v2/enqueue' }).success).toBe(false);
      expect(schema.safeParse({ type: 'pagerduty', routingKey: ROUTING_KEY, serviceKey: 'x' }).success).toBe(false);
    });
  });

  describe('events', () => {
    it('triggers with dedup_key = fingerprint, the mapped severity, links and custom details', async () => {
      const incident = CHAT_FIRING.cloudwatch;
      const body = await send('opened', incident);
      expect(body).toMatchObject({
        routing_key: ROUTING_KEY,
        event_action: 'trigger',
        dedup_key: incident.fingerprint,
        client: 'Tocsin',
        payload: {
          summary: `🟠 ERROR: ${incident.title}`,
          source: 'web-1',
          severity: 'error',
          timestamp: incident.startsAt,
          class: 'HighCPU',
          group: '123456789012',
          component: 'AWS::EC2::Instance',
        },
        links: incident.links.map((link) => ({ href: link.url, text: link.title })),
      });
      expect(body.payload?.custom_details).toMatchObject({
        Status: 'Firing',
        Rule: 'HighCPU',
        Region: 'us-east-1',
        'label:InstanceId': 'i-0abc123',
        Fingerprint: incident.fingerprint,
      });
    });

    it('maps each severity one to one and gives every source kind a source', async () => {
      for (const severity of SEVERITIES) {
        const body = await send('opened', incidentSchema.parse({ ...CHAT_FIRING.grafana, severity }));
        expect(body.payload?.severity).toBe(severity);
      }
      for (const kind of CHAT_SOURCE_KINDS) expect((await send('opened', CHAT_FIRING[kind])).payload?.source).not.toBe('');
    });

    it('re-triggers the same alert for reminders and flapping, and resolves it by the same dedup_key', async () => {
      const incident = CHAT_FIRING.alertmanager;
      const keys = [];
      for (const event of ['renotified', 'flapping'] as const) {
        const body = await send(event, incident);
        expect(body.event_action).toBe('trigger');
        keys.push(body.dedup_key);
      }
      const resolve = await send('resolved', chatResolved(incident));
      expect(resolve).toEqual({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: incident.fingerprint });
      expect(keys).toEqual([incident.fingerprint, incident.fingerprint]);
    });

    it('keeps an extreme incident within the documented limits', async () => {
      const body = await send('opened', hugeChatIncident());
      expect(body.payload?.summary.length).toBeLessThanOrEqual(1024);
      expect(body.links?.length).toBeLessThanOrEqual(10);
    });
  });

  describe('answers', () => {
    itClassifiesToolAnswers(
      {
        fake: () => fake,
        deliver: () => pagerDutyChannel.deliver('opened', CHAT_FIRING.cloudwatch, target(), { timeoutMs: 2_000, deliveryId: 'd' }),
        permanent: {
          status: 400,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors: [`routing_key ${ROUTING_KEY} is not valid`] }),
        },
        secrets: [ROUTING_KEY],
      },
    );

    it('a wrong routing key is refused by the service and reported as permanent', async () => {
      const wrongKey = { ...target(), routingKey: 'X'.repeat(32) };
      const result = await pagerDutyChannel.deliver('opened', CHAT_FIRING.cloudwatch, wrongKey, { timeoutMs: 2_000, deliveryId: 'd' });
      expect(result).toMatchObject({ ok: false, retryable: false, reason: expect.stringMatching(/^HTTP 400: .*invalid event/) as unknown });
    });
  });
});
