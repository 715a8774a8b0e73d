// Splunk On-Call channel: the shared HTTP kit, then a contract test against a local REST endpoint
// integration that checks the key in the path, validates the documented alert fields and answers
// as the service does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryEvent } from '../../shared/channels/channel.ts';
import { splunkOnCallChannel, SPLUNK_ONCALL_REST_URL } from '../../shared/channels/splunk-oncall.ts';
import { incidentSchema, type Incident, type Severity } from '../../shared/incident.ts';
import { CHAT_FIRING, chatResolved, hugeChatIncident } from '../fixtures/channels/incidents.ts';
import { describeHttpChannelKit } from '../helpers/channel-kit.ts';
import {
  itClassifiesToolAnswers,
  SPLUNK_ONCALL_PATH,
  startFakeSplunkOnCall,
  type FakeIncidentTool,
  type SplunkOnCallAlertBody,
} from '../helpers/incident-tools.ts';

const API_KEY = 'c0ffee00-5ec7-4e7a-9b1d-secretapikey';

describeHttpChannelKit({
  channel: splunkOnCallChannel,
  targetFor: (url) => ({ type: 'splunk-oncall', apiKey: API_KEY, routingKey: 'ops', url }),
  secrets: [API_KEY],
  incident: CHAT_FIRING.cloudwatch,
  requestPath: (path) => `${path}/${API_KEY}/ops`,
});

describe('splunk-oncall channel', () => {
  let fake: FakeIncidentTool<SplunkOnCallAlertBody>;
  beforeAll(async () => {
    fake = await startFakeSplunkOnCall(API_KEY);
  });
  afterAll(async () => {
    await fake.close();
  });

  const target = (routingKey = 'database'): { type: string; apiKey: string; routingKey: string; url: string } => ({
    type: 'splunk-oncall',
    apiKey: API_KEY,
    routingKey,
    url: `${fake.url}${SPLUNK_ONCALL_PATH}/`,
  });
  async function send(event: DeliveryEvent, incident: Incident, routingKey?: string): Promise<SplunkOnCallAlertBody> {
    const before = fake.accepted.length;
    const result = await splunkOnCallChannel.deliver(event, incident, target(routingKey), { timeoutMs: 2_000, deliveryId: 'd' });
    expect(fake.refused).toEqual([]);
    expect(result).toEqual({ ok: true });
    return fake.accepted[before]!;
  }

  describe('config', () => {
    const schema = splunkOnCallChannel.configSchema;
    it('needs the API key and a routing key, and defaults to the public REST endpoint', () => {
      expect(schema.parse({ type: 'splunk-oncall', apiKey: API_KEY, routingKey: 'database' })).toEqual({
        type: 'splunk-oncall',
        apiKey: API_KEY,
        routingKey: 'database',
        url: SPLUNK_ONCALL_REST_URL,
      });
      const missing = schema.safeParse({ type: 'splunk-oncall', apiKey: API_KEY });
      expect(missing.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['routingKey']);
    });
    it('refuses a key or routing key that would change the URL, without repeating the key', () => {
      const slash = schema.safeParse({ type: 'splunk-oncall', apiKey: 'secret/../../other', routingKey: 'db' });
      expect(slash.success).toBe(false);
      expect(JSON.stringify(slash.error?.issues)).not.toContain('secret/');
      expect(schema.safeParse({ type: 'splunk-oncall', apiKey: API_KEY, routingKey: 'db?x=1' }).success).toBe(false);
      expect(schema.safeParse({ type: 'splunk-oncall', apiKey: API_KEY, routingKey: 'db', url: 'http://alert.example.com/x' }).success).toBe(false);
    });
  });

  describe('alerts', () => {
    it('opens with entity_id = fingerprint, the display name, state message, start time and tool, on the routing key', async () => {
      const incident = CHAT_FIRING.cloudwatch;
      const body = await send('opened', incident);
      expect(body).toMatchObject({
        routingKey: 'database',
        message_type: 'CRITICAL',
        entity_id: incident.fingerprint,
        entity_display_name: `🟠 ERROR: ${incident.title}`,
        state_start_time: Date.parse(incident.startsAt) / 1000,
        monitoring_tool: 'Tocsin',
        tocsin_rule: 'HighCPU',
        tocsin_fingerprint: incident.fingerprint,
        tocsin_label_instanceid: 'i-0abc123',
      });
      expect(body.state_message).toContain(incident.summary);
      expect(body.state_message).toContain('Region: us-east-1');
      expect(body.state_message).toContain(incident.links[0]!.url);
    });

    it('maps severities to message types and a resolve to RECOVERY for the same entity', async () => {
      const expected: Record<Severity, string> = { critical: 'CRITICAL', error: 'CRITICAL', warning: 'WARNING', info: 'INFO' };
      for (const [severity, messageType] of Object.entries(expected)) {
        const body = await send('opened', incidentSchema.parse({ ...CHAT_FIRING.grafana, severity }));
        expect(body.message_type).toBe(messageType);
      }
      const incident = CHAT_FIRING['azure-monitor'];
      expect((await send('renotified', incident)).message_type).toBe('CRITICAL');
      expect((await send('flapping', incident)).message_type).toBe('CRITICAL');
      const recovery = await send('resolved', chatResolved(incident));
      expect(recovery).toMatchObject({ message_type: 'RECOVERY', entity_id: incident.fingerprint, entity_display_name: `✅ RESOLVED: ${incident.title}` });
      expect(recovery.state_start_time).toBe(Date.parse('2026-11-25T11:05:30Z') / 1000);
    });

    it('keeps an extreme incident bounded', async () => {
      const body = await send('opened', hugeChatIncident());
      expect(body.entity_display_name!.length).toBeLessThanOrEqual(512);
      expect(body.state_message!.length).toBeLessThanOrEqual(10_000);
      expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThan(200_000);
    });
  });

  describe('answers', () => {
    itClassifiesToolAnswers({
      fake: () => fake,
      deliver: () => splunkOnCallChannel.deliver('opened', CHAT_FIRING.cloudwatch, target(), { timeoutMs: 2_000, deliveryId: 'd' }),
      permanent: { status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ result: 'failure', message: `bad alert for key ${API_KEY}` }) },
      secrets: [API_KEY],
    });

    it('a wrong API key is refused by the service and reported as permanent, without the key', async () => {
      const wrong = { ...target(), apiKey: 'deadbeef-0000-1111-2222-wrongkeyvalue' };
      const result = await splunkOnCallChannel.deliver('opened', CHAT_FIRING.cloudwatch, wrong, { timeoutMs: 2_000, deliveryId: 'd' });
      expect(result).toMatchObject({ ok: false, retryable: false, reason: expect.stringMatching(/^HTTP 403: /) as unknown });
      expect(result.ok ? '' : result.reason).not.toContain('wrongkeyvalue');
    });
  });
});
