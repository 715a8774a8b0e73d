// Slack channel: the shared HTTP kit, then the exact Block Kit body Slack receives (via a real
// recording server on 127.0.0.1), firing vs resolved, escaping and every Block Kit limit.
import { describe, expect, it } from 'vitest';
import { slackChannel, type SlackBlock, type SlackButton, type SlackMessage } from '../../shared/channels/slack.ts';
import { TEST_LABEL, incidentSchema, type SourceKind } from '../../shared/incident.ts';
import { CHAT_FIRING as FIRING, CHAT_SOURCE_KINDS, chatResolved as resolvedOf } from '../fixtures/channels/incidents.ts';
import { describeHttpChannelKit } from '../helpers/channel-kit.ts';
import { REPLACEMENT_CHARACTER, itReportsEchoedFailureWithoutSecrets, useChatRecorder } from '../helpers/chat-channel.ts';

const SECRET_URL_PATH = '/services/T0SECRET/B0SECRET/XXXXsecretTOKENxxxx';

describeHttpChannelKit({
  channel: slackChannel,
  targetFor: (url) => ({ type: 'slack', webhookUrl: url }),
  incident: FIRING.cloudwatch,
});

describe('slack channel', () => {
  const chat = useChatRecorder<SlackMessage>({
    channel: slackChannel,
    reply: { status: 200, body: 'ok' },
    webhookUrl: (url) => `${url}${SECRET_URL_PATH}`,
  });
  const { capture } = chat;

  const headerText = (body: SlackMessage): string => {
    const header = body.blocks[0]!;
    if (header.type !== 'header') throw new Error(`first block is ${header.type}`);
    return header.text.text;
  };
  const buttons = (body: SlackMessage): SlackButton[] =>
    body.blocks.find((b): b is Extract<SlackBlock, { type: 'actions' }> => b.type === 'actions')?.elements ?? [];
  const buttonUrls = (body: SlackMessage): string[] => buttons(body).map((button) => button.url);
  const statusContext = (body: SlackMessage): string => {
    const block = body.blocks[1];
    return block?.type === 'context' ? (block.elements[0]?.text ?? '') : '';
  };
  /** The reason text: the last top-level section with text. */
  const summaryText = (body: SlackMessage): string => {
    const sections = body.blocks.filter((b): b is Extract<SlackBlock, { text: unknown; type: 'section' }> => b.type === 'section' && 'text' in b);
    return sections.at(-1)?.text.text ?? '';
  };
  const contextTexts = (body: SlackMessage): string[] =>
    body.attachments[0].blocks.flatMap((b) => (b.type === 'context' ? b.elements.map((e) => e.text) : []));

  describe('config', () => {
    it('accepts an https webhook and http only on loopback', () => {
      const schema = slackChannel.configSchema;
      expect(schema.safeParse({ type: 'slack', webhookUrl: 'https://hooks.slack.com/services/T/B/X' }).success).toBe(true);
      expect(schema.safeParse({ type: 'slack', webhookUrl: 'http://127.0.0.1:9/hook' }).success).toBe(true);
      expect(schema.safeParse({ type: 'slack', webhookUrl: 'http://localhost:9/hook' }).success).toBe(true);
      const plainHttp = schema.safeParse({ type: 'slack', webhookUrl: 'http://hooks.example.com/services/T/B/SECRETX' });
      expect(plainHttp.success).toBe(false);
      expect(JSON.stringify(plainHttp.error?.issues)).not.toContain('SECRETX');
    });

    it('rejects unknown keys and mentions that are not Slack mention syntax', () => {
      const schema = slackChannel.configSchema;
      const url = 'https://hooks.slack.com/services/T/B/X';
      expect(schema.safeParse({ type: 'slack', webhookUrl: url, channel: '#ops' }).success).toBe(false);
      expect(schema.safeParse({ type: 'slack', webhookUrl: url, mention: '@here' }).success).toBe(false);
      expect(schema.safeParse({ type: 'slack', webhookUrl: url, mention: '<!here> <!subteam^S0123ABC>' }).success).toBe(true);
      expect(schema.parse({ type: 'slack', webhookUrl: url })).toEqual({ type: 'slack', webhookUrl: url, mentionOn: ['critical'] });
    });
  });

  describe('body for each source kind', () => {
    const expected: Record<SourceKind, { header: string; color: string; buttons: string[] }> = {
      cloudwatch: { header: '🟠 ERROR: HighCPU on web-1', color: '#E8590C', buttons: ['Open alert'] },
      'azure-monitor': { header: '🔴 CRITICAL: High DTU on orders-db', color: '#D00000', buttons: ['Open alert'] },
      'gcp-monitoring': { header: '🟡 WARNING: Uptime check failed on checkout', color: '#F2C744', buttons: ['Open alert'] },
      // The runbook first, the internal Prometheus query last.
      alertmanager: { header: '🔴 CRITICAL: KubePodCrashLooping on payments-7d9f', color: '#D00000', buttons: ['Runbook', 'Query'] },
      grafana: { header: '🔵 INFO: Disk usage', color: '#2F80ED', buttons: ['Silence', 'Dashboard'] },
      signalfx: { header: '🟠 ERROR: Checkout latency: p99 above 2s on checkout-7', color: '#E8590C', buttons: ['Open alert'] },
    };

    for (const kind of CHAT_SOURCE_KINDS) {
      it(`${kind}: firing and resolved`, async () => {
        const incident = FIRING[kind];
        const firing = await capture('opened', incident);
        expect(firing.result).toEqual({ ok: true });
        expect(firing.request.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(headerText(firing.body)).toBe(expected[kind].header);
        expect(firing.body.text).toBe(expected[kind].header);
        expect(firing.body.attachments[0].color).toBe(expected[kind].color);
        expect(buttons(firing.body).map((button) => button.text.text)).toEqual(expected[kind].buttons);
        expect(buttons(firing.body)[0]?.style).toBe('primary');
        expect(new Set(buttonUrls(firing.body))).toEqual(new Set(incident.links.map((link) => link.url)));
        expect(statusContext(firing.body)).toMatch(/^\*Firing since Wed 25 Nov 10:00 UTC\* · /);
        expect(contextTexts(firing.body).at(-1)).toBe(`Tocsin · ${kind} · fingerprint ${incident.fingerprint}`);

        const resolved = await capture('resolved', resolvedOf(incident));
        expect(headerText(resolved.body)).toBe(`✅ RESOLVED: ${incident.title}`);
        expect(resolved.body.attachments[0].color).toBe('#2EB67D');
        expect(statusContext(resolved.body)).toMatch(/^\*Resolved after 1h 5m \(ended Wed 25 Nov 11:05 UTC\)\* · /);
        // Nothing is pressed first once it is over.
        expect(buttons(resolved.body).some((button) => button.style !== undefined)).toBe(false);
      });
    }

    it('lays out the cloudwatch alarm block by block: headline, status, metric, buttons, reason', async () => {
      const { body } = await capture('opened', FIRING.cloudwatch);
      expect(body.blocks).toEqual([
        { type: 'header', text: { type: 'plain_text', text: '🟠 ERROR: HighCPU on web-1', emoji: true } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: '*Firing since Wed 25 Nov 10:00 UTC* · AWS 123456789012 · us-east-1 · CloudWatch' }] },
        { type: 'section', text: { type: 'mrkdwn', text: '*CPUUtilization 93.5% &gt; 80%*' } },
        {
          type: 'actions',
          elements: [
            {
              type: 'button',
              text: { type: 'plain_text', text: 'Open alert', emoji: true },
              url: 'https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/HighCPU',
              action_id: 'tocsin-link-0',
              style: 'primary',
            },
          ],
        },
        { type: 'section', text: { type: 'mrkdwn', text: 'Threshold Crossed: 1 datapoint [93.5] was greater than the threshold (80.0).' } },
      ]);
      expect(contextTexts(body)).toEqual(['*Labels:* InstanceId=i-0abc123', 'Tocsin · cloudwatch · fingerprint cloudwatch:5f0c2d9a1b7e4c3f8a6d2e1b0c9f8e7d']);
    });

    it('marks re-notified, flapping and test notices in the header', async () => {
      const incident = FIRING['azure-monitor'];
      expect(headerText((await capture('renotified', incident)).body)).toBe('🔁 STILL FIRING · CRITICAL: High DTU on orders-db');
      expect(headerText((await capture('flapping', incident)).body)).toBe('⚠️ FLAPPING · CRITICAL: High DTU on orders-db');
      const test = incidentSchema.parse({ ...incident, labels: { [TEST_LABEL]: 'true' } });
      expect(headerText((await capture('opened', test)).body)).toBe('🔴 [TEST] CRITICAL: High DTU on orders-db');
    });
  });

  describe('escaping', () => {
    it('escapes & < > everywhere so an alert cannot ping a channel or forge a link', async () => {
      const incident = incidentSchema.parse({
        ...FIRING.cloudwatch,
        title: 'Disk <!channel> & <@U0123> > 90%',
        summary: 'a < b && c > d <https://evil.example|click here>',
        labels: { 'x<y': '<!everyone>' },
        links: [{ title: '<!here> runbook', url: 'https://runbooks.example.com/disk' }],
      });
      const { body, request } = await capture('opened', incident);
      expect(headerText(body)).toBe('🟠 ERROR: Disk &lt;!channel&gt; &amp; &lt;@U0123&gt; &gt; 90%');
      expect(body.text).toBe('🟠 ERROR: Disk &lt;!channel&gt; &amp; &lt;@U0123&gt; &gt; 90%');
      expect(summaryText(body)).toBe('a &lt; b &amp;&amp; c &gt; d &lt;https://evil.example|click here&gt;');
      expect(contextTexts(body)).toContain('*Labels:* x&lt;y=&lt;!everyone&gt;');
      for (const raw of ['<!channel>', '<@U0123>', '<!everyone>', '<!here>', '<https://evil']) expect(request.body).not.toContain(raw);
    });

    it('never cuts an escape sequence when truncating', async () => {
      const incident = incidentSchema.parse({ ...FIRING.cloudwatch, title: '&'.repeat(300) });
      const header = headerText((await capture('opened', incident)).body);
      expect(header).toMatch(/^🟠 ERROR: (?:&amp;)+…$/);
      expect(header.length).toBeLessThanOrEqual(150);
    });
  });

  describe('unicode', () => {
    it('keeps emoji and right-to-left text intact, without bidi control marks', async () => {
      const incident = incidentSchema.parse({
        ...FIRING.alertmanager,
        title: 'שגיאה בשרת הראשי 🔥 données café',
        summary: 'הדיסק מלא \u200F(97%)\u200F — 🚨',
      });
      const { body } = await capture('opened', incident);
      expect(headerText(body)).toBe('🔴 CRITICAL: שגיאה בשרת הראשי 🔥 données café');
      // The right-to-left marks (U+200F) are bidi controls, which every channel drops.
      expect(summaryText(body)).toBe('הדיסק מלא (97%) — 🚨');
    });

    it('truncates on grapheme boundaries (no half emoji, no broken surrogate pair)', async () => {
      const family = '👩‍👩‍👧';
      // The leading `x` puts the cut at an odd UTF-16 offset, inside a surrogate pair.
      const incident = incidentSchema.parse({ ...FIRING.alertmanager, title: `x${family.repeat(100)}` });
      const header = headerText((await capture('opened', incident)).body);
      expect(header).not.toContain(REPLACEMENT_CHARACTER);
      expect(header.length).toBeLessThanOrEqual(150);
      expect(header).toMatch(/^🔴 CRITICAL: x(?:👩‍👩‍👧)+…$/u);
    });
  });

  describe('limits', () => {
    const validLinks = Array.from({ length: 27 }, (_, i) => ({
      title: `Runbook ${i} ${'with a very long descriptive button title '.repeat(3)}`,
      url: `https://runbooks.example.com/step/${i}`,
    }));
    const huge = incidentSchema.parse({
      ...FIRING.alertmanager,
      title: 'Very long title '.repeat(313),
      summary: 'x'.repeat(100_000),
      labels: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`label_${String(i).padStart(3, '0')}`, `value-${i}`])),
      links: [
        { title: 'script', url: 'javascript:alert(1)' },
        { title: 'ftp', url: 'ftp://files.example.com/x' },
        { title: 'too long', url: `https://example.com/${'a'.repeat(4000)}` },
        ...validLinks,
      ],
    });

    it('respects every Block Kit limit for a 5,000-char title, 100 KB summary, 200 labels and 30 links', async () => {
      expect(huge.title.length).toBe(5008);
      const { body, result } = await capture('opened', huge);
      expect(result).toEqual({ ok: true });
      expect(body.blocks.length + body.attachments[0].blocks.length).toBeLessThanOrEqual(50);
      expect(body.text.length).toBeLessThanOrEqual(40_000);

      const header = headerText(body);
      expect(header.length).toBeLessThanOrEqual(150);
      expect(header.startsWith('🔴 CRITICAL: Very long title Very long title')).toBe(true);
      expect(header.endsWith('…')).toBe(true);

      // The reason comes after the buttons and is kept to a screenful.
      expect(summaryText(body)).toMatch(/^x{1499}…$/);

      // Only http(s) URLs within Slack's limit become buttons (no javascript:, ftp: or 4,000-char URL).
      expect(buttonUrls(body)).toEqual([0, 1, 2, 3, 4].map((i) => `https://runbooks.example.com/step/${i}`));
      const actions = body.blocks.find((b): b is Extract<SlackBlock, { type: 'actions' }> => b.type === 'actions')!;
      for (const button of actions.elements) {
        expect(button.text.text.length).toBeLessThanOrEqual(75);
        expect(button.url.length).toBeLessThanOrEqual(3000);
      }

      const labels = contextTexts(body).find((text) => text.startsWith('*Labels:* '))!;
      expect(labels.length).toBeLessThanOrEqual(3000);
      const items = labels.slice('*Labels:* '.length).split(' · ');
      const hidden = Number(/^\+(\d+) more$/.exec(items.at(-1)!)?.[1]);
      expect(items[0]).toBe('label_000=value-0');
      expect(items.length - 1 + hidden).toBe(200);
      for (const text of contextTexts(body)) expect(text.length).toBeLessThanOrEqual(3000);
    });
  });

  describe('mention', () => {
    it('adds the mention to critical firing notices, in the text and under the header', async () => {
      const { body } = await capture('opened', FIRING.alertmanager, { mention: '<!here>' });
      expect(body.text).toBe('<!here> 🔴 CRITICAL: KubePodCrashLooping on payments-7d9f');
      expect(body.blocks.slice(0, 2)).toEqual([
        { type: 'header', text: { type: 'plain_text', text: '🔴 CRITICAL: KubePodCrashLooping on payments-7d9f', emoji: true } },
        { type: 'section', text: { type: 'mrkdwn', text: '<!here>' } },
      ]);
    });

    it('does not mention on resolve or below the configured severities', async () => {
      const resolved = await capture('resolved', resolvedOf(FIRING.alertmanager), { mention: '<!here>' });
      expect(resolved.request.body).not.toContain('<!here>');
      const warning = await capture('opened', FIRING['gcp-monitoring'], { mention: '<!subteam^S0123ABC>' });
      expect(warning.request.body).not.toContain('subteam');
      const opted = await capture('opened', FIRING['gcp-monitoring'], {
        mention: '<!subteam^S0123ABC>',
        mentionOn: ['warning', 'critical'],
      });
      expect(opted.body.text.startsWith('<!subteam^S0123ABC> ')).toBe(true);
    });
  });

  itReportsEchoedFailureWithoutSecrets(chat, {
    title: 'reports Slack error bodies as permanent failures without the webhook URL',
    status: 410,
    body: (request) => `channel_is_archived ${request.path}`,
    reason: /^HTTP 410: channel_is_archived/,
    secrets: ['XXXXsecretTOKENxxxx'],
  });
});
