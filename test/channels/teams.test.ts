// Teams channel: the shared HTTP kit, then the exact Workflows Adaptive Card body Teams
// receives (via a real recording server on 127.0.0.1), firing vs resolved, the ~28 KB body
// limit under extreme input, and the optional mention.
import { describe, expect, it } from 'vitest';
import {
  TEAMS_MAX_BODY_BYTES,
  teamsChannel,
  type TeamsFactSet,
  type TeamsMessage,
  type TeamsTextBlock,
} from '../../shared/channels/teams.ts';
import { incidentSchema, type SourceKind } from '../../shared/incident.ts';
import { CHAT_FIRING as FIRING, CHAT_SOURCE_KINDS, chatResolved as resolvedOf, hugeChatIncident } from '../fixtures/channels/incidents.ts';
import { describeHttpChannelKit } from '../helpers/channel-kit.ts';
import {
  itHoldsTheByteLimitForMultiByteText,
  itKeepsEmojiAndRightToLeftText,
  itReportsEchoedFailureWithoutSecrets,
  useChatRecorder,
} from '../helpers/chat-channel.ts';

const SECRET_URL_PATH = '/workflows/0123abcd/triggers/manual/paths/invoke';
const SECRET_QUERY = '?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SIGsecretSIGNATUREvalue123';

describeHttpChannelKit({
  channel: teamsChannel,
  targetFor: (url) => ({ type: 'teams', webhookUrl: url }),
  incident: FIRING.cloudwatch,
});

describe('teams channel', () => {
  const chat = useChatRecorder<TeamsMessage>({
    channel: teamsChannel,
    // Workflows answer 202 Accepted with an empty body.
    reply: { status: 202 },
    webhookUrl: (url) => `${url}${SECRET_URL_PATH}${SECRET_QUERY}`,
  });
  const { capture } = chat;

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
      signalfx: { title: '🟠 ERROR: Checkout latency: p99 above 2s on checkout-7', color: 'Attention' },
    };

    for (const kind of CHAT_SOURCE_KINDS) {
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
        // Markdown characters of alert text are escaped: `[93.5]` shows as typed.
        'Threshold Crossed: 1 datapoint \\[93.5\\] was greater than the threshold (80.0).',
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
    it('keeps a 5,000-char title, 100 KB summary, 200 labels and 30 long links under 28 KB, title first', async () => {
      const { body, request, result } = await capture('opened', hugeChatIncident());
      expect(result).toEqual({ ok: true });
      expect(Buffer.byteLength(request.body, 'utf8')).toBeLessThanOrEqual(TEAMS_MAX_BODY_BYTES);
      expect(titleBlock(body).text.startsWith('🔴 CRITICAL: Very long title Very long title')).toBe(true);
      expect(titleBlock(body).text.endsWith('…')).toBe(true);
      const summary = textBlocks(body)[1]!.text;
      expect(summary).toMatch(/^x+…$/);
      expect(summary.length).toBeLessThan(100_000);
      expect(card(body).actions.length).toBeLessThanOrEqual(5);
    });

    itHoldsTheByteLimitForMultiByteText(chat, {
      title: 'holds the limit for multi-byte text and with a mention added',
      maxBytes: TEAMS_MAX_BODY_BYTES,
      extra: { mention: { id: 'oncall@example.com', name: 'On-call' } },
      // The mention line comes first, so the title is the second text block.
      titleOf: (body) => textBlocks(body)[1]!.text,
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
    itKeepsEmojiAndRightToLeftText(chat, {
      titleOf: (body) => titleBlock(body).text,
      summaryOf: (body) => textBlocks(body)[1]!.text,
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

  itReportsEchoedFailureWithoutSecrets(chat, {
    title: 'reports failures without the signature or the webhook path',
    status: 400,
    body: (request) => `bad request for ${request.path}`,
    reason: /^HTTP 400: bad request for/,
    secrets: ['SIGsecret', '/workflows/0123abcd'],
  });
});
