// Google Chat channel: the shared HTTP kit, then the exact cardsV2 body and URL Google Chat
// receives (via a real recording server on 127.0.0.1): one thread per incident, firing vs
// resolved, escaping, the 32,000-byte limit under extreme input and the optional mention.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryEvent, SendResult } from '../../shared/channels/channel.ts';
import {
  GOOGLE_CHAT_MAX_BODY_BYTES,
  googleChatChannel,
  type GoogleChatMessage,
  type GoogleChatWidget,
} from '../../shared/channels/google-chat.ts';
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
  let recorder: HttpRecorder;
  beforeAll(async () => {
    recorder = await startRecorder(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"name":"spaces/x/messages/y"}' }));
  });
  afterAll(async () => {
    await recorder.close();
  });

  const webhookUrl = (): string => `${recorder.url}${SPACE_PATH}?key=${KEY}&token=${TOKEN}`;
  const target = (extra: Record<string, unknown> = {}): { type: string; webhookUrl: string } => ({
    type: 'google-chat',
    webhookUrl: webhookUrl(),
    ...extra,
  });

  async function capture(
    event: DeliveryEvent,
    incident: Incident,
    extra: Record<string, unknown> = {},
  ): Promise<{ result: SendResult; request: RecordedRequest; body: GoogleChatMessage }> {
    const before = recorder.requests.length;
    const result = await googleChatChannel.deliver(event, incident, target(extra), { timeoutMs: 2_000 });
    const request = recorder.requests[before]!;
    return { result, request, body: JSON.parse(request.body) as GoogleChatMessage };
  }

  const card = (body: GoogleChatMessage): GoogleChatMessage['cardsV2'][0]['card'] => body.cardsV2[0].card;
  const widgets = (body: GoogleChatMessage): GoogleChatWidget[] => card(body).sections[0].widgets;
  const decorated = (body: GoogleChatMessage): { topLabel: string; text: string }[] =>
    widgets(body).flatMap((w) => ('decoratedText' in w ? [{ topLabel: w.decoratedText.topLabel, text: w.decoratedText.text }] : []));
  const paragraphs = (body: GoogleChatMessage): string[] =>
    widgets(body).flatMap((w) => ('textParagraph' in w ? [w.textParagraph.text] : []));
  const buttonUrls = (body: GoogleChatMessage): string[] =>
    widgets(body).flatMap((w) => ('buttonList' in w ? w.buttonList.buttons.map((b) => b.onClick.openLink.url) : []));

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
      const before = recorder.requests.length;
      const withOption = { type: 'google-chat', webhookUrl: `${recorder.url}${SPACE_PATH}?key=${KEY}&messageReplyOption=REPLY_MESSAGE_OR_FAIL` };
      await googleChatChannel.deliver('opened', FIRING.grafana, withOption, { timeoutMs: 2_000 });
      expect(recorder.requests[before]!.path).toBe(`${SPACE_PATH}?key=${KEY}&${THREADED}`);
    });

    it('posts a plain new message when threading is off', async () => {
      const { request, body } = await capture('opened', FIRING.grafana, { threadPerIncident: false });
      expect(request.path).toBe(`${SPACE_PATH}?key=${KEY}&token=${TOKEN}`);
      expect(body.thread).toBeUndefined();
    });
  });

  describe('body for each source kind', () => {
    const expected: Record<SourceKind, { title: string; subtitle: string; colour: string }> = {
      cloudwatch: { title: '🟠 ERROR: HighCPU on web-1', subtitle: 'cloudwatch · 123456789012 · us-east-1', colour: '#E8590C' },
      'azure-monitor': {
        title: '🔴 CRITICAL: High DTU on orders-db',
        subtitle: 'azure-monitor · 00000000-1111-2222-3333-444444444444 · westeurope',
        colour: '#D00000',
      },
      'gcp-monitoring': { title: '🟡 WARNING: Uptime check failed on checkout', subtitle: 'gcp-monitoring · shop-prod', colour: '#F2C744' },
      alertmanager: { title: '🔴 CRITICAL: KubePodCrashLooping on payments-7d9f', subtitle: 'alertmanager', colour: '#D00000' },
      grafana: { title: '🔵 INFO: Disk usage', subtitle: 'grafana', colour: '#2F80ED' },
    };

    for (const kind of Object.keys(FIRING) as SourceKind[]) {
      it(`${kind}: firing and resolved`, async () => {
        const incident = FIRING[kind];
        const firing = await capture('opened', incident);
        expect(firing.request.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(firing.body.text).toBe(expected[kind].title);
        expect(card(firing.body).header).toEqual({ title: expected[kind].title, subtitle: expected[kind].subtitle });
        expect(decorated(firing.body)[0]).toEqual({
          topLabel: 'Status',
          text: `<font color="${expected[kind].colour}"><b>Firing</b></font>`,
        });
        expect(buttonUrls(firing.body)).toEqual(incident.links.map((link) => link.url));

        const resolved = await capture('resolved', resolvedOf(incident));
        expect(resolved.body.text).toBe(`✅ RESOLVED: ${incident.title}`);
        expect(decorated(resolved.body)).toEqual(
          expect.arrayContaining([
            { topLabel: 'Status', text: '<font color="#2EB67D"><b>Resolved</b></font>' },
            { topLabel: 'Ended', text: '2026-11-25T11:05:30Z' },
            { topLabel: 'Duration', text: '1h 5m' },
          ]),
        );
        expect(resolved.body.thread).toEqual(firing.body.thread);
      });
    }

    it('lays out the cloudwatch alarm widget by widget', async () => {
      const { body } = await capture('opened', FIRING.cloudwatch);
      expect(widgets(body).map((w) => Object.keys(w)[0])).toEqual([
        ...Array<string>(8).fill('decoratedText'),
        'textParagraph',
        'decoratedText',
        'textParagraph',
        'buttonList',
        'textParagraph',
      ]);
      expect(decorated(body).slice(1)).toEqual([
        { topLabel: 'Severity', text: 'error' },
        { topLabel: 'Source', text: 'cloudwatch (aws)' },
        { topLabel: 'Rule', text: 'HighCPU' },
        { topLabel: 'Account', text: '123456789012' },
        { topLabel: 'Region', text: 'us-east-1' },
        { topLabel: 'Resource', text: 'web-1 (AWS::EC2::Instance)' },
        { topLabel: 'Started', text: '2026-11-25T10:00:00.000Z' },
        { topLabel: 'Metric', text: 'AWS/EC2 CPUUtilization = 93.5 Percent (threshold GreaterThanThreshold 80)' },
      ]);
      expect(paragraphs(body)).toEqual([
        'Threshold Crossed: 1 datapoint [93.5] was greater than the threshold (80.0).',
        '<b>Labels</b><br>InstanceId: i-0abc123',
        '<font color="#80868B">Tocsin · cloudwatch · fingerprint cloudwatch:5f0c2d9a1b7e4c3f8a6d2e1b0c9f8e7d</font>',
      ]);
      expect(widgets(body).find((w) => 'buttonList' in w)).toEqual({
        buttonList: {
          buttons: [
            {
              text: 'CloudWatch alarm',
              onClick: { openLink: { url: 'https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/HighCPU' } },
            },
          ],
        },
      });
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
      expect(body.text).toBe('🟠 ERROR: Disk <\u200Busers/all> & <\u200Bhttps://evil.example|click>');
      // The card header is plain text (no mentions, no HTML), so it keeps the title as written.
      expect(card(body).header.title).toBe('🟠 ERROR: Disk <users/all> & <https://evil.example|click>');
      expect(paragraphs(body)[0]).toBe('&lt;a href="https://evil.example"&gt;x&lt;/a&gt; &amp; more<br>second line');
      expect(paragraphs(body)[1]).toBe('<b>Labels</b><br>team: &lt;b&gt;web&lt;/b&gt;');
    });
  });

  describe('size', () => {
    const huge = (overrides: Partial<Incident>): Incident =>
      incidentSchema.parse({
        ...FIRING.alertmanager,
        title: 'Very long title '.repeat(313),
        summary: 'x<'.repeat(50_000),
        labels: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`label_${i}`, `value-${i}-${'v'.repeat(200)}`])),
        links: Array.from({ length: 30 }, (_, i) => ({ title: `Link ${i}`, url: `https://example.com/${i}/${'p'.repeat(1900)}` })),
        ...overrides,
      });

    it('keeps a 5,000-char title, 100 KB summary, 200 labels and 30 long links under 32,000 bytes', async () => {
      const { body, request, result } = await capture('opened', huge({}), { mention: 'users/all' });
      expect(result).toEqual({ ok: true });
      expect(Buffer.byteLength(request.body, 'utf8')).toBeLessThanOrEqual(GOOGLE_CHAT_MAX_BODY_BYTES);
      expect(body.text.startsWith('<users/all> 🔴 CRITICAL: Very long title Very long title')).toBe(true);
      expect(card(body).header.title.startsWith('🔴 CRITICAL: Very long title')).toBe(true);
      expect(card(body).header.title.length).toBeLessThanOrEqual(200);
      expect(paragraphs(body)[0]).toMatch(/^(?:x&lt;)+x?…$/);
      expect(buttonUrls(body).length).toBeLessThanOrEqual(5);
    });

    it('holds the limit for multi-byte text', async () => {
      const { body, request } = await capture('opened', huge({ title: `x${'🔥警報'.repeat(2000)}`, summary: '漢字とعربي'.repeat(20_000) }));
      expect(Buffer.byteLength(request.body, 'utf8')).toBeLessThanOrEqual(GOOGLE_CHAT_MAX_BODY_BYTES);
      expect(card(body).header.title).toMatch(/^🔴 CRITICAL: x🔥警報(?:🔥|警|報)*…$/u);
      expect(request.body).not.toContain(REPLACEMENT_CHARACTER);
    });

    it('keeps emoji and right-to-left text intact', async () => {
      const incident = incidentSchema.parse({ ...FIRING.grafana, title: 'שגיאה בשרת 🔥 données', summary: 'הדיסק מלא — 🚨' });
      const { body } = await capture('opened', incident);
      expect(card(body).header.title).toBe('🔵 INFO: שגיאה בשרת 🔥 données');
      expect(paragraphs(body)[0]).toBe('הדיסק מלא — 🚨');
    });
  });

  describe('mention', () => {
    it('mentions on critical firing notices only', async () => {
      const firing = await capture('opened', FIRING['azure-monitor'], { mention: 'users/all' });
      expect(firing.body.text).toBe('<users/all> 🔴 CRITICAL: High DTU on orders-db');
      const resolved = await capture('resolved', resolvedOf(FIRING['azure-monitor']), { mention: 'users/all' });
      expect(resolved.body.text).toBe('✅ RESOLVED: High DTU on orders-db');
      const info = await capture('opened', FIRING.grafana, { mention: 'users/123456789012345678901' });
      expect(info.request.body).not.toContain('users/123456789012345678901');
    });
  });

  it('reports failures without the key, token or space path even when the server echoes them', async () => {
    recorder.respondWith((request) => ({
      status: 400,
      body: `{"error":{"code":400,"message":"Invalid request ${request.path} key=${decodeURIComponent(KEY)}"}}`,
    }));
    try {
      const { result } = await capture('opened', FIRING.cloudwatch);
      expect(result).toMatchObject({ ok: false, retryable: false });
      expect(result.ok ? '' : result.reason).toMatch(/^HTTP 400: /);
      for (const secret of [KEY, 'TOKENsecretvalue', 'AAAAsecretSPACE']) expect(result.ok ? '' : result.reason).not.toContain(secret);
    } finally {
      recorder.respondWith(() => ({ status: 200, body: '{}' }));
    }
  });
});
