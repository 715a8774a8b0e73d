// Teams channel: the shared HTTP kit, then the exact Workflows Adaptive Card body Teams
// receives (via a real recording server on 127.0.0.1), firing vs resolved, the ~28 KB body
// limit under extreme input, and the optional mention.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryEvent, SendResult } from '../../shared/channels/channel.ts';
import {
  TEAMS_MAX_BODY_BYTES,
  teamsChannel,
  type TeamsFactSet,
  type TeamsMessage,
  type TeamsTextBlock,
} from '../../shared/channels/teams.ts';
import { incidentSchema, type Incident, type SourceKind } from '../../shared/incident.ts';
import { describeHttpChannelKit } from '../helpers/channel-kit.ts';
import { startRecorder, type HttpRecorder, type RecordedRequest } from '../helpers/http-recorder.ts';

// One incident per source kind, as the source modules produce them (built here directly so this
// file does not depend on the source fixtures).
const FIRING: Record<SourceKind, Incident> = {
  cloudwatch: incidentSchema.parse({
    schemaVersion: 1,
    fingerprint: 'cloudwatch:5f0c2d9a1b7e4c3f8a6d2e1b0c9f8e7d',
    status: 'firing',
    severity: 'error',
    title: 'HighCPU on web-1',
    summary: 'Threshold Crossed: 1 datapoint [93.5] was greater than the threshold (80.0).',
    source: { kind: 'cloudwatch', cloud: 'aws', account: '123456789012', region: 'us-east-1', rule: 'HighCPU' },
    resource: { id: 'i-0abc123', name: 'web-1', type: 'AWS::EC2::Instance' },
    startsAt: '2026-11-25T10:00:00.000Z',
    labels: { InstanceId: 'i-0abc123' },
    links: [{ title: 'CloudWatch alarm', url: 'https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/HighCPU' }],
    metric: { name: 'CPUUtilization', namespace: 'AWS/EC2', value: 93.5, threshold: 80, operator: 'GreaterThanThreshold', unit: 'Percent' },
  }),
  'azure-monitor': incidentSchema.parse({
    schemaVersion: 1,
    fingerprint: 'azure-monitor:0a1b2c3d4e5f60718293a4b5c6d7e8f9',
    status: 'firing',
    severity: 'critical',
    title: 'High DTU on orders-db',
    summary: 'DTU percentage above 95 for 10 minutes',
    source: { kind: 'azure-monitor', cloud: 'azure', account: '00000000-1111-2222-3333-444444444444', region: 'westeurope', rule: 'High DTU' },
    resource: { id: '/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg/providers/Microsoft.Sql/servers/sql1/databases/orders-db', name: 'orders-db', type: 'Microsoft.Sql/servers/databases' },
    startsAt: '2026-11-25T10:00:00Z',
    labels: { team: 'data' },
    links: [{ title: 'Azure portal', url: 'https://portal.azure.com/#resource/subscriptions/0000/alerts/1' }],
  }),
  'gcp-monitoring': incidentSchema.parse({
    schemaVersion: 1,
    fingerprint: 'gcp-monitoring:9f8e7d6c5b4a39281706f5e4d3c2b1a0',
    status: 'firing',
    severity: 'warning',
    title: 'Uptime check failed on checkout',
    source: { kind: 'gcp-monitoring', cloud: 'gcp', account: 'shop-prod', rule: 'Uptime check' },
    resource: { name: 'checkout', type: 'uptime_url' },
    startsAt: '2026-11-25T10:00:00Z',
    labels: { host: 'checkout.example.com' },
    links: [{ title: 'Incident', url: 'https://console.cloud.google.com/monitoring/alerting/incidents/0.abc?project=shop-prod' }],
  }),
  alertmanager: incidentSchema.parse({
    schemaVersion: 1,
    fingerprint: 'alertmanager:11223344556677889900aabbccddeeff',
    status: 'firing',
    severity: 'critical',
    title: 'KubePodCrashLooping on payments-7d9f',
    summary: 'Pod payments/payments-7d9f is restarting 3 times / 5 minutes.',
    source: { kind: 'alertmanager', cloud: 'other', rule: 'KubePodCrashLooping' },
    startsAt: '2026-11-25T10:00:00Z',
    labels: { alertname: 'KubePodCrashLooping', namespace: 'payments', pod: 'payments-7d9f', severity: 'critical' },
    links: [
      { title: 'Runbook', url: 'https://runbooks.example.com/KubePodCrashLooping' },
      { title: 'Source', url: 'http://prometheus.example.com:9090/graph?g0.expr=up' },
    ],
  }),
  grafana: incidentSchema.parse({
    schemaVersion: 1,
    fingerprint: 'grafana:ffeeddccbbaa00998877665544332211',
    status: 'firing',
    severity: 'info',
    title: 'Disk usage',
    source: { kind: 'grafana', cloud: 'other', rule: 'Disk usage' },
    startsAt: '2026-11-25T10:00:00Z',
    labels: { alertname: 'Disk usage', grafana_folder: 'Infra' },
    links: [
      { title: 'Dashboard', url: 'https://grafana.example.com/d/abc' },
      { title: 'Silence', url: 'https://grafana.example.com/alerting/silence/new?alertmanager=grafana' },
    ],
    metric: { value: 81.25 },
  }),
};

/** A lone surrogate (half an emoji) cannot be sent as UTF-8: it arrives as U+FFFD. */
const REPLACEMENT_CHARACTER = '\uFFFD';

const resolvedOf = (incident: Incident): Incident =>
  incidentSchema.parse({ ...incident, status: 'resolved', endsAt: '2026-11-25T11:05:30Z' });

const SECRET_URL_PATH = '/workflows/0123abcd/triggers/manual/paths/invoke';
const SECRET_QUERY = '?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SIGsecretSIGNATUREvalue123';

describeHttpChannelKit({
  channel: teamsChannel,
  targetFor: (url) => ({ type: 'teams', webhookUrl: url }),
  incident: FIRING.cloudwatch,
});

describe('teams channel', () => {
  let recorder: HttpRecorder;
  beforeAll(async () => {
    // Workflows answer 202 Accepted with an empty body.
    recorder = await startRecorder(() => ({ status: 202 }));
  });
  afterAll(async () => {
    await recorder.close();
  });

  const target = (extra: Record<string, unknown> = {}): { type: string; webhookUrl: string } => ({
    type: 'teams',
    webhookUrl: `${recorder.url}${SECRET_URL_PATH}${SECRET_QUERY}`,
    ...extra,
  });

  async function capture(
    event: DeliveryEvent,
    incident: Incident,
    extra: Record<string, unknown> = {},
  ): Promise<{ result: SendResult; request: RecordedRequest; body: TeamsMessage }> {
    const before = recorder.requests.length;
    const result = await teamsChannel.deliver(event, incident, target(extra), { timeoutMs: 2_000 });
    const request = recorder.requests[before]!;
    return { result, request, body: JSON.parse(request.body) as TeamsMessage };
  }

  const card = (body: TeamsMessage): TeamsMessage['attachments'][0]['content'] => body.attachments[0].content;
  const textBlocks = (body: TeamsMessage): TeamsTextBlock[] =>
    card(body).body.filter((element): element is TeamsTextBlock => element.type === 'TextBlock');
  const factSets = (body: TeamsMessage): TeamsFactSet[] =>
    card(body).body.filter((element): element is TeamsFactSet => element.type === 'FactSet');
  const titleBlock = (body: TeamsMessage): TeamsTextBlock => textBlocks(body)[0]!;

  describe('config', () => {
    it('accepts an https webhook and http only on loopback, without echoing the URL', () => {
      const schema = teamsChannel.configSchema;
      expect(schema.safeParse({ type: 'teams', webhookUrl: `https://prod-01.westus.logic.azure.com${SECRET_URL_PATH}${SECRET_QUERY}` }).success).toBe(true);
      expect(schema.safeParse({ type: 'teams', webhookUrl: 'http://127.0.0.1:9/hook' }).success).toBe(true);
      const plainHttp = schema.safeParse({ type: 'teams', webhookUrl: `http://prod-01.westus.logic.azure.com/x${SECRET_QUERY}` });
      expect(plainHttp.success).toBe(false);
      expect(JSON.stringify(plainHttp.error?.issues)).not.toContain('SIGsecret');
    });

    it('accepts a mention with an id and a name, and rejects markup in it or unknown keys', () => {
      const schema = teamsChannel.configSchema;
      const url = 'https://example.logic.azure.com/workflows/x';
      expect(schema.safeParse({ type: 'teams', webhookUrl: url, mention: { id: 'oncall@example.com', name: 'On-call' } }).success).toBe(true);
      expect(schema.safeParse({ type: 'teams', webhookUrl: url, mention: { id: 'x', name: '</at><at>all' } }).success).toBe(false);
      expect(schema.safeParse({ type: 'teams', webhookUrl: url, mention: 'On-call' }).success).toBe(false);
      expect(schema.safeParse({ type: 'teams', webhookUrl: url, themeColor: 'red' }).success).toBe(false);
    });
  });

  describe('body for each source kind', () => {
    const expected: Record<SourceKind, { title: string; color: string }> = {
      cloudwatch: { title: '🟠 ERROR: HighCPU on web-1', color: 'Attention' },
      'azure-monitor': { title: '🔴 CRITICAL: High DTU on orders-db', color: 'Attention' },
      'gcp-monitoring': { title: '🟡 WARNING: Uptime check failed on checkout', color: 'Warning' },
      alertmanager: { title: '🔴 CRITICAL: KubePodCrashLooping on payments-7d9f', color: 'Attention' },
      grafana: { title: '🔵 INFO: Disk usage', color: 'Accent' },
    };

    for (const kind of Object.keys(FIRING) as SourceKind[]) {
      it(`${kind}: firing and resolved`, async () => {
        const incident = FIRING[kind];
        const firing = await capture('opened', incident);
        expect(firing.result).toEqual({ ok: true });
        expect(firing.request.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(firing.body.type).toBe('message');
        expect(firing.body.attachments).toHaveLength(1);
        expect(firing.body.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
        expect(firing.body.attachments[0].contentUrl).toBeNull();
        expect(card(firing.body)).toMatchObject({
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          msteams: { width: 'Full' },
        });
        expect(titleBlock(firing.body)).toEqual({
          type: 'TextBlock',
          text: expected[kind].title,
          wrap: true,
          size: 'Large',
          weight: 'Bolder',
          color: expected[kind].color,
        });
        expect(factSets(firing.body)[0]!.facts[0]).toEqual({ title: 'Status', value: 'Firing' });
        expect(card(firing.body).actions.map((action) => action.url)).toEqual(incident.links.map((link) => link.url));
        expect(new Set(card(firing.body).actions.map((action) => action.type))).toEqual(new Set(['Action.OpenUrl']));

        const resolved = await capture('resolved', resolvedOf(incident));
        expect(titleBlock(resolved.body).text).toBe(`✅ RESOLVED: ${incident.title}`);
        expect(titleBlock(resolved.body).color).toBe('Good');
        expect(factSets(resolved.body)[0]!.facts).toEqual(
          expect.arrayContaining([
            { title: 'Status', value: 'Resolved' },
            { title: 'Ended', value: '2026-11-25T11:05:30Z' },
            { title: 'Duration', value: '1h 5m' },
          ]),
        );
      });
    }

    it('lays out the cloudwatch alarm element by element', async () => {
      const { body } = await capture('opened', FIRING.cloudwatch);
      expect(card(body).body.map((element) => element.type)).toEqual([
        'TextBlock',
        'FactSet',
        'TextBlock',
        'TextBlock',
        'TextBlock',
        'FactSet',
        'TextBlock',
      ]);
      expect(factSets(body)[0]!.facts).toEqual([
        { title: 'Status', value: 'Firing' },
        { title: 'Severity', value: 'error' },
        { title: 'Source', value: 'cloudwatch (aws)' },
        { title: 'Rule', value: 'HighCPU' },
        { title: 'Account', value: '123456789012' },
        { title: 'Region', value: 'us-east-1' },
        { title: 'Resource', value: 'web-1 (AWS::EC2::Instance)' },
        { title: 'Started', value: '2026-11-25T10:00:00.000Z' },
      ]);
      expect(textBlocks(body).slice(1).map((block) => block.text)).toEqual([
        'Threshold Crossed: 1 datapoint [93.5] was greater than the threshold (80.0).',
        '**Metric:** AWS/EC2 CPUUtilization = 93.5 Percent (threshold GreaterThanThreshold 80)',
        '**Labels**',
        'Tocsin · cloudwatch · fingerprint cloudwatch:5f0c2d9a1b7e4c3f8a6d2e1b0c9f8e7d',
      ]);
      expect(factSets(body)[1]!.facts).toEqual([{ title: 'InstanceId', value: 'i-0abc123' }]);
      expect(card(body).actions).toEqual([
        {
          type: 'Action.OpenUrl',
          title: 'CloudWatch alarm',
          url: 'https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/HighCPU',
        },
      ]);
    });
  });

  describe('size', () => {
    const huge = (overrides: Partial<Incident>): Incident =>
      incidentSchema.parse({
        ...FIRING.alertmanager,
        title: 'Very long title '.repeat(313),
        summary: 'x'.repeat(100_000),
        labels: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`label_${i}`, `value-${i}-${'v'.repeat(200)}`])),
        links: Array.from({ length: 30 }, (_, i) => ({ title: `Link ${i}`, url: `https://example.com/${i}/${'p'.repeat(1900)}` })),
        ...overrides,
      });

    it('keeps a 5,000-char title, 100 KB summary, 200 labels and 30 long links under 28 KB, title first', async () => {
      const { body, request, result } = await capture('opened', huge({}));
      expect(result).toEqual({ ok: true });
      expect(Buffer.byteLength(request.body, 'utf8')).toBeLessThanOrEqual(TEAMS_MAX_BODY_BYTES);
      expect(titleBlock(body).text.startsWith('🔴 CRITICAL: Very long title Very long title')).toBe(true);
      expect(titleBlock(body).text.endsWith('…')).toBe(true);
      const summary = textBlocks(body)[1]!.text;
      expect(summary).toMatch(/^x+…$/);
      expect(summary.length).toBeLessThan(100_000);
      expect(card(body).actions.length).toBeLessThanOrEqual(5);
    });

    it('holds the limit for multi-byte text and with a mention added', async () => {
      const incident = huge({ title: `x${'🔥警報'.repeat(2000)}`, summary: '漢字とعربي'.repeat(20_000) });
      const { body, request } = await capture('opened', incident, { mention: { id: 'oncall@example.com', name: 'On-call' } });
      expect(Buffer.byteLength(request.body, 'utf8')).toBeLessThanOrEqual(TEAMS_MAX_BODY_BYTES);
      expect(textBlocks(body)[1]!.text).toMatch(/^🔴 CRITICAL: x🔥警報(?:🔥|警|報)*…$/u);
      expect(request.body).not.toContain(REPLACEMENT_CHARACTER);
    });

    it('keeps a moderate card whole', async () => {
      const summary = 'Line of detail. '.repeat(300).trim();
      const incident = incidentSchema.parse({ ...FIRING.alertmanager, summary });
      const { body } = await capture('opened', incident);
      expect(textBlocks(body)[1]!.text).toBe(summary);
      expect(factSets(body)[1]!.facts).toHaveLength(4);
    });
  });

  describe('text', () => {
    it('keeps emoji and right-to-left text intact', async () => {
      const incident = incidentSchema.parse({ ...FIRING.grafana, title: 'שגיאה בשרת 🔥 données', summary: 'הדיסק מלא — 🚨' });
      const { body } = await capture('opened', incident);
      expect(titleBlock(body).text).toBe('🔵 INFO: שגיאה בשרת 🔥 données');
      expect(textBlocks(body)[1]!.text).toBe('הדיסק מלא — 🚨');
    });
  });

  describe('mention', () => {
    it('mentions on critical firing notices with a matching entity', async () => {
      const { body } = await capture('opened', FIRING['azure-monitor'], { mention: { id: 'oncall@example.com', name: 'On-call' } });
      expect(card(body).body[0]).toEqual({ type: 'TextBlock', text: '<at>On-call</at>', wrap: true });
      expect(card(body).msteams).toEqual({
        width: 'Full',
        entities: [{ type: 'mention', text: '<at>On-call</at>', mentioned: { id: 'oncall@example.com', name: 'On-call' } }],
      });
    });

    it('does not mention on resolve or for lower severities', async () => {
      const mention = { mention: { id: 'oncall@example.com', name: 'On-call' } };
      const resolved = await capture('resolved', resolvedOf(FIRING['azure-monitor']), mention);
      expect(card(resolved.body).msteams).toEqual({ width: 'Full' });
      const warning = await capture('opened', FIRING['gcp-monitoring'], mention);
      expect(warning.request.body).not.toContain('<at>');
    });
  });

  it('reports failures without the signature or the webhook path', async () => {
    recorder.respondWith((request) => ({ status: 400, body: `bad request for ${request.path}` }));
    try {
      const { result } = await capture('opened', FIRING.cloudwatch);
      expect(result).toMatchObject({ ok: false, retryable: false });
      expect(result.ok ? '' : result.reason).toMatch(/^HTTP 400: bad request for/);
      expect(result.ok ? '' : result.reason).not.toContain('SIGsecret');
      expect(result.ok ? '' : result.reason).not.toContain('/workflows/0123abcd');
    } finally {
      recorder.respondWith(() => ({ status: 202 }));
    }
  });
});
