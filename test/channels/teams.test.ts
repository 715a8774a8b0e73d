// Teams channel: the shared HTTP kit, then the exact Workflows Adaptive Card body Teams
// receives (via a real recording server on 127.0.0.1), firing vs resolved, the ~28 KB body
// limit under extreme input, and the optional mention.
import { describe, expect, it } from 'vitest';
import {
  TEAMS_MAX_BODY_BYTES,
  teamsChannel,
  type TeamsContainer,
  type TeamsElement,
  type TeamsMessage,
  type TeamsOpenUrl,
  type TeamsShowCard,
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
  /** Every element in reading order, the banner's items included. */
  const flat = (body: TeamsMessage): TeamsElement[] =>
    card(body).body.flatMap((element): TeamsElement[] => (element.type === 'Container' ? [element, ...element.items] : [element]));
  const textBlocks = (body: TeamsMessage): TeamsTextBlock[] => flat(body).filter((element): element is TeamsTextBlock => element.type === 'TextBlock');
  const banner = (body: TeamsMessage): TeamsContainer => card(body).body.find((element): element is TeamsContainer => element.type === 'Container')!;
  const titleBlock = (body: TeamsMessage): TeamsTextBlock => banner(body).items[0]!;
  const statusBlock = (body: TeamsMessage): TeamsTextBlock => banner(body).items[1]!;
  /** The reason: the one text block cut to a few lines. */
  const summaryBlock = (body: TeamsMessage): TeamsTextBlock | undefined => textBlocks(body).find((block) => block.maxLines !== undefined);
  const openUrls = (body: TeamsMessage): TeamsOpenUrl[] => card(body).actions.filter((action): action is TeamsOpenUrl => action.type === 'Action.OpenUrl');
  const more = (body: TeamsMessage): TeamsShowCard => card(body).actions.find((action): action is TeamsShowCard => action.type === 'Action.ShowCard')!;

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
    const expected: Record<SourceKind, { title: string; banner: string; buttons: string[] }> = {
      cloudwatch: { title: '🟠 ERROR: HighCPU on web-1', banner: 'attention', buttons: ['Open alert'] },
      'azure-monitor': { title: '🔴 CRITICAL: High DTU on orders-db', banner: 'attention', buttons: ['Open alert'] },
      'gcp-monitoring': { title: '🟡 WARNING: Uptime check failed on checkout', banner: 'warning', buttons: ['Open alert'] },
      alertmanager: { title: '🔴 CRITICAL: KubePodCrashLooping on payments-7d9f', banner: 'attention', buttons: ['Runbook', 'Query'] },
      grafana: { title: '🔵 INFO: Disk usage', banner: 'accent', buttons: ['Silence', 'Dashboard'] },
      signalfx: { title: '🟠 ERROR: Checkout latency: p99 above 2s on checkout-7', banner: 'attention', buttons: ['Open alert'] },
    };

    for (const kind of CHAT_SOURCE_KINDS) {
      it(`${kind}: firing and resolved`, async () => {
        const incident = FIRING[kind];
        const firing = await capture('opened', incident);
        expect(firing.result).toEqual({ ok: true });
        expect(firing.request.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(firing.body.type).toBe('message');
        expect(firing.body.summary).toBe(expected[kind].title);
        expect(firing.body.attachments).toHaveLength(1);
        expect(firing.body.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
        expect(firing.body.attachments[0].contentUrl).toBeNull();
        expect(card(firing.body)).toMatchObject({
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          fallbackText: expected[kind].title,
          msteams: { width: 'Full' },
        });
        // The tone is the banner's background; the headline keeps the default (dark) text colour.
        expect(banner(firing.body).style).toBe(expected[kind].banner);
        expect(titleBlock(firing.body)).toEqual({ type: 'TextBlock', text: expected[kind].title, wrap: true, size: 'Large', weight: 'Bolder' });
        expect(statusBlock(firing.body).text).toBe('Firing since Wed 25 Nov 10:00 UTC');
        expect(openUrls(firing.body).map((action) => action.title)).toEqual(expected[kind].buttons);
        expect(openUrls(firing.body)[0]?.style).toBe('positive');
        // At most three buttons, "More" last.
        expect(card(firing.body).actions.length).toBeLessThanOrEqual(3);
        expect(card(firing.body).actions.at(-1)?.type).toBe('Action.ShowCard');
        const allUrls = [...openUrls(firing.body), ...more(firing.body).card.actions].map((action) => action.url);
        expect(new Set(allUrls)).toEqual(new Set(incident.links.map((link) => link.url)));

        const resolved = await capture('resolved', resolvedOf(incident));
        expect(titleBlock(resolved.body).text).toBe(`✅ RESOLVED: ${incident.title}`);
        expect(banner(resolved.body).style).toBe('good');
        expect(statusBlock(resolved.body).text).toBe('Resolved after 1h 5m (ended Wed 25 Nov 11:05 UTC)');
        expect(openUrls(resolved.body).some((action) => action.style !== undefined)).toBe(false);
      });
    }

    it('lays out the cloudwatch alarm element by element', async () => {
      const { body } = await capture('opened', FIRING.cloudwatch);
      expect(card(body).body).toEqual([
        {
          type: 'Container',
          style: 'attention',
          bleed: true,
          items: [
            { type: 'TextBlock', text: '🟠 ERROR: HighCPU on web-1', wrap: true, size: 'Large', weight: 'Bolder' },
            { type: 'TextBlock', text: 'Firing since Wed 25 Nov 10:00 UTC', wrap: true, weight: 'Bolder', spacing: 'Small' },
          ],
        },
        { type: 'TextBlock', text: 'AWS 123456789012 · us-east-1 · CloudWatch', wrap: true, isSubtle: true, size: 'Small' },
        { type: 'TextBlock', text: 'CPUUtilization 93.5% \\> 80%', wrap: true, size: 'Medium', weight: 'Bolder' },
        // Markdown characters of alert text are escaped: `[93.5]` shows as typed.
        { type: 'TextBlock', text: 'Threshold Crossed: 1 datapoint \\[93.5\\] was greater than the threshold (80.0).', wrap: true, maxLines: 8 },
      ]);
      expect(card(body).actions).toEqual([
        {
          type: 'Action.OpenUrl',
          title: 'Open alert',
          url: 'https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/HighCPU',
          style: 'positive',
        },
        {
          type: 'Action.ShowCard',
          title: 'More',
          card: {
            type: 'AdaptiveCard',
            body: [
              { type: 'FactSet', facts: [{ title: 'InstanceId', value: 'i-0abc123' }] },
              { type: 'TextBlock', text: 'Tocsin · cloudwatch · fingerprint cloudwatch:5f0c2d9a1b7e4c3f8a6d2e1b0c9f8e7d', wrap: true, size: 'Small', isSubtle: true },
            ],
            actions: [],
          },
        },
      ]);
    });

    it('puts links past the second behind "More", so no more than three buttons show', async () => {
      const links = ['Runbook', 'Dashboard', 'Silence', 'Alert rule', 'Panel'].map((title, i) => ({ title, url: `https://grafana.example.com/${i}` }));
      const { body } = await capture('opened', incidentSchema.parse({ ...FIRING.grafana, links }));
      expect(card(body).actions.map((action) => action.title)).toEqual(['Runbook', 'Open alert', 'More']);
      expect(more(body).card.actions.map((action) => action.title)).toEqual(['Silence', 'Dashboard', 'Panel']);
    });
  });

  describe('size', () => {
    it('keeps a 5,000-char title, 100 KB summary, 200 labels and 30 long links under 28 KB, title first', async () => {
      const { body, request, result } = await capture('opened', hugeChatIncident());
      expect(result).toEqual({ ok: true });
      expect(Buffer.byteLength(request.body, 'utf8')).toBeLessThanOrEqual(TEAMS_MAX_BODY_BYTES);
      expect(titleBlock(body).text.startsWith('🔴 CRITICAL: Very long title Very long title')).toBe(true);
      expect(titleBlock(body).text.endsWith('…')).toBe(true);
      const summary = summaryBlock(body)!.text;
      expect(summary).toMatch(/^x+…$/);
      expect(summary.length).toBeLessThan(100_000);
      expect(card(body).actions.length).toBeLessThanOrEqual(3);
    });

    itHoldsTheByteLimitForMultiByteText(chat, {
      title: 'holds the limit for multi-byte text and with a mention added',
      maxBytes: TEAMS_MAX_BODY_BYTES,
      extra: { mention: { id: 'oncall@example.com', name: 'On-call' } },
      // The mention line comes first; the title is still the banner's first line.
      titleOf: (body) => titleBlock(body).text,
    });

    it('keeps a moderate card whole', async () => {
      const summary = 'Line of detail. '.repeat(300).trim();
      const incident = incidentSchema.parse({ ...FIRING.alertmanager, summary });
      const { body } = await capture('opened', incident);
      expect(summaryBlock(body)!.text).toBe(summary);
      // namespace is identity (on the card); pod and the rest behind "More".
      expect(more(body).card.body[0]).toEqual({ type: 'FactSet', facts: [{ title: 'pod', value: 'payments-7d9f' }] });
    });
  });

  describe('text', () => {
    itKeepsEmojiAndRightToLeftText(chat, {
      titleOf: (body) => titleBlock(body).text,
      summaryOf: (body) => summaryBlock(body)!.text,
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
