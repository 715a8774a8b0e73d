// Google Chat channel: the shared HTTP kit, then the exact cardsV2 body and URL Google Chat
// receives (via a real recording server on 127.0.0.1): one thread per incident, firing vs
// resolved, escaping, the 32,000-byte limit under extreme input and the optional mention.
import { describe, expect, it } from 'vitest';
import {
  GOOGLE_CHAT_MAX_BODY_BYTES,
  googleChatChannel,
  type GoogleChatButton,
  type GoogleChatMessage,
  type GoogleChatWidget,
} from '../../shared/channels/google-chat.ts';
import { incidentSchema, type SourceKind } from '../../shared/incident.ts';
import { CHAT_FIRING as FIRING, CHAT_SOURCE_KINDS, chatResolved as resolvedOf, hugeChatIncident } from '../fixtures/channels/incidents.ts';
import { describeHttpChannelKit } from '../helpers/channel-kit.ts';
import {
  itHoldsTheByteLimitForMultiByteText,
  itKeepsEmojiAndRightToLeftText,
  itReportsEchoedFailureWithoutSecrets,
  useChatRecorder,
} from '../helpers/chat-channel.ts';

const SPACE_PATH = '/v1/spaces/AAAAsecretSPACE/messages';
const KEY = 'AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI';
const TOKEN = 'TOKENsecretvalue_abcdefghijklmnopqrstuvwxy%3D';
const THREADED = 'messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD';

describeHttpChannelKit({
  channel: googleChatChannel,
  // The kit asserts the request path equals the configured one exactly; threading appends a
  // query parameter, so the kit runs unthreaded and threading is covered below.
  targetFor: (url) => ({ type: 'google-chat', webhookUrl: url, threadPerIncident: false }),
  incident: FIRING.cloudwatch,
});

describe('google chat channel', () => {
  const chat = useChatRecorder<GoogleChatMessage>({
    channel: googleChatChannel,
    reply: { status: 200, headers: { 'content-type': 'application/json' }, body: '{"name":"spaces/x/messages/y"}' },
    webhookUrl: (url) => `${url}${SPACE_PATH}?key=${KEY}&token=${TOKEN}`,
  });
  const { capture, recorder } = chat;

  const card = (body: GoogleChatMessage): GoogleChatMessage['cardsV2'][0]['card'] => body.cardsV2[0].card;
  /** The main section's widgets, or the collapsed details' (section 1). */
  const widgets = (body: GoogleChatMessage, section = 0): GoogleChatWidget[] => card(body).sections[section]?.widgets ?? [];
  const statusText = (body: GoogleChatMessage): string => {
    const first = widgets(body)[0];
    return first !== undefined && 'decoratedText' in first ? first.decoratedText.text : '';
  };
  const paragraphs = (body: GoogleChatMessage, section = 0): string[] =>
    widgets(body, section).flatMap((w) => ('textParagraph' in w ? [w.textParagraph.text] : []));
  /** The reason: the paragraph cut to a few lines. */
  const summaryText = (body: GoogleChatMessage): string | undefined =>
    widgets(body).flatMap((w) => ('textParagraph' in w && w.textParagraph.maxLines !== undefined ? [w.textParagraph.text] : []))[0];
  const buttons = (body: GoogleChatMessage, section = 0): GoogleChatButton[] => widgets(body, section).flatMap((w) => ('buttonList' in w ? w.buttonList.buttons : []));
  const buttonUrls = (body: GoogleChatMessage): string[] => [...buttons(body), ...buttons(body, 1)].map((b) => b.onClick.openLink.url);

  describe('config', () => {
    it('accepts an https webhook and http only on loopback, without echoing the URL', () => {
      const schema = googleChatChannel.configSchema;
      expect(schema.safeParse({ type: 'google-chat', webhookUrl: `https://chat.googleapis.com${SPACE_PATH}?key=${KEY}&token=${TOKEN}` }).success).toBe(true);
      expect(schema.safeParse({ type: 'google-chat', webhookUrl: 'http://localhost:9/hook' }).success).toBe(true);
      const plainHttp = schema.safeParse({ type: 'google-chat', webhookUrl: `http://chat.example.com/x?token=${TOKEN}` });
      expect(plainHttp.success).toBe(false);
      expect(JSON.stringify(plainHttp.error?.issues)).not.toContain('TOKENsecret');
    });

    it('defaults to one thread per incident and validates the mention', () => {
      const schema = googleChatChannel.configSchema;
      const url = 'https://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t';
      expect(schema.parse({ type: 'google-chat', webhookUrl: url })).toEqual({
        type: 'google-chat',
        webhookUrl: url,
        mentionOn: ['critical'],
        threadPerIncident: true,
      });
      expect(schema.safeParse({ type: 'google-chat', webhookUrl: url, mention: 'users/all' }).success).toBe(true);
      expect(schema.safeParse({ type: 'google-chat', webhookUrl: url, mention: '<users/all>' }).success).toBe(false);
      expect(schema.safeParse({ type: 'google-chat', webhookUrl: url, space: 'x' }).success).toBe(false);
    });
  });

  describe('threading', () => {
    it('posts opened and resolved into one thread keyed by the fingerprint, keeping key and token', async () => {
      const incident = FIRING.alertmanager;
      const opened = await capture('opened', incident);
      const resolved = await capture('resolved', resolvedOf(incident));
      for (const { request, body, result } of [opened, resolved]) {
        expect(result).toEqual({ ok: true });
        expect(request.path).toBe(`${SPACE_PATH}?key=${KEY}&token=${TOKEN}&${THREADED}`);
        expect(body.thread).toEqual({ threadKey: 'alertmanager:11223344556677889900aabbccddeeff' });
        expect(body.cardsV2[0].cardId).toBe('tocsin-1122334455667788');
      }
    });

    it('replaces an existing reply option instead of adding a second one', async () => {
      const before = recorder().requests.length;
      const withOption = { type: 'google-chat', webhookUrl: `${recorder().url}${SPACE_PATH}?key=${KEY}&messageReplyOption=REPLY_MESSAGE_OR_FAIL` };
      await googleChatChannel.deliver('opened', FIRING.grafana, withOption, { timeoutMs: 2_000, deliveryId: 'test-delivery-id' });
      expect(recorder().requests[before]!.path).toBe(`${SPACE_PATH}?key=${KEY}&${THREADED}`);
    });

    it('posts a plain new message when threading is off', async () => {
      const { request, body } = await capture('opened', FIRING.grafana, { threadPerIncident: false });
      expect(request.path).toBe(`${SPACE_PATH}?key=${KEY}&token=${TOKEN}`);
      expect(body.thread).toBeUndefined();
    });
  });

  describe('body for each source kind', () => {
    const expected: Record<SourceKind, { headline: string; title: string; where: string; colour: string; buttons: string[] }> = {
      cloudwatch: { headline: '🟠 ERROR: HighCPU on web-1', title: 'HighCPU on web-1', where: 'AWS 123456789012 · us-east-1 · CloudWatch', colour: '#A63A00', buttons: ['Open alert'] },
      'azure-monitor': {
        headline: '🔴 CRITICAL: High DTU on orders-db',
        title: 'High DTU on orders-db',
        where: 'Azure 00000000-1111-2222-3333-444444444444 · westeurope · Azure Monitor',
        colour: '#B00020',
        buttons: ['Open alert'],
      },
      'gcp-monitoring': { headline: '🟡 WARNING: Uptime check failed on checkout', title: 'Uptime check failed on checkout', where: 'GCP shop-prod · Cloud Monitoring', colour: '#7A5A00', buttons: ['Open alert'] },
      alertmanager: { headline: '🔴 CRITICAL: KubePodCrashLooping on payments-7d9f', title: 'KubePodCrashLooping on payments-7d9f', where: 'Alertmanager', colour: '#B00020', buttons: ['Runbook', 'Query'] },
      grafana: { headline: '🔵 INFO: Disk usage', title: 'Disk usage', where: 'Grafana', colour: '#0B5CAD', buttons: ['Silence', 'Dashboard'] },
      signalfx: {
        headline: '🟠 ERROR: Checkout latency: p99 above 2s on checkout-7',
        title: 'Checkout latency: p99 above 2s on checkout-7',
        where: 'EXAMPLEORG · Splunk Observability',
        colour: '#A63A00',
        buttons: ['Open alert'],
      },
    };

    for (const kind of CHAT_SOURCE_KINDS) {
      it(`${kind}: firing and resolved`, async () => {
        const incident = FIRING[kind];
        const firing = await capture('opened', incident);
        expect(firing.request.headers['content-type']).toBe('application/json; charset=utf-8');
        // The headline once, as the preview; no `text` line repeating it.
        expect(firing.body.fallbackText).toBe(expected[kind].headline);
        expect(firing.body.text).toBeUndefined();
        // Title = what is broken; status in the subtitle.
        const [mark, label] = expected[kind].headline.split(/:? /);
        expect(card(firing.body).header).toEqual({ title: expected[kind].title, subtitle: `${mark} ${label} · Firing since Wed 25 Nov 10:00 UTC` });
        expect(statusText(firing.body)).toBe(`<font color="${expected[kind].colour}"><b>Firing</b></font> since Wed 25 Nov 10:00 UTC`);
        expect(buttons(firing.body).map((button) => button.text)).toEqual(expected[kind].buttons);
        expect(buttons(firing.body)[0]?.type).toBe('FILLED');
        expect(new Set(buttonUrls(firing.body))).toEqual(new Set(incident.links.map((link) => link.url)));
        expect(card(firing.body).sections[1]).toMatchObject({ header: 'Details', collapsible: true, uncollapsibleWidgetsCount: 0 });

        const resolved = await capture('resolved', resolvedOf(incident));
        expect(resolved.body.fallbackText).toBe(`✅ RESOLVED: ${incident.title}`);
        expect(card(resolved.body).header.subtitle).toBe('✅ RESOLVED · Resolved after 1h 5m (ended Wed 25 Nov 11:05 UTC)');
        expect(statusText(resolved.body)).toBe('<font color="#1A7F37"><b>Resolved</b></font> after 1h 5m (ended Wed 25 Nov 11:05 UTC)');
        expect(buttons(resolved.body).every((button) => button.type === 'OUTLINED')).toBe(true);
        expect(resolved.body.thread).toEqual(firing.body.thread);
      });
    }

    it('lays out the cloudwatch alarm widget by widget, details collapsed', async () => {
      const { body } = await capture('opened', FIRING.cloudwatch);
      expect(card(body).sections).toEqual([
        {
          widgets: [
            {
              decoratedText: {
                text: '<font color="#A63A00"><b>Firing</b></font> since Wed 25 Nov 10:00 UTC',
                bottomLabel: 'AWS 123456789012 · us-east-1 · CloudWatch',
                wrapText: true,
              },
            },
            { textParagraph: { text: '<b>CPUUtilization 93.5% &gt; 80%</b>' } },
            {
              buttonList: {
                buttons: [
                  {
                    text: 'Open alert',
                    onClick: { openLink: { url: 'https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/HighCPU' } },
                    type: 'FILLED',
                  },
                ],
              },
            },
            { textParagraph: { text: 'Threshold Crossed: 1 datapoint [93.5] was greater than the threshold (80.0).', maxLines: 4 } },
          ],
        },
        {
          header: 'Details',
          collapsible: true,
          uncollapsibleWidgetsCount: 0,
          widgets: [
            { textParagraph: { text: 'InstanceId: i-0abc123' } },
            { textParagraph: { text: '<font color="#5F6368">Tocsin · cloudwatch · fingerprint cloudwatch:5f0c2d9a1b7e4c3f8a6d2e1b0c9f8e7d</font>' } },
          ],
        },
      ]);
    });
  });

  describe('escaping', () => {
    it('escapes card HTML and defuses mentions and links in the text line', async () => {
      const incident = incidentSchema.parse({
        ...FIRING.cloudwatch,
        title: 'Disk <users/all> & <https://evil.example|click>',
        summary: '<a href="https://evil.example">x</a> & more\nsecond line',
        labels: { team: '<b>web</b>' },
      });
      const { body } = await capture('opened', incident);
      expect(body.fallbackText).toBe('🟠 ERROR: Disk <\u200Busers/all> & <\u200Bhttps://evil.example|click>');
      expect(body.text).toBeUndefined();
      // The card header is plain text (no mentions, no HTML), so it keeps the title as written.
      expect(card(body).header.title).toBe('Disk <users/all> & <https://evil.example|click>');
      expect(summaryText(body)).toBe('&lt;a href="https://evil.example"&gt;x&lt;/a&gt; &amp; more<br>second line');
      expect(paragraphs(body)).toContainEqual(expect.stringContaining('<br>team: &lt;b&gt;web&lt;/b&gt;'));
    });
  });

  describe('size', () => {
    it('keeps a 5,000-char title, 100 KB summary, 200 labels and 30 long links under 32,000 bytes', async () => {
      // Every `<` of the summary is escaped to `&lt;`, and the cut must keep each escape whole.
      const huge = hugeChatIncident({ summary: 'x<'.repeat(50_000) });
      const { body, request, result } = await capture('opened', huge, { mention: 'users/all' });
      expect(result).toEqual({ ok: true });
      expect(Buffer.byteLength(request.body, 'utf8')).toBeLessThanOrEqual(GOOGLE_CHAT_MAX_BODY_BYTES);
      expect(body.text?.startsWith('<users/all> 🔴 CRITICAL: Very long title Very long title')).toBe(true);
      expect(card(body).header.title.startsWith('Very long title')).toBe(true);
      expect(card(body).header.title.length).toBeLessThanOrEqual(200);
      expect(summaryText(body)).toMatch(/^(?:x&lt;)+x?…$/);
      expect(buttons(body).length).toBeLessThanOrEqual(3);
      expect(buttonUrls(body).length).toBeLessThanOrEqual(5);
    });

    itHoldsTheByteLimitForMultiByteText(chat, {
      title: 'holds the limit for multi-byte text',
      maxBytes: GOOGLE_CHAT_MAX_BODY_BYTES,
      // The headline (mark, severity, title) is the preview text; the card title is the title alone.
      titleOf: (body) => body.fallbackText,
    });

    itKeepsEmojiAndRightToLeftText(chat, {
      // The headline (mark, severity, title) is the preview text; the card title is the title alone.
      titleOf: (body) => body.fallbackText,
      summaryOf: (body) => summaryText(body)!,
    });
  });

  describe('mention', () => {
    it('mentions on critical firing notices only', async () => {
      const firing = await capture('opened', FIRING['azure-monitor'], { mention: 'users/all' });
      expect(firing.body.text).toBe('<users/all> 🔴 CRITICAL: High DTU on orders-db');
      const resolved = await capture('resolved', resolvedOf(FIRING['azure-monitor']), { mention: 'users/all' });
      expect(resolved.body.text).toBeUndefined();
      expect(resolved.body.fallbackText).toBe('✅ RESOLVED: High DTU on orders-db');
      const info = await capture('opened', FIRING.grafana, { mention: 'users/123456789012345678901' });
      expect(info.request.body).not.toContain('users/123456789012345678901');
    });
  });

  itReportsEchoedFailureWithoutSecrets(chat, {
    title: 'reports failures without the key, token or space path even when the server echoes them',
    status: 400,
    body: (request) => `{"error":{"code":400,"message":"Invalid request ${request.path} key=${decodeURIComponent(KEY)}"}}`,
    reason: /^HTTP 400: /,
    secrets: [KEY, 'TOKENsecretvalue', 'AAAAsecretSPACE'],
  });
});
