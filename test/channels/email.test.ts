import {
  MailFromDomainNotVerifiedException,
  MessageRejected,
  SendEmailCommand,
  SESv2Client,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { classifySmtpError, emailChannel, escapeHtml, renderEmail, type EmailConfig } from '../../shared/channels/email.ts';
import type { DeliveryEvent } from '../../shared/channels/channel.ts';
import type { Incident } from '../../shared/incident.ts';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.ts';
import { firing, resolved, SOURCE_KINDS_UNDER_TEST } from '../fixtures/channels/incidents.ts';

const TIMEOUT = { timeoutMs: 5_000, deliveryId: 'test-delivery-id' };
const FROM = 'alerts@example.com';

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const list = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return list.flatMap((entry) => entry.value.map((mailbox) => mailbox.address ?? ''));
}

function header(mail: ParsedMail, name: string): string | undefined {
  const value = mail.headers.get(name);
  return typeof value === 'string' ? value : undefined;
}

/** The epoch-seconds Message-ID the opened mail of `incident`'s episode has. */
function openedId(incident: Incident, domain = 'example.com'): string {
  return `<tocsin.${threadHash(incident)}.${Date.parse(incident.startsAt) / 1000}.opened@${domain}>`;
}

function threadHash(incident: Incident): string {
  // Read back from a rendering rather than re-implementing the hash: it must be 24 hex.
  const local = renderEmail('opened', incident).messageIdLocal;
  const hash = local.split('.')[1]!;
  expect(hash).toMatch(/^[0-9a-f]{24}$/);
  return hash;
}

describe('email rendering', () => {
  it('builds the subject from the headline: mark, severity or RESOLVED with how long it lasted, title', () => {
    expect(renderEmail('opened', firing('cloudwatch')).subject).toBe('🟠 ERROR: CPU high on web-1');
    expect(renderEmail('resolved', resolved('azure-monitor')).subject).toBe('✅ RESOLVED: Sev0 DB down on sql-prod (after 30m)');
    expect(renderEmail('renotified', firing('gcp-monitoring')).subject).toBe('🔁 STILL FIRING · WARNING: Uptime check failed on api');
    expect(renderEmail('flapping', firing('grafana')).subject).toBe('⚠️ FLAPPING · INFO: Disk usage');
  });

  it('strips CR/LF from the subject so no header can be injected', () => {
    const rendered = renderEmail('opened', firing('alertmanager', { title: 'Boom\r\nBcc: victim@example.org\r\n\r\nbody' }));
    expect(rendered.subject).toBe('🔴 CRITICAL: Boom Bcc: victim@example.org body');
  });

  it('cuts very long titles in the subject to 200 characters', () => {
    const rendered = renderEmail('opened', firing('grafana', { title: 'y'.repeat(3_000) }));
    expect(rendered.subject).toBe(`🔵 INFO: ${'y'.repeat(199)}…`);
  });

  it('puts the headline, status, where and the links first in the text part', () => {
    const { text } = renderEmail('opened', firing('cloudwatch'));
    expect(text.split('\n')).toEqual([
      '🟠 ERROR: CPU high on web-1',
      'Firing since Wed 25 Nov 10:00 UTC',
      'AWS 123456789012 · eu-west-1 · CloudWatch',
      '',
      'Open alert: https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/CPU%20high',
      '',
      'CPUUtilization 92.5% > 80%',
      'env: prod',
      'Resource: web-1 · i-0abc123def4567890',
      '',
      'Threshold Crossed: 1 datapoint [92.5 (25/11/26 10:00:00)] was greater than the threshold (80.0).',
      '',
      'Labels',
      '  InstanceId: i-0abc123def4567890',
      '',
      '-- ',
      'Sent by Tocsin · rule CPU high · fingerprint cloudwatch:0f1e2d3c4b5a69788796a5b4c3d2e1f0',
      '',
    ]);
  });

  it('says resolved in the past tense with how long it lasted, and notes reminders and flapping', () => {
    const done = renderEmail('resolved', resolved('grafana'));
    expect(done.text).toContain('\nResolved after 30m (ended Wed 25 Nov 07:30 UTC)\n');
    expect(done.html).toContain('✅ RESOLVED · Resolved after 30m (ended Wed 25 Nov 07:30 UTC)');
    // Green rule on top once resolved.
    expect(done.html).toContain('border-top:6px solid #2EB67D');
    expect(renderEmail('renotified', firing('grafana')).text).toContain('\nReminder: this incident is still firing.\n');
    expect(renderEmail('flapping', firing('grafana')).html).toContain('<strong>This incident is flapping');
  });

  it('escapes everything in the HTML part and links only http(s) URLs', () => {
    const incident = firing('alertmanager', {
      title: '<script>alert("t")</script>',
      summary: 'a & b <img src=x onerror=alert(1)>',
      labels: { '<k>': '"v" \'q\'' },
      links: [
        { title: '<b>Runbook</b>', url: 'https://r.example/run?a=1&b="2"' },
        { title: 'Evil', url: 'javascript:alert(1)' },
      ],
    });
    const { html, text } = renderEmail('opened', incident);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&#60;script&#62;alert(&#34;t&#34;)&#60;/script&#62;');
    expect(html).toContain('a &#38; b &#60;img src=x onerror=alert(1)&#62;');
    expect(html).toMatch(/<th [^>]*>&#60;k&#62;<\/th>/);
    expect(html).toContain('&#34;v&#34; &#39;q&#39;');
    // The runbook is the first button, with the URL escaped in the attribute.
    expect(html).toMatch(/<a href="https:\/\/r\.example\/run\?a=1&#38;b=%222%22" style="[^"]*">Runbook<\/a>/);
    // A non-web URL is never a link, in either part.
    expect(html).not.toContain('javascript');
    expect(text).not.toContain('javascript');
  });

  it('escapes the five HTML-special characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
  });

  it('bounds long summaries, many labels and long values', () => {
    const labels = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`k${String(i).padStart(3, '0')}`, 'v'.repeat(5_000)]));
    const { text, html } = renderEmail('opened', firing('alertmanager', { summary: 's'.repeat(50_000), labels }));
    expect(text).toContain(`${'s'.repeat(9_999)}…`);
    expect(text).not.toContain('s'.repeat(10_000));
    expect(text).toContain(`  k099: ${'v'.repeat(999)}…\n  (+50 more)\n`);
    expect(text).not.toContain('k100');
    expect(html).toContain('(+50 more labels)');
    expect(text.length).toBeLessThan(200_000);
  });

  it('gives every event its own Message-ID and threads later ones under the opened one', () => {
    const incident = firing('cloudwatch');
    const opened = renderEmail('opened', incident);
    const done = renderEmail('resolved', resolved('cloudwatch'));
    const hash = opened.messageIdLocal.split('.')[1]!;
    expect(opened.messageIdLocal).toBe(`tocsin.${hash}.1795600800.opened`);
    expect(opened.threadRootLocal).toBeUndefined();
    expect(done.messageIdLocal).toBe(`tocsin.${hash}.1795600800.resolved`);
    expect(done.threadRootLocal).toBe(opened.messageIdLocal);
    expect(renderEmail('renotified', incident)).toMatchObject({ uniquePerSend: true, threadRootLocal: opened.messageIdLocal });
    expect(renderEmail('flapping', incident)).toMatchObject({ uniquePerSend: true, threadRootLocal: opened.messageIdLocal });
    // Another episode (firing again later) and another fingerprint start new threads.
    expect(renderEmail('opened', firing('cloudwatch', { startsAt: '2026-11-26T10:00:00Z' })).messageIdLocal).not.toBe(opened.messageIdLocal);
    expect(renderEmail('opened', firing('grafana')).messageIdLocal.split('.')[1]).not.toBe(hash);
  });

  it.each(SOURCE_KINDS_UNDER_TEST)('renders %s incidents, firing and resolved, with both parts', (kind) => {
    for (const [event, incident] of [
      ['opened', firing(kind)],
      ['resolved', resolved(kind)],
      ['opened', firing(kind, { title: `🚨 ${'Überlast '.repeat(100)}\r\n<script>x</script>` })],
    ] as const) {
      const rendered = renderEmail(event, incident);
      expect(rendered.subject).not.toMatch(/[\r\n]/);
      expect(rendered.subject).toMatch(event === 'opened' ? new RegExp(`^\\S+ ${incident.severity.toUpperCase()}: `) : /^✅ RESOLVED: /);
      expect(Array.from(rendered.subject).length).toBeLessThanOrEqual(240);
      expect(rendered.text).toContain(`fingerprint ${incident.fingerprint}`);
      expect(rendered.html).toContain(escapeHtml(incident.fingerprint));
      expect(rendered.html).not.toContain('<script>');
    }
  });
});

describe('email over SMTP (real smtp-server on 127.0.0.1, STARTTLS)', () => {
  let server: TestSmtpServer;
  beforeAll(async () => {
    server = await startSmtpServer({ tls: 'starttls' });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.rejectWith(undefined);
  });

  const target = (overrides: Partial<EmailConfig> = {}): EmailConfig => ({
    type: 'email',
    from: `Tocsin <${FROM}>`,
    to: ['team@example.com', 'lead@example.com'],
    cc: ['audit@example.net'],
    smtp: { host: server.host, port: server.port, tls: 'starttls', ca: server.ca },
    ...overrides,
  });
  const deliver = async (event: DeliveryEvent, incident: Incident, config: EmailConfig = target()) => {
    const before = server.mails.length;
    const result = await emailChannel.deliver(event, incident, config, TIMEOUT);
    const received = server.mails[before];
    return { result, received, mail: received ? await simpleParser(received.raw) : undefined };
  };

  it('delivers a mail with subject, addresses and both parts', async () => {
    const incident = firing('cloudwatch');
    const { result, received, mail } = await deliver('opened', incident);
    expect(result).toEqual({ ok: true });
    expect(received!.secure).toBe(true);
    expect(received!.from).toBe(FROM);
    expect(received!.to).toEqual(['team@example.com', 'lead@example.com', 'audit@example.net']);
    expect(mail!.subject).toBe('🟠 ERROR: CPU high on web-1');
    expect(addresses(mail!.from)).toEqual([FROM]);
    expect(mail!.from!.value[0]!.name).toBe('Tocsin');
    expect(addresses(mail!.to)).toEqual(['team@example.com', 'lead@example.com']);
    expect(addresses(mail!.cc)).toEqual(['audit@example.net']);
    expect(mail!.text).toContain('Resource: web-1 · i-0abc123def4567890');
    expect(mail!.text).toContain('env: prod');
    expect(mail!.html).toMatch(/<h1 [^>]*>CPU high on web-1<\/h1>/);
    expect(mail!.html).toMatch(/<a href="https:\/\/eu-west-1\.console\.aws\.amazon\.com\/cloudwatch\/home\?region=eu-west-1#alarmsV2:alarm\/CPU%20high" style="[^"]*">Open alert<\/a>/);
    expect(header(mail!, 'auto-submitted')).toBe('auto-generated');
    expect(header(mail!, 'x-tocsin-event')).toBe('opened');
    expect(header(mail!, 'x-tocsin-fingerprint')).toBe(incident.fingerprint);
  });

  it('threads the resolved mail under the opened one', async () => {
    const opened = await deliver('opened', firing('alertmanager'));
    const done = await deliver('resolved', resolved('alertmanager'));
    const openedMessageId = openedId(firing('alertmanager'));
    expect(opened.mail!.messageId).toBe(openedMessageId);
    expect(opened.mail!.inReplyTo).toBeUndefined();
    expect(opened.mail!.references).toBeUndefined();
    expect(done.mail!.subject).toBe('✅ RESOLVED: HighErrorRate on checkout (after 30m)');
    expect(done.mail!.messageId).toBe(openedMessageId.replace('.opened@', '.resolved@'));
    expect(done.mail!.inReplyTo).toBe(openedMessageId);
    expect(done.mail!.references).toBe(openedMessageId);
  });

  it('gives each reminder a unique Message-ID in the same thread', async () => {
    const first = await deliver('renotified', firing('grafana'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await deliver('renotified', firing('grafana'));
    const root = openedId(firing('grafana'));
    const [rootLocal] = root.slice(1).split('.opened@');
    for (const { mail } of [first, second]) {
      expect(mail!.messageId!.startsWith(`<${rootLocal!}.renotified.`)).toBe(true);
      expect(mail!.messageId).toMatch(/\.renotified\.\d{13}@example\.com>$/);
      expect(mail!.inReplyTo).toBe(root);
      expect(mail!.references).toBe(root);
    }
    expect(first.mail!.messageId).not.toBe(second.mail!.messageId);
  });

  it('keeps unicode titles and escapes hostile ones end to end', async () => {
    const { mail } = await deliver('opened', firing('grafana', { title: 'Überlast 🔥 <script>alert(1)</script>\r\nX-Evil: 1' }));
    expect(mail!.subject).toBe('🔵 INFO: Überlast 🔥 <script>alert(1)</script> X-Evil: 1');
    expect(mail!.headers.has('x-evil')).toBe(false);
    expect(mail!.html).not.toContain('<script>');
    expect(mail!.html).toContain('Überlast 🔥 &#60;script&#62;alert(1)&#60;/script&#62;');
  });

  it('marks a 550 rejection permanent without leaking addresses', async () => {
    server.rejectWith({ code: 550, message: '5.7.1 Message rejected for team@example.com' });
    const { result, received } = await deliver('opened', firing());
    expect(received).toBeUndefined();
    expect(result).toEqual({ ok: false, retryable: false, reason: 'SMTP 550 5.7.1 after DATA' });
  });

  it('marks a 451 deferral retryable', async () => {
    server.rejectWith({ code: 451, message: '4.3.0 Try again later' });
    const { result } = await deliver('opened', firing());
    expect(result).toEqual({ ok: false, retryable: true, reason: 'SMTP 451 4.3.0 after DATA' });
  });

  it('marks a refused connection retryable', async () => {
    const closed = await startSmtpServer();
    await closed.close();
    const result = await emailChannel.deliver('opened', firing(), target({ smtp: { host: closed.host, port: closed.port, tls: 'starttls' } }), TIMEOUT);
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect(result.ok ? '' : result.reason).toMatch(/^SMTP (ESOCKET|ECONNECTION)/);
    expect(result.ok ? '' : result.reason).not.toContain('example.com');
  });
});

describe('SMTP transport security (real smtp-server offering STARTTLS, implicit TLS, or neither)', () => {
  const servers: TestSmtpServer[] = [];
  const start = async (tls: 'plain' | 'starttls' | 'implicit'): Promise<TestSmtpServer> => {
    const server = await startSmtpServer({ tls });
    servers.push(server);
    return server;
  };
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });
  const PASSWORD = 'smtp-secret-5d1c0e7a';
  const send = (server: TestSmtpServer, smtp: Record<string, unknown>) =>
    emailChannel.deliver(
      'opened',
      firing(),
      { type: 'email', from: FROM, to: ['team@example.com'], smtp: { host: server.host, port: server.port, user: 'mailer', pass: PASSWORD, ...smtp } } as EmailConfig,
      TIMEOUT,
    );

  it('by default requires STARTTLS: a server that does not offer it gets no password and no mail, and the job is not retried', async () => {
    const server = await start('plain');
    const result = await send(server, {});
    expect(result).toEqual({
      ok: false,
      retryable: false,
      reason: expect.stringMatching(/^SMTP ETLS: the server refused STARTTLS( \d{3})?; TLS is required \(set smtp\.tls: none to send in clear text\)$/) as unknown,
    });
    expect(server.auths).toEqual([]);
    expect(server.mails).toEqual([]);
  });

  it('upgrades with STARTTLS when offered, and authenticates only inside TLS', async () => {
    const server = await start('starttls');
    expect(await send(server, { ca: server.ca })).toEqual({ ok: true });
    expect(server.auths).toEqual([{ username: 'mailer', password: PASSWORD, secure: true }]);
    expect(server.mails.map((mail) => mail.secure)).toEqual([true]);
  });

  it('speaks TLS from the first byte with tls: implicit', async () => {
    const server = await start('implicit');
    expect(await send(server, { tls: 'implicit', ca: server.ca })).toEqual({ ok: true });
    expect(server.auths.map((auth) => auth.secure)).toEqual([true]);
    expect(server.mails.map((mail) => mail.secure)).toEqual([true]);
  });

  it('refuses a certificate it cannot verify: nothing is sent, and the delivery is retried later', async () => {
    const server = await start('starttls');
    const result = await send(server, {});
    expect(result).toEqual({ ok: false, retryable: true, reason: 'SMTP ESOCKET (DEPTH_ZERO_SELF_SIGNED_CERT)' });
    expect(server.auths).toEqual([]);
    expect(server.mails).toEqual([]);
  });

  it('sends in clear text only with the explicit tls: none', async () => {
    const server = await start('plain');
    expect(await send(server, { tls: 'none' })).toEqual({ ok: true });
    expect(server.auths).toEqual([{ username: 'mailer', password: PASSWORD, secure: false }]);
    expect(server.mails.map((mail) => mail.secure)).toEqual([false]);
  });

  it('refuses the old secure / ignoreTLS keys with their replacement, instead of guessing', () => {
    const parse = (smtp: Record<string, unknown>) =>
      emailChannel.configSchema.safeParse({ type: 'email', from: FROM, to: ['t@example.com'], smtp: { host: 'smtp.example.com', port: 587, ...smtp } });
    const messages = (smtp: Record<string, unknown>) => parse(smtp).error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    expect(messages({ ignoreTLS: true })).toEqual(['smtp.ignoreTLS: replaced by tls: none (clear text, password included); leave both out for STARTTLS']);
    expect(messages({ secure: true })).toEqual(['smtp.secure: replaced by tls: implicit (TLS from the first byte); leave both out for STARTTLS']);
    expect(parse({}).data?.smtp?.tls).toBe('starttls');
    expect(parse({ tls: 'plaintext' }).success).toBe(false);
    expect(parse({ ca: 'not a certificate' }).success).toBe(false);
  });
});

describe('SMTP error classification', () => {
  const smtpError = (props: Record<string, unknown>) => Object.assign(new Error('x'), props);
  it('treats 4xx and connection trouble as retryable, 5xx (but 503) and bad credentials as permanent', () => {
    expect(classifySmtpError(smtpError({ code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 <bob@example.com>: unknown', command: 'RCPT TO' }), 1)).toEqual({
      ok: false,
      retryable: false,
      reason: 'SMTP 550 5.1.1 after RCPT TO',
    });
    expect(classifySmtpError(smtpError({ code: 'EENVELOPE', responseCode: 452, command: 'RCPT TO' }), 1)).toMatchObject({ retryable: true });
    expect(classifySmtpError(smtpError({ code: 'EPROTOCOL', responseCode: 503 }), 1)).toMatchObject({ retryable: true });
    expect(classifySmtpError(smtpError({ code: 'EAUTH', responseCode: 535, response: '535 5.7.8 bad creds for user' }), 1)).toEqual({
      ok: false,
      retryable: false,
      reason: 'SMTP 535 5.7.8',
    });
    expect(classifySmtpError(smtpError({ code: 'ENOAUTH' }), 1)).toEqual({ ok: false, retryable: false, reason: 'SMTP ENOAUTH' });
    expect(classifySmtpError(smtpError({ code: 'ETIMEDOUT' }), 1)).toEqual({ ok: false, retryable: true, reason: 'SMTP ETIMEDOUT' });
    expect(classifySmtpError(smtpError({ code: 'ESOCKET', originalCode: 'ECONNRESET' }), 1)).toEqual({
      ok: false,
      retryable: true,
      reason: 'SMTP ESOCKET (ECONNRESET)',
    });
    expect(classifySmtpError(smtpError({ code: 'EABORT' }), 250)).toEqual({ ok: false, retryable: true, reason: 'SMTP: timed out after 250 ms' });
  });
});

describe('email through SES v2', () => {
  const ses = mockClient(SESv2Client);
  beforeEach(() => {
    ses.reset();
  });
  afterAll(() => {
    ses.restore();
  });
  const target = (overrides: Partial<EmailConfig> = {}): EmailConfig => ({
    type: 'email',
    from: FROM,
    to: ['team@example.com'],
    region: 'eu-west-1',
    ...overrides,
  });

  it('sends one raw MIME message with the exact input shape', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-1' });
    const incident = resolved('azure-monitor');
    await expect(emailChannel.deliver('resolved', incident, target({ cc: ['audit@example.net'] }), TIMEOUT)).resolves.toEqual({ ok: true });
    const calls = ses.commandCalls(SendEmailCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input).toEqual({
      FromEmailAddress: FROM,
      Destination: { ToAddresses: ['team@example.com'], CcAddresses: ['audit@example.net'] },
      Content: { Raw: { Data: expect.any(Uint8Array) as unknown } },
    });
    const mail = await simpleParser(Buffer.from(input.Content!.Raw!.Data!));
    expect(mail.subject).toBe('✅ RESOLVED: Sev0 DB down on sql-prod (after 30m)');
    expect(addresses(mail.from)).toEqual([FROM]);
    expect(addresses(mail.to)).toEqual(['team@example.com']);
    expect(addresses(mail.cc)).toEqual(['audit@example.net']);
    expect(mail.text).toContain('Resolved after 30m (ended Wed 25 Nov 10:00 UTC)');
    expect(mail.html).toMatch(/<h1 [^>]*>Sev0 DB down on sql-prod<\/h1>/);
    const root = openedId(incident);
    expect(mail.messageId).toBe(root.replace('.opened@', '.resolved@'));
    expect(mail.inReplyTo).toBe(root);
    expect(mail.references).toBe(root);
  });

  it('leaves out CcAddresses when there is no cc', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-2' });
    await emailChannel.deliver('opened', firing(), target(), TIMEOUT);
    expect(ses.commandCalls(SendEmailCommand)[0]!.args[0].input.Destination).toEqual({ ToAddresses: ['team@example.com'] });
  });

  it('marks MessageRejected and an unverified domain permanent, without leaking addresses', async () => {
    for (const error of [
      new MessageRejected({ message: `Email address is not verified: ${FROM}`, $metadata: { httpStatusCode: 400 } }),
      new MailFromDomainNotVerifiedException({ message: 'example.com not verified', $metadata: { httpStatusCode: 400 } }),
    ]) {
      ses.reset();
      ses.on(SendEmailCommand).rejects(error);
      const result = await emailChannel.deliver('opened', firing(), target(), TIMEOUT);
      expect(result).toEqual({ ok: false, retryable: false, reason: `SES ${error.name} (HTTP 400)` });
    }
  });

  it('marks throttling, 5xx and network errors retryable', async () => {
    ses.on(SendEmailCommand).rejects(new TooManyRequestsException({ message: 'slow down', $metadata: { httpStatusCode: 429 } }));
    await expect(emailChannel.deliver('opened', firing(), target(), TIMEOUT)).resolves.toEqual({
      ok: false,
      retryable: true,
      reason: 'SES TooManyRequestsException (HTTP 429)',
    });
    ses.reset();
    ses.on(SendEmailCommand).rejects(Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } }));
    await expect(emailChannel.deliver('opened', firing(), target(), TIMEOUT)).resolves.toEqual({
      ok: false,
      retryable: true,
      reason: 'SES ServiceUnavailable (HTTP 503)',
    });
    ses.reset();
    ses.on(SendEmailCommand).rejects(Object.assign(new Error('getaddrinfo EAI_AGAIN email.eu-west-1.amazonaws.com'), { code: 'EAI_AGAIN' }));
    await expect(emailChannel.deliver('opened', firing(), target(), TIMEOUT)).resolves.toEqual({
      ok: false,
      retryable: true,
      reason: 'SES: network error EAI_AGAIN',
    });
  });
});

describe('email config', () => {
  const parse = (config: Record<string, unknown>) => emailChannel.configSchema.safeParse({ type: 'email', from: FROM, to: ['t@example.com'], ...config });
  it('accepts a plain or named from and requires recipients', () => {
    expect(parse({}).success).toBe(true);
    expect(parse({ from: 'Tocsin Alerts <alerts@example.com>' }).success).toBe(true);
    expect(parse({ from: 'not an address' }).success).toBe(false);
    expect(parse({ from: 'a@example.com, b@example.com' }).success).toBe(false);
    expect(parse({ to: [] }).success).toBe(false);
    expect(parse({ to: ['nope'] }).success).toBe(false);
    expect(parse({ cc: ['also-nope'] }).success).toBe(false);
  });
  it('validates smtp settings', () => {
    expect(parse({ smtp: { host: 'smtp.example.com', port: 587, user: 'u', pass: 'p' } }).success).toBe(true);
    expect(parse({ smtp: { host: 'smtp.example.com', port: 587, user: 'u' } }).success).toBe(false);
    expect(parse({ smtp: { host: 'smtp.example.com', port: 70_000 } }).success).toBe(false);
    expect(parse({ smtp: { host: 'smtp.example.com', port: 25, tls: true } }).success).toBe(false);
  });
});
