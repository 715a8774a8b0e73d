import {
  AuthorizationErrorException,
  InternalErrorException,
  InvalidParameterException,
  OptedOutException,
  PublishCommand,
  SNSClient,
  ThrottledException,
} from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { renderSms, smsChannel, type SmsConfig } from '../../shared/channels/sms.ts';
import { gsm7Septets, smsSize, smsUnits, transliterateToGsm7 } from '../../shared/channels/gsm7.ts';
import { firing, resolved, SOURCE_KINDS_UNDER_TEST } from '../fixtures/channels/incidents.ts';
import type { Incident } from '../../shared/incident.ts';

const NUMBERS = ['+15555550100', '+15555550101', '+447700900123'];
const TIMEOUT = { timeoutMs: 2_000, deliveryId: 'test-delivery-id' };

describe('GSM-7 sizing', () => {
  it('counts basic characters once and extension characters twice', () => {
    expect(gsm7Septets('a')).toBe(1);
    expect(gsm7Septets('é')).toBe(1);
    expect(gsm7Septets('@')).toBe(1);
    for (const char of '{}[]€~^|\\') expect(gsm7Septets(char)).toBe(2);
    expect(gsm7Septets('`')).toBeUndefined();
    expect(gsm7Septets('ą')).toBeUndefined();
    expect(gsm7Septets('🔥')).toBeUndefined();
    expect(smsSize('a{b}€')).toEqual({ encoding: 'GSM-7', units: 8, segments: 1 });
  });

  it('switches the whole message to UCS-2 for one non-GSM character, counting UTF-16 units', () => {
    expect(smsSize('CPU high 🔥')).toEqual({ encoding: 'UCS-2', units: 11, segments: 1 });
    expect(smsSize('Zażółć')).toEqual({ encoding: 'UCS-2', units: 6, segments: 1 });
  });

  it('splits into 153-septet / 67-unit segments past one segment', () => {
    expect(smsSize('a'.repeat(160)).segments).toBe(1);
    expect(smsSize('a'.repeat(161)).segments).toBe(2);
    expect(smsSize('a'.repeat(306)).segments).toBe(2);
    expect(smsSize('a'.repeat(307)).segments).toBe(3);
    expect(smsSize('ą'.repeat(70)).segments).toBe(1);
    expect(smsSize('ą'.repeat(71)).segments).toBe(2);
  });

  it('transliterates typographic punctuation to GSM-7 look-alikes', () => {
    expect(transliterateToGsm7('Disk “almost” full — 95%… it’s `bad`')).toBe('Disk "almost" full - 95%... it\'s \'bad\'');
    expect(transliterateToGsm7('Zażółć 🔥')).toBe('Zażółć 🔥');
  });
});

describe('SMS rendering', () => {
  it('renders severity, status, title and the best link when it fits', () => {
    expect(renderSms('opened', firing('alertmanager'))).toEqual({
      text: '[CRIT] FIRING: HighErrorRate on checkout https://r.example/he',
      encoding: 'GSM-7',
      units: 63, // 61 characters; [ and ] cost two septets each
    });
  });

  it('says resolved in the past tense with how long it lasted, and the state of a flapping alert', () => {
    expect(renderSms('resolved', resolved('alertmanager')).text).toBe('[OK] RESOLVED after 30m: HighErrorRate on checkout https://r.example/he');
    expect(renderSms('renotified', firing('cloudwatch', { links: [] })).text).toBe('[ERR] STILL FIRING: CPU high on web-1');
    expect(renderSms('flapping', firing('gcp-monitoring', { links: [] })).text).toBe('[WARN] FLAPPING, NOW FIRING: Uptime check failed on api');
    expect(renderSms('flapping', resolved('gcp-monitoring', { links: [] })).text).toBe('[WARN] FLAPPING, NOW RESOLVED: Uptime check failed on api');
    expect(renderSms('opened', firing('grafana', { links: [] })).text).toBe('[INFO] FIRING: Disk usage');
  });

  it('sends the runbook, never the internal query or the silence link, when there is one', () => {
    const links = [
      { title: 'Source', url: 'http://prometheus:9090/graph?g0.expr=up' },
      { title: 'Silence', url: 'https://am.example/#/silences/new' },
      { title: 'Runbook', url: 'https://r.example/he' },
    ];
    expect(renderSms('opened', firing('alertmanager', { links })).text).toBe('[CRIT] FIRING: HighErrorRate on checkout https://r.example/he');
    expect(renderSms('opened', firing('alertmanager', { links: links.slice(0, 2) })).text).toBe('[CRIT] FIRING: HighErrorRate on checkout');
  });

  it('cuts a long title to keep the link, as long as 30 characters of the title stay', () => {
    const incident = firing('cloudwatch');
    const withLink = `[ERR] FIRING: CPU high on web-1 ${incident.links[0]!.url}`;
    expect(smsUnits(withLink)).toBeLessThanOrEqual(160);
    expect(renderSms('opened', incident).text).toBe(withLink);

    const longerTitle = 'CPU credit balance exhausted on web-1 in the production auto scaling group';
    const cut = renderSms('opened', firing('cloudwatch', { title: longerTitle }));
    expect(cut.text).toMatch(/^\[ERR\] FIRING: CPU credit balance exhausted on .*\.\.\. https:\/\/eu-west-1\.console/);
    expect(cut.units).toBeLessThanOrEqual(160);
    // A URL that would leave less than 30 characters of title is left out.
    const longUrl = `https://runbooks.example.com/${'p'.repeat(120)}`;
    const noRoom = renderSms('opened', firing('cloudwatch', { title: longerTitle, links: [{ title: 'Runbook', url: longUrl }] }));
    expect(noRoom.text).toBe(`[ERR] FIRING: ${longerTitle}`);
  });

  it('cuts a long title to fill exactly one GSM-7 segment', () => {
    // "[CRIT] FIRING: " is 15 characters but 17 septets ([ and ] are extension characters),
    // "..." 3: 140 septets remain for the title.
    const rendered = renderSms('opened', firing('alertmanager', { title: 'x'.repeat(1_000), links: [] }));
    expect(rendered).toEqual({ text: `[CRIT] FIRING: ${'x'.repeat(140)}...`, encoding: 'GSM-7', units: 160 });
    expect(smsSize(rendered.text).segments).toBe(1);
  });

  it('counts extension characters twice when cutting', () => {
    const braces = renderSms('opened', firing('alertmanager', { title: '{'.repeat(200), links: [] }));
    expect(braces).toEqual({ text: `[CRIT] FIRING: ${'{'.repeat(70)}...`, encoding: 'GSM-7', units: 160 });
    const mixed = renderSms('opened', firing('alertmanager', { title: `cost ${'€['.repeat(100)}`, links: [] }));
    expect(mixed.encoding).toBe('GSM-7');
    expect(mixed.units).toBeLessThanOrEqual(160);
    expect(mixed.units).toBeGreaterThanOrEqual(159);
    expect(mixed.text).toMatch(/^\[CRIT\] FIRING: cost (€\[)+€?\.\.\.$/);
  });

  it('drops emoji and spells out ° so the text stays GSM-7 and keeps its link', () => {
    expect(renderSms('opened', firing('grafana', { title: '🔥 Disk full' }))).toEqual({
      text: '[INFO] FIRING: Disk full https://grafana.example/d/abc',
      encoding: 'GSM-7',
      units: 56, // 54 characters; [ and ] cost two septets each
    });
    expect(renderSms('opened', firing('grafana', { title: 'Server room at 31°C 🌡️' })).text).toBe(
      '[INFO] FIRING: Server room at 31 degC https://grafana.example/d/abc',
    );
  });

  it('uses the 70-unit UCS-2 budget when letters outside GSM-7 must be sent, never splitting one', () => {
    const rendered = renderSms('opened', firing('alertmanager', { title: '警報'.repeat(100), links: [] }));
    expect(rendered).toEqual({ text: `[CRIT] FIRING: ${'警報'.repeat(27)}…`, encoding: 'UCS-2', units: 70 });
    const astral = renderSms('opened', firing('grafana', { title: `x${'𠀋'.repeat(100)}`, links: [] }));
    // 70 - 15 (prefix) - 1 (marker) = 54 units: "x" plus 26 astral letters (53 units); a 27th would split.
    expect(astral).toEqual({ text: `[INFO] FIRING: x${'𠀋'.repeat(26)}…`, encoding: 'UCS-2', units: 69 });
    expect(renderSms('opened', firing('grafana', { title: 'Zażółć gęślą jaźń na serwerze produkcyjnym numer 7', links: [] })).text).toBe(
      '[INFO] FIRING: Zażółć gęślą jaźń na serwerze produkcyjnym numer 7',
    );
  });

  it('stays GSM-7 when the non-GSM characters fall after the cut', () => {
    const rendered = renderSms('opened', firing('alertmanager', { title: `${'a'.repeat(200)} 警報`, links: [] }));
    expect(rendered).toEqual({ text: `[CRIT] FIRING: ${'a'.repeat(140)}...`, encoding: 'GSM-7', units: 160 });
  });

  it('keeps 160 septets for titles with typographic punctuation', () => {
    const rendered = renderSms('opened', firing('alertmanager', { title: `Disk “almost” full — ${'z'.repeat(200)}`, links: [] }));
    expect(rendered.encoding).toBe('GSM-7');
    expect(rendered.units).toBe(160);
    expect(rendered.text.startsWith('[CRIT] FIRING: Disk "almost" full - zzz')).toBe(true);
  });

  it('puts a title with CR/LF and control characters on one line', () => {
    expect(renderSms('opened', firing('alertmanager', { title: 'a\r\nb\u001b[31m', links: [] })).text).toBe('[CRIT] FIRING: a b [31m');
  });

  it.each(SOURCE_KINDS_UNDER_TEST)('fits %s incidents, firing and resolved, with long or emoji titles, in one segment', (kind) => {
    const titles = [undefined, 'T'.repeat(500), `🚨 ${'long title '.repeat(30)}`, 'A <script>alert(1)</script> {x} [y] €'];
    for (const title of titles) {
      const overrides: Partial<Incident> = title !== undefined ? { title } : {};
      for (const [event, incident] of [
        ['opened', firing(kind, overrides)],
        ['resolved', resolved(kind, overrides)],
      ] as const) {
        const rendered = renderSms(event, incident);
        expect(smsSize(rendered.text)).toEqual({ encoding: rendered.encoding, units: rendered.units, segments: 1 });
        expect(rendered.text).toMatch(event === 'opened' ? /^\[\w+\] FIRING: / : /^\[OK\] RESOLVED (after \w+ )?/);
      }
    }
  });
});

describe('SMS sending through SNS', () => {
  const sns = mockClient(SNSClient);
  beforeEach(() => {
    sns.reset();
  });
  afterAll(() => {
    sns.restore();
  });
  const target = (overrides: Partial<SmsConfig> = {}): SmsConfig => ({ type: 'sms', phoneNumbers: NUMBERS.slice(0, 2), region: 'eu-west-1', ...overrides });
  const transactional = { 'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' } };

  it('publishes one transactional SMS per number with the exact input', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const incident = firing('alertmanager');
    await expect(smsChannel.deliver('opened', incident, target(), TIMEOUT)).resolves.toEqual({ ok: true });
    const calls = sns.commandCalls(PublishCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.args[0].input).toEqual({
      PhoneNumber: '+15555550100',
      Message: '[CRIT] FIRING: HighErrorRate on checkout https://r.example/he',
      MessageAttributes: transactional,
    });
    expect(calls[1]!.args[0].input).toEqual({
      PhoneNumber: '+15555550101',
      Message: '[CRIT] FIRING: HighErrorRate on checkout https://r.example/he',
      MessageAttributes: transactional,
    });
  });

  it('sets the sender ID when configured', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    await smsChannel.deliver('resolved', resolved('grafana'), target({ phoneNumbers: ['+447700900123'], senderId: 'Tocsin' }), TIMEOUT);
    expect(sns.commandCalls(PublishCommand).map((call) => call.args[0].input)).toEqual([
      {
        PhoneNumber: '+447700900123',
        Message: '[OK] RESOLVED after 30m: Disk usage https://grafana.example/d/abc',
        MessageAttributes: {
          ...transactional,
          'AWS.SNS.SMS.SenderID': { DataType: 'String', StringValue: 'Tocsin' },
        },
      },
    ]);
  });

  it('marks throttling and internal errors retryable', async () => {
    sns.on(PublishCommand).rejects(new ThrottledException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }));
    await expect(smsChannel.deliver('opened', firing(), target({ phoneNumbers: [NUMBERS[0]!] }), TIMEOUT)).resolves.toEqual({
      ok: false,
      retryable: true,
      reason: 'phone number #1 of 1: SNS ThrottledException (HTTP 400)',
    });
    sns.reset();
    sns.on(PublishCommand).rejects(new InternalErrorException({ message: 'oops', $metadata: { httpStatusCode: 500 } }));
    await expect(smsChannel.deliver('opened', firing(), target({ phoneNumbers: [NUMBERS[0]!] }), TIMEOUT)).resolves.toMatchObject({
      ok: false,
      retryable: true,
    });
  });

  it('marks invalid numbers, opted-out numbers and authorization errors permanent without leaking the number', async () => {
    for (const error of [
      new InvalidParameterException({ message: `Invalid parameter: PhoneNumber Reason: ${NUMBERS[0]!} is not valid`, $metadata: { httpStatusCode: 400 } }),
      new OptedOutException({ message: `${NUMBERS[0]!} opted out`, $metadata: { httpStatusCode: 400 } }),
      new AuthorizationErrorException({ message: 'not authorized', $metadata: { httpStatusCode: 403 } }),
    ]) {
      sns.reset();
      sns.on(PublishCommand).rejects(error);
      const result = await smsChannel.deliver('opened', firing(), target({ phoneNumbers: [NUMBERS[0]!] }), TIMEOUT);
      expect(result).toMatchObject({ ok: false, retryable: false });
      const reason = result.ok ? '' : result.reason;
      expect(reason).toContain(error.name);
      expect(reason).not.toContain(NUMBERS[0]!);
      expect(reason).not.toContain('5555');
    }
  });

  it('marks network errors and timeouts retryable', async () => {
    sns.on(PublishCommand).rejects(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' }));
    await expect(smsChannel.deliver('opened', firing(), target({ phoneNumbers: [NUMBERS[0]!] }), TIMEOUT)).resolves.toEqual({
      ok: false,
      retryable: true,
      reason: 'phone number #1 of 1: SNS: network error ECONNREFUSED',
    });
    sns.reset();
    sns.on(PublishCommand).rejects(Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }));
    await expect(smsChannel.deliver('opened', firing(), target({ phoneNumbers: [NUMBERS[0]!] }), TIMEOUT)).resolves.toEqual({
      ok: false,
      retryable: true,
      reason: 'phone number #1 of 1: SNS: timed out after 2000 ms',
    });
  });

  it('needs every number to succeed and names the failing one by index only', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'ok' });
    sns
      .on(PublishCommand, { PhoneNumber: NUMBERS[1] })
      .rejects(new InvalidParameterException({ message: `bad ${NUMBERS[1]!}`, $metadata: { httpStatusCode: 400 } }));
    const result = await smsChannel.deliver('opened', firing(), target({ phoneNumbers: NUMBERS }), TIMEOUT);
    expect(result).toEqual({ ok: false, retryable: false, reason: 'phone number #2 of 3: SNS InvalidParameterException (HTTP 400)' });
    expect(sns.commandCalls(PublishCommand).map((call) => call.args[0].input.PhoneNumber)).toEqual(NUMBERS);
  });

  it('is retryable when any number failed for a retryable reason', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'ok' });
    sns.on(PublishCommand, { PhoneNumber: NUMBERS[0] }).rejects(new InvalidParameterException({ message: 'bad', $metadata: { httpStatusCode: 400 } }));
    sns.on(PublishCommand, { PhoneNumber: NUMBERS[2] }).rejects(new ThrottledException({ message: 'slow down', $metadata: { httpStatusCode: 400 } }));
    await expect(smsChannel.deliver('opened', firing(), target({ phoneNumbers: NUMBERS }), TIMEOUT)).resolves.toEqual({
      ok: false,
      retryable: true,
      reason:
        'phone number #1 of 3: SNS InvalidParameterException (HTTP 400); phone number #3 of 3: SNS ThrottledException (HTTP 400)',
    });
  });

  describe('config', () => {
    const parse = (config: Record<string, unknown>) => smsChannel.configSchema.safeParse({ type: 'sms', phoneNumbers: ['+15555550100'], ...config });
    it('requires at least one E.164 number', () => {
      expect(parse({}).success).toBe(true);
      expect(parse({ phoneNumbers: [] }).success).toBe(false);
      expect(parse({ phoneNumbers: ['5555550100'] }).success).toBe(false);
      expect(parse({ phoneNumbers: ['+1 555 555 0100'] }).success).toBe(false);
    });
    it('validates the sender ID and rejects unknown keys', () => {
      expect(parse({ senderId: 'Tocsin' }).success).toBe(true);
      expect(parse({ senderId: 'TooLongSender1' }).success).toBe(false);
      expect(parse({ senderId: '12345' }).success).toBe(false);
      expect(parse({ senderId: 'has space' }).success).toBe(false);
      expect(parse({ topicArn: 'arn:aws:sns:x' }).success).toBe(false);
    });
  });
});
