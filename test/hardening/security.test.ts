// Security checks over the real components: hostile text cannot inject mail headers or chat
// mentions; secrets from the config never reach a log line, a metric, the incidents API, the
// spool or a dead-letter reason, even when a receiver echoes them back; near-miss tokens are
// refused; the body limit is exact; forged SNS messages and certificate URLs off SNS are refused.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLocal } from '../../functions/local/start.ts';
import { DELIVERY_EVENTS } from '../../shared/channels/channel.ts';
import { consoleChannel } from '../../shared/channels/console.ts';
import { emailChannel, emailConfigSchema, buildMime, renderEmail } from '../../shared/channels/email.ts';
import { googleChatChannel, renderGoogleChat } from '../../shared/channels/google-chat.ts';
import { CHANNEL_TYPES } from '../../shared/channels/index.ts';
import { opsgenieChannel } from '../../shared/channels/opsgenie.ts';
import { pagerDutyChannel } from '../../shared/channels/pagerduty.ts';
import { splunkOnCallChannel } from '../../shared/channels/splunk-oncall.ts';
import { renderSlack, slackChannel } from '../../shared/channels/slack.ts';
import { renderSms, smsChannel } from '../../shared/channels/sms.ts';
import { renderTeams, teamsChannel } from '../../shared/channels/teams.ts';
import { webhookChannel } from '../../shared/channels/webhook.ts';
import { incidentSchema, type Incident } from '../../shared/incident.ts';
import type { HttpRecorder } from '../helpers/http-recorder.ts';
import { startLocalHarness, type LocalHarness } from '../helpers/local-harness.ts';
import { UNTRUSTED_CERTIFICATE_URL } from '../../shared/ingest/sns.ts';
import { CERT_URL, TOPIC_ARN, makeSigner, signSnsMessage, snsNotification, snsSubscriptionConfirmation, type TestSigner } from '../helpers/sns-signer.ts';
import { fetchMetrics, metricSum, rawPost, type ErrorAnswer } from './support.ts';

const HOSTILE_TITLE = 'Disk full\r\nBcc: evil@example.com\r\nX-Injected: yes <!channel> <users/all> <at>Everyone</at> <script>alert(1)</script>';

const hostile: Incident = incidentSchema.parse({
  schemaVersion: 1,
  fingerprint: 'alertmanager:0123456789abcdef0123456789abcdef',
  status: 'firing',
  severity: 'critical',
  title: HOSTILE_TITLE,
  summary: 'first line\r\nBcc: evil@example.com\n<!here> <@U012345> <users/all> <script>alert(2)</script>',
  source: { kind: 'alertmanager', cloud: 'other', rule: 'Disk full\r\nBcc: evil@example.com' },
  resource: { name: 'db-1\r\nX-Injected: yes' },
  startsAt: '2026-11-25T10:00:00Z',
  labels: { 'team\r\nBcc': 'evil@example.com\r\nX-Injected: yes', note: '<!everyone> <@U012345> <script>x</script>' },
  links: [{ title: 'Runbook\r\nBcc: evil@example.com', url: 'https://runbooks.example.com/disk' }],
});

// C0 and C1 controls and the Unicode line/paragraph separators.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

describe('rendering hostile text', () => {
  it('email: CR/LF in the title cannot inject a header; the subject is one line', async () => {
    const target = emailConfigSchema.parse({ type: 'email', from: 'Tocsin <alerts@example.com>', to: ['team@example.com'] });
    const mime = await buildMime(renderEmail('opened', hostile), target, new Date('2026-11-25T10:01:00Z'));
    const parsed = await simpleParser(mime);

    expect(parsed.subject).toBe('[CRITICAL] firing: Disk full Bcc: evil@example.com X-Injected: yes <!channel> <users/all> <at>Everyone</at> <script>alert(1)</script>');
    expect(parsed.bcc).toBeUndefined();
    expect(parsed.headers.has('bcc')).toBe(false);
    expect(parsed.headers.has('x-injected')).toBe(false);
    expect(parsed.headerLines.map((line) => line.key).sort()).toEqual([
      'auto-submitted',
      'content-type',
      'date',
      'from',
      'message-id',
      'mime-version',
      'subject',
      'to',
      'x-tocsin-event',
      'x-tocsin-fingerprint',
    ]);
    const to = Array.isArray(parsed.to) ? parsed.to : [parsed.to];
    expect(to.flatMap((address) => address?.value.map((mailbox) => mailbox.address) ?? [])).toEqual(['team@example.com']);

    // The raw header block, unfolded: no line of it starts an injected header.
    const headerBlock = mime.toString('utf8').split('\r\n\r\n')[0]!.replace(/\r\n[ \t]+/g, ' ');
    expect(headerBlock).not.toMatch(/^(bcc|x-injected):/im);
    // The HTML part shows the markup as text.
    expect(parsed.html).not.toBe(false);
    expect(String(parsed.html)).not.toContain('<script>');
  });

  it('Slack: <!channel>, <!here>, <@user> and <script> are escaped, never live', () => {
    const text = JSON.stringify(renderSlack('opened', hostile).message);
    for (const live of ['<!channel>', '<!here>', '<!everyone>', '<@U012345>', '<script>', '<users/all>']) expect(text).not.toContain(live);
    expect(text).toContain('&lt;!channel&gt;');
    expect(text).toContain('&lt;script&gt;');
  });

  it('Teams: markup in the text creates no mention entity', () => {
    const message = renderTeams('opened', hostile).message;
    const [attachment] = message.attachments;
    // Teams only mentions for an `<at>` with a matching entity; only the channel config adds one.
    expect(attachment.content.msteams).toEqual({ width: 'Full' });
    expect(JSON.stringify(message)).not.toContain('"mentioned"');
  });

  it('Google Chat: card text is escaped and the message text cannot mention or link', () => {
    const message = renderGoogleChat('opened', hostile).message;
    expect(message.text).not.toMatch(/<[!@a-z]/i);
    expect(message.text).toContain('<\u200Busers/all>');
    const cardTexts = JSON.stringify(message.cardsV2[0].card.sections);
    for (const live of ['<script>', '<users/all>', '<!here>', '<!channel>']) expect(cardTexts).not.toContain(live);
    expect(cardTexts).toContain('&lt;script&gt;');
  });

  it('Teams: a markdown link, emphasis or code in alert text stays literal text, in every field', () => {
    const disguised = '[Re-authenticate](https://evil.example/login) **urgent** _now_ `code` <https://evil.example>';
    const incident = incidentSchema.parse({
      ...hostile,
      title: `Disk full ${disguised}`,
      summary: `${disguised}\n- [Runbook](https://evil.example/runbook)`,
      resource: { name: `db-1 ${disguised}` },
      labels: { [`team ${disguised}`]: disguised },
      metric: { name: disguised, value: 1 },
    });
    const card = teamsChannel.render('opened', incident).message.attachments[0].content;
    const markdownTexts = card.body.flatMap((element) =>
      element.type === 'TextBlock' ? [element.text] : element.facts.flatMap((fact) => [fact.title, fact.value]),
    );
    // An unescaped `[` followed later by `](` would be a live link; an unescaped `*`/`_`/`` ` ``/`<` markup.
    const live = /(^|[^\\])(\[[^\]]*\]\(|\*\*|_[^_]+_|`|<https?:)/;
    for (const text of markdownTexts.map((text) => text.replace(/^\*\*(Metric:|Labels)\*\*/, ''))) {
      // (the card's own `**Metric:**` and `**Labels**` headings are left out of the check)
      expect(text, text).not.toMatch(live);
    }
    expect(JSON.stringify(card.body)).toContain('\\\\[Re-authenticate\\\\](https://evil.example/login)');
    // The only links on the card are its actions, built from the incident's links, never from its text.
    expect(card.actions.map((action) => action.url)).toEqual(['https://runbooks.example.com/disk']);
  });

  it('every channel drops bidi controls (Trojan Source) from every text it renders', () => {
    const bidi = ['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069', '\u200E', '\u200F', '\u061C'];
    const laced = (text: string): string => bidi.map((mark) => `${mark}${text}`).join('');
    const incident = incidentSchema.parse({
      ...hostile,
      title: laced('invoice.exe'),
      summary: laced('gnp.exe'),
      source: { ...hostile.source, rule: laced('rule'), account: laced('123') },
      resource: { name: laced('db-1'), id: laced('id'), type: laced('type') },
      labels: { [laced('team')]: laced('ops') },
      links: [{ title: laced('Runbook'), url: 'https://runbooks.example.com/disk' }],
      metric: { name: laced('cpu'), namespace: laced('ns'), unit: laced('u'), value: 1 },
    });
    const modules = [consoleChannel, webhookChannel, slackChannel, teamsChannel, googleChatChannel, smsChannel, emailChannel, pagerDutyChannel, splunkOnCallChannel, opsgenieChannel];
    // A PagerDuty resolve is only the dedup_key: it carries no text at all.
    const textless = new Set(['pagerduty resolved']);
    expect(modules.map((module) => module.type).sort()).toEqual([...CHANNEL_TYPES].sort());
    for (const module of modules) {
      for (const event of DELIVERY_EVENTS) {
        const rendered = JSON.stringify(module.render(event, incident));
        expect(rendered, `${module.type} ${event}`).not.toMatch(/[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/);
        if (!textless.has(`${module.type} ${event}`)) expect(rendered, `${module.type} ${event}`).toMatch(/invoice\.exe|gnp\.exe/);
      }
    }
  });

  it('SMS: no control characters reach the text', () => {
    const sms = renderSms('opened', { ...hostile, title: 'CPU\r\nhigh\t\u0007\u001b[31m red\u2028next\u0085x' });
    expect(sms.text).not.toMatch(CONTROL);
    expect(sms.text).toBe('[CRIT] FIRING: CPU high [31m red next x https://runbooks.example.com/disk');
    expect(renderSms('resolved', hostile).text).not.toMatch(CONTROL);
  });
});

/** Every way a secret could show up in text: as is, URL-encoded, base64 (basic auth). */
function forms(secret: string): string[] {
  return [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64'), Buffer.from(`alerts:${secret}`).toString('base64')];
}

describe('secrets never reach logs, metrics, the API, the database or dead letters', () => {
  const secrets = {
    ingestToken: 'ingest-2c7e91f04d8b4a1e9f63',
    bearer: 'bearer-8d41a0c5e27f4b9a6c30',
    hmac: 'hmac-5f0b3e8a91c24d7e8b16',
    urlPath: 'pathsecret7Qx2Lm9Vb4',
    urlSig: 'sigsecret3Hk8Pw1Zr6Ty',
    apiKey: 'apikey-71c3e9b05a2d4f86',
  };
  const captured: string[] = [];
  const restore: (() => void)[] = [];
  let harness: LocalHarness;
  let recorder: HttpRecorder;
  let local: RunningLocal;
  let configDir: string;

  /** Records everything written to stdout, stderr and the console while the test runs. */
  function capture(): void {
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write.bind(stream);
      stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
        captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        return original(chunk, ...rest);
      });
      restore.push(() => {
        stream.write = original;
      });
    }
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      const original = console[method].bind(console);
      console[method] = (...args: unknown[]) => {
        captured.push(args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' '));
        original(...args);
      };
      restore.push(() => {
        console[method] = original;
      });
    }
  }

  beforeAll(async () => {
    capture();
    configDir = await mkdtemp(join(tmpdir(), 'tocsin-secrets-config-'));
    const configFile = join(configDir, 'tocsin.yaml');
    await writeFile(
      configFile,
      [
        'ingest:',
        '  token: ${TOCSIN_INGEST_TOKEN}',
        '  maxBodyBytes: 4096',
        'channels:',
        '  audit:',
        '    type: webhook',
        '    url: ${AUDIT_URL}',
        '    bearerToken: ${AUDIT_BEARER}',
        '    hmacSecret: ${AUDIT_HMAC}',
        '    headers:',
        '      X-Api-Key: ${AUDIT_API_KEY}',
        'routes:',
        '  - channels: [audit]',
        'defaults:',
        '  maxAttempts: 2',
        '  sendTimeout: 2s',
        '',
      ].join('\n'),
    );
    harness = await startLocalHarness({
      // A careless receiver: it fails and echoes the request's URL and headers in its answer.
      responder: (request) => ({
        status: request.body.includes('SecretEchoA') ? 500 : 404,
        body: `Authorization: ${String(request.headers.authorization)}\nX-Api-Key: ${String(request.headers['x-api-key'])}\nURL: ${request.path}\n${JSON.stringify(request.headers)}`,
      }),
      configFile: (recorderUrl) => ({
        path: configFile,
        env: {
          TOCSIN_INGEST_TOKEN: secrets.ingestToken,
          AUDIT_URL: `${recorderUrl}/hooks/${secrets.urlPath}?sig=${secrets.urlSig}`,
          AUDIT_BEARER: secrets.bearer,
          AUDIT_HMAC: secrets.hmac,
          AUDIT_API_KEY: secrets.apiKey,
        },
      }),
      dataPrefix: 'tocsin-secrets-data-',
      log: (line) => captured.push(line),
    });
    ({ receiver: recorder, local } = harness);
  });

  afterAll(async () => {
    await harness.stop();
    for (const undo of restore.splice(0)) undo();
    await rm(configDir, { recursive: true, force: true });
  });

  const alertmanager = (name: string): Buffer =>
    Buffer.from(
      JSON.stringify({
        version: '4',
        status: 'firing',
        groupLabels: {},
        commonLabels: {},
        commonAnnotations: {},
        alerts: [{ status: 'firing', labels: { alertname: name, instance: 'db-1:9100' }, annotations: { summary: `${name} on db-1` }, startsAt: '2026-11-25T10:00:00Z' }],
      }),
    );

  it('drives failing deliveries and rejected requests, then finds no secret anywhere', async () => {
    const answers: string[] = [];
    const send = async (path: string, body: Buffer, headers: Record<string, string>): Promise<number> => {
      const response = await rawPost(`${local.url}${path}`, body, { headers });
      answers.push(response.text);
      return response.status;
    };
    const bearer = { authorization: `Bearer ${secrets.ingestToken}` };
    const basic = { authorization: `Basic ${Buffer.from(`alerts:${secrets.ingestToken}`).toString('base64')}` };

    // Two alerts whose deliveries fail: 500 (retried, then given up) and 404 (permanent).
    expect(await send('/v1/ingest/alertmanager', alertmanager('SecretEchoA'), bearer)).toBe(202);
    expect(await send('/v1/ingest/alertmanager', alertmanager('SecretEchoB'), basic)).toBe(202);
    // Rejected: wrong token, malformed with the token in the query, too large with basic auth.
    expect(await send('/v1/ingest/alertmanager', alertmanager('x'), { authorization: `Bearer ${secrets.ingestToken.slice(0, -1)}x` })).toBe(401);
    expect(await send(`/v1/ingest/grafana?token=${secrets.ingestToken}`, Buffer.from('{"not json'), {})).toBe(400);
    expect(await send('/v1/ingest', Buffer.alloc(5000, 0x20), basic)).toBe(413);
    expect(await send('/v1/ingest/azure/monitor', Buffer.from('{"schemaId":"nope"}'), bearer)).toBe(400);

    expect(await local.pipeline.drain(15_000)).toBe(true);

    // The receiver really was sent (and echoed) the secrets, so a leak had every chance.
    expect(recorder.requests.length).toBe(3);
    expect(recorder.requests.every((request) => request.headers.authorization === `Bearer ${secrets.bearer}` && request.headers['x-api-key'] === secrets.apiKey)).toBe(true);
    const deadLetters = local.pipeline.deadLetters(100);
    expect(deadLetters.map((letter) => letter.reason).sort()).toEqual([
      expect.stringMatching(/^HTTP 404: /) as unknown,
      expect.stringMatching(/^gave up after 2 attempts: HTTP 500: /) as unknown,
    ]);

    const metrics = await fetchMetrics(local.url, secrets.ingestToken);
    expect(metricSum(metrics, 'tocsin_dead_lettered_total')).toBe(2);
    expect(metricSum(metrics, 'tocsin_rejected_total')).toBe(4);
    const incidentsApi = await (await fetch(`${local.url}/v1/incidents`, { headers: bearer })).text();
    expect(incidentsApi).toContain('dead-letter');
    const rejected = local.pipeline.rejected.list(100);
    expect(rejected).toHaveLength(3);
    const rejectedApi = await (await fetch(`${local.url}/v1/rejected`)).text();
    const history = await Promise.all(
      local.pipeline.listIncidents({ limit: 100 }).map(async (incident) => (await fetch(`${local.url}/v1/incidents/${encodeURIComponent(incident.fingerprint)}`)).text()),
    );
    local.pipeline.database.flush();
    // Every byte the database holds, the write-ahead log included.
    const database = (await Promise.all([local.databaseFile, `${local.databaseFile}-wal`].map((file) => readFile(file).catch(() => Buffer.alloc(0))))).map((bytes) =>
      bytes.toString('latin1'),
    );
    expect(captured.join('')).toContain('tocsin listening on');

    const places: Record<string, string> = {
      output: captured.join('\n'),
      metrics,
      incidentsApi,
      rejectedApi,
      historyApi: history.join('\n'),
      database: database.join('\n'),
      deadLetters: JSON.stringify(deadLetters),
      deadLetterReasons: deadLetters.map((letter) => letter.reason).join('\n'),
      answers: answers.join('\n'),
    };
    const leaks: string[] = [];
    for (const [place, text] of Object.entries(places)) {
      for (const [name, secret] of Object.entries(secrets)) {
        if (forms(secret).some((form) => text.includes(form))) leaks.push(`${name} in ${place}`);
      }
    }
    expect(leaks).toEqual([]);
  });
});

describe('ingest authentication and body limits', () => {
  const TOKEN = 'tok-3f9a1c77e2b04d5a8c6e';
  const MAX = 4096;
  let harness: LocalHarness;
  let local: RunningLocal;

  beforeAll(async () => {
    harness = await startLocalHarness({ config: { ingest: { token: TOKEN, maxBodyBytes: MAX } }, dataPrefix: 'tocsin-auth-data-' });
    ({ local } = harness);
  });

  afterAll(() => harness.stop());

  let alertCounter = 0;
  /** A valid one-alert Alertmanager payload, padded with trailing spaces to `size` bytes. */
  const payload = (size?: number): Buffer => {
    alertCounter += 1;
    const json = JSON.stringify({
      version: '4',
      status: 'firing',
      groupLabels: {},
      commonLabels: {},
      commonAnnotations: {},
      alerts: [{ status: 'firing', labels: { alertname: 'AuthProbe', instance: `host-${alertCounter}` }, annotations: {}, startsAt: '2026-11-25T10:00:00Z' }],
    });
    return size === undefined ? Buffer.from(json) : Buffer.concat([Buffer.from(json), Buffer.alloc(size - Buffer.byteLength(json), 0x20)]);
  };
  const changeAt = (text: string, index: number): string => `${text.slice(0, index)}${text[index] === 'x' ? 'y' : 'x'}${text.slice(index + 1)}`;
  const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  const refused: [string, Record<string, string>, string][] = [
    ['bearer, first character changed', { authorization: `Bearer ${changeAt(TOKEN, 0)}` }, ''],
    ['bearer, middle character changed', { authorization: `Bearer ${changeAt(TOKEN, 11)}` }, ''],
    ['bearer, last character changed', { authorization: `Bearer ${changeAt(TOKEN, TOKEN.length - 1)}` }, ''],
    ['bearer, one character longer', { authorization: `Bearer ${TOKEN}x` }, ''],
    ['bearer, one character shorter', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }, ''],
    ['bearer, upper case', { authorization: `Bearer ${TOKEN.toUpperCase()}` }, ''],
    ['bearer, empty', { authorization: 'Bearer ' }, ''],
    ['bearer scheme alone', { authorization: 'Bearer' }, ''],
    ['empty authorization header', { authorization: '' }, ''],
    ['bearer, very long', { authorization: `Bearer ${TOKEN.repeat(300)}` }, ''],
    ['bearer, the token twice', { authorization: `Bearer ${TOKEN}${TOKEN}` }, ''],
    ['unknown scheme', { authorization: `Token ${TOKEN}` }, ''],
    ['basic, password one character off', { authorization: basic('alerts', changeAt(TOKEN, 5)) }, ''],
    ['basic, token as the user name', { authorization: basic(TOKEN, '') }, ''],
    ['basic, empty', { authorization: 'Basic ' }, ''],
    ['basic, not base64', { authorization: 'Basic !!!***' }, ''],
    ['query, one character off', {}, `?token=${changeAt(TOKEN, 3)}`],
    ['query, empty', {}, '?token='],
    ['query, very long', {}, `?token=${TOKEN.repeat(300)}`],
    ['query, with a trailing NUL', {}, `?token=${TOKEN}%00`],
    ['query parameter under another name', {}, `?access_token=${TOKEN}`],
    ['token in another header', { 'x-api-key': TOKEN }, ''],
    ['wrong header wins over a right query', { authorization: `Bearer ${changeAt(TOKEN, 0)}` }, `?token=${TOKEN}`],
  ];

  it.each(refused)('401 for %s, nothing kept or queued', async (_name, headers, query) => {
    const kept = local.pipeline.rejected.count();
    const queued = local.pipeline.depths().incidents;
    const response = await rawPost(`${local.url}/v1/ingest/alertmanager${query}`, payload(), { headers: { 'content-type': 'application/json', ...headers } });
    expect(response.status).toBe(401);
    expect(response.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(response.text)).toEqual({ error: 'unauthorized', message: 'missing or wrong ingest token (send it as a bearer token, basic-auth password or ?token=)' });
    expect(local.pipeline.rejected.count()).toBe(kept);
    expect(local.pipeline.depths().incidents).toBe(queued);
  });

  it('the right token is accepted as bearer, basic password and query parameter', async () => {
    for (const [headers, query] of [
      [{ authorization: `Bearer ${TOKEN}` }, ''],
      [{ authorization: basic('alerts', TOKEN) }, ''],
      [{}, `?token=${TOKEN}`],
    ] as const) {
      const response = await rawPost(`${local.url}/v1/ingest/alertmanager${query}`, payload(), { headers });
      expect(response.status).toBe(202);
      expect(JSON.parse(response.text)).toMatchObject({ accepted: 1, source: 'alertmanager' });
    }
    const metrics = await fetchMetrics(local.url, TOKEN);
    expect(metricSum(metrics, 'tocsin_rejected_total', { reason: 'unauthorized' })).toBe(refused.length);
  });

  const auth = { authorization: `Bearer ${TOKEN}` };

  it('a body of exactly maxBodyBytes is processed; one byte more is 413 and its first maxBodyBytes are kept', async () => {
    const exact = payload(MAX);
    expect(exact.byteLength).toBe(MAX);
    const accepted = await rawPost(`${local.url}/v1/ingest/alertmanager`, exact, { headers: auth });
    expect(accepted.status).toBe(202);
    expect(JSON.parse(accepted.text)).toMatchObject({ accepted: 1 });

    const over = payload(MAX + 1);
    const refusedAnswer = await rawPost(`${local.url}/v1/ingest/alertmanager`, over, { headers: auth });
    expect(refusedAnswer.status).toBe(413);
    const body = JSON.parse(refusedAnswer.text) as ErrorAnswer;
    expect(body).toMatchObject({ error: 'too-large', message: `body exceeds the ${MAX}-byte limit` });
    const entry = local.pipeline.rejected.get(body.rejectedId as number);
    expect(Buffer.from(entry?.body ?? []).equals(over.subarray(0, MAX))).toBe(true);
    expect(entry).toMatchObject({ status: 413, reason: 'too-large', truncated: true, bytes: MAX, path: '/v1/ingest/alertmanager' });
  });

  it('the same limits hold for chunked bodies without a content-length', async () => {
    const exact = await rawPost(`${local.url}/v1/ingest/alertmanager`, payload(MAX), { headers: auth, chunks: 7 });
    expect(exact.status).toBe(202);
    const over = await rawPost(`${local.url}/v1/ingest/alertmanager`, payload(MAX + 1), { headers: auth, chunks: 7 });
    expect(over.status).toBe(413);
  });

  it('a multi-megabyte body is refused with 413 and the server stays healthy', async () => {
    const huge = Buffer.alloc(3 * 1024 * 1024, 0x61);
    const response = await rawPost(`${local.url}/v1/ingest`, huge, { headers: auth });
    expect(response.status).toBe(413);
    const health = await fetch(`${local.url}/healthz`);
    expect(health.status).toBe(200);
  });
});

describe('SNS over HTTP: forged signatures and certificate URLs off SNS', () => {
  let signer: TestSigner;
  let impostor: TestSigner;
  let harness: LocalHarness;
  let local: RunningLocal;
  const fetched: string[] = [];
  const confirmed: string[] = [];
  let alarm: unknown;
  /** Genuine notifications the server should have accepted, for the final count. */
  let genuineAccepted = 0;
  /** Served as "down": fetching it fails. */
  const UNREACHABLE_CERT_URL = 'https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-dead0000dead0000.pem';

  beforeAll(async () => {
    signer = makeSigner();
    impostor = makeSigner();
    const fixture = JSON.parse(await readFile(join(import.meta.dirname, '..', 'fixtures', 'cloudwatch', 'sns-http-metric-math-alarm.json'), 'utf8')) as { Message: string };
    alarm = JSON.parse(fixture.Message) as unknown;
    harness = await startLocalHarness({
      dataPrefix: 'tocsin-sns-data-',
      sns: {
        allowedTopicArns: [TOPIC_ARN],
        // The certificate "SNS" serves; any URL that reaches here is recorded.
        fetchCertificate: (url) => {
          fetched.push(url);
          return url === UNREACHABLE_CERT_URL ? Promise.reject(new Error('connect ETIMEDOUT')) : Promise.resolve(signer.certificatePem);
        },
        confirm: (url) => {
          confirmed.push(url);
          return Promise.resolve();
        },
      },
    });
    local = harness.local;
  });

  afterAll(() => harness.stop());

  const post = async (message: unknown, path = '/v1/ingest/aws/sns'): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response = await rawPost(`${local.url}${path}`, Buffer.from(JSON.stringify(message)), { headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' } });
    expect(response.contentType).toMatch(/^application\/json/);
    return { status: response.status, body: JSON.parse(response.text) as Record<string, unknown> };
  };

  it('accepts a genuinely signed notification (versions 1 and 2): the control case', async () => {
    expect(await post(signSnsMessage(signer, snsNotification(alarm), '2'))).toMatchObject({ status: 202, body: { accepted: 1, source: 'cloudwatch' } });
    expect(await post(signSnsMessage(signer, snsNotification(alarm), '1'))).toMatchObject({ status: 202, body: { accepted: 1 } });
    genuineAccepted += 2;
  });

  it.each([
    ['signed with another key', () => signSnsMessage(impostor, snsNotification(alarm))],
    ['Message changed after signing', () => ({ ...signSnsMessage(signer, snsNotification(alarm)), Message: JSON.stringify({ ...(alarm as object), NewStateValue: 'OK' }) })],
    ['Subject changed after signing', () => ({ ...signSnsMessage(signer, snsNotification(alarm)), Subject: 'OK: all good' })],
    ['Timestamp changed after signing', () => ({ ...signSnsMessage(signer, snsNotification(alarm)), Timestamp: new Date(Date.now() - 1_000).toISOString() })],
    ['TopicArn changed after signing (another allowed-looking topic)', () => ({ ...signSnsMessage(signer, snsNotification(alarm, 'arn:aws:sns:eu-central-1:111122223333:other')), TopicArn: TOPIC_ARN })],
    ['signature of random bytes', () => ({ ...signSnsMessage(signer, snsNotification(alarm)), Signature: Buffer.alloc(256, 7).toString('base64') })],
    ['version 1 claimed for a version 2 signature', () => ({ ...signSnsMessage(signer, snsNotification(alarm), '2'), SignatureVersion: '1' })],
  ])('403 for a forged notification: %s', async (_name, build) => {
    const kept = local.pipeline.rejected.count();
    const answer = await post(build());
    expect(answer).toEqual({ status: 403, body: { error: 'bad-signature', message: 'SNS signature does not match the message' } });
    expect(local.pipeline.rejected.count()).toBe(kept);
  });

  it.each([
    'https://sns.eu-central-1.amazonaws.com.evil.example/SimpleNotificationService-0.pem',
    'http://sns.eu-central-1.amazonaws.com/SimpleNotificationService-0.pem',
    'https://evil.example/sns.eu-central-1.amazonaws.com/SimpleNotificationService-0.pem',
    'https://sns.eu-central-1.amazonaws.com@evil.example/SimpleNotificationService-0.pem',
    'https://user:pass@sns.eu-central-1.amazonaws.com/SimpleNotificationService-0.pem',
    'https://sns.eu-central-1.amazonaws.com:8443/SimpleNotificationService-0.pem',
    'https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-0.txt',
    'https://s3.amazonaws.com/sns/SimpleNotificationService-0.pem',
    'https://sns.s3.amazonaws.com/SimpleNotificationService-0.pem',
    'https://sns.s3.eu-central-1.amazonaws.com/SimpleNotificationService-0.pem',
    'https://sns.evil.amazonaws.com/SimpleNotificationService-0.pem',
    'https://sns.eu-central-1.amazonaws.com/attacker-upload.pem',
    'https://snsxeu-central-1.amazonaws.com/SimpleNotificationService-0.pem',
    'https://sns.eu-central-1.amazonaws.com.cn.evil.example/SimpleNotificationService-0.pem',
    'file:///etc/ssl/certs/sns.eu-central-1.amazonaws.com.pem',
    'not a url',
  ])('403 and no download for a certificate URL off SNS: %s', async (certUrl) => {
    // Validly signed: the certificate URL is not part of the signed text, so only the URL check stops it.
    const message = signSnsMessage(signer, { ...snsNotification(alarm), SigningCertURL: certUrl });
    const answer = await post(message);
    expect(answer).toEqual({ status: 403, body: { error: 'bad-signature', message: UNTRUSTED_CERTIFICATE_URL } });
    expect(fetched.filter((url) => url !== CERT_URL)).toEqual([]);
  });

  it('the auto-detecting endpoint verifies SNS envelopes the same way', async () => {
    const answer = await post(signSnsMessage(impostor, snsNotification(alarm)), '/v1/ingest');
    expect(answer).toMatchObject({ status: 403, body: { error: 'bad-signature' } });
  });

  it('403 for a genuinely signed message from a topic not in the allowed list', async () => {
    const answer = await post(signSnsMessage(signer, snsNotification(alarm, 'arn:aws:sns:eu-central-1:999999999999:someone-elses-topic')));
    expect(answer).toEqual({ status: 403, body: { error: 'forbidden-topic', message: 'SNS topic is not in the allowed list' } });
  });

  it('never follows a SubscribeURL off SNS, even in a genuinely signed confirmation', async () => {
    const confirmation = snsSubscriptionConfirmation();
    for (const subscribeUrl of ['https://evil.example/?Action=ConfirmSubscription', 'http://sns.eu-central-1.amazonaws.com/?Action=ConfirmSubscription', 'https://sns.eu-central-1.amazonaws.com.evil.example/']) {
      const answer = await post(signSnsMessage(signer, { ...confirmation, SubscribeURL: subscribeUrl }));
      expect(answer).toMatchObject({ status: 400, body: { error: 'malformed', message: 'SubscribeURL is missing or not on sns.<region>.amazonaws.com' } });
    }
    expect(confirmed).toEqual([]);
    // The control: a genuine confirmation is followed, once, to exactly its URL.
    expect(await post(signSnsMessage(signer, confirmation))).toEqual({ status: 200, body: { message: `subscribed to ${TOPIC_ARN}` } });
    expect(confirmed).toEqual([confirmation.SubscribeURL]);
  });

  const unsigned = (message: object, drop: readonly string[]): Record<string, unknown> =>
    Object.fromEntries(Object.entries(message).filter(([key]) => !drop.includes(key)));

  it.each([
    ['SignatureVersion removed', ['SignatureVersion']],
    ['every signature field removed', ['SignatureVersion', 'Signature', 'SigningCertURL']],
  ])('403 for an SNS envelope with its %s, on both SNS endpoints: never accepted unsigned', async (_name, drop) => {
    for (const path of ['/v1/ingest/aws/sns', '/v1/ingest']) {
      const forged = unsigned(signSnsMessage(signer, snsNotification(alarm, 'arn:aws:sns:eu-central-1:666666666666:attacker-topic')), drop);
      const answer = await post(forged, path);
      expect(answer).toEqual({ status: 403, body: { error: 'bad-signature', message: 'an SNS message must carry SignatureVersion, Signature and SigningCertURL' } });
    }
  });

  it('403 for a Lambda SNS event on every ingest endpoint: its sns_topic_arn cannot be claimed over HTTP', async () => {
    const lambdaEvent = {
      Records: [
        {
          EventSource: 'aws:sns',
          EventVersion: '1.0',
          EventSubscriptionArn: 'arn:aws:sns:eu-central-1:666666666666:attacker-topic:sub',
          Sns: { ...snsNotification(alarm, 'arn:aws:sns:eu-central-1:666666666666:attacker-topic'), SignatureVersion: '1', Signature: 'EXAMPLE' },
        },
      ],
    };
    for (const path of ['/v1/ingest/aws/sns', '/v1/ingest', '/v1/ingest/alertmanager', '/v1/ingest/grafana', '/v1/ingest/azure/monitor', '/v1/ingest/gcp/monitoring']) {
      expect(await post(lambdaEvent, path), path).toMatchObject({ status: 403, body: { error: 'lambda-envelope' } });
    }
  });

  it('403 for a genuine notification older than SNS ever retries (a captured message replayed later)', async () => {
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000).toISOString();
    const answer = await post(signSnsMessage(signer, snsNotification(alarm, TOPIC_ARN, twoHoursAgo)));
    expect(answer).toMatchObject({ status: 403, body: { error: 'stale-message' } });
  });

  it('409 for a genuine notification replayed with the same MessageId; nothing queued twice', async () => {
    const message = signSnsMessage(signer, snsNotification(alarm));
    expect(await post(message)).toMatchObject({ status: 202 });
    genuineAccepted += 1;
    expect(await post(message)).toEqual({ status: 409, body: { error: 'replayed', message: `SNS MessageId ${message.MessageId} was already accepted` } });
    expect(await post(message, '/v1/ingest')).toMatchObject({ status: 409 });
  });

  it('503 with Retry-After when the signing certificate cannot be fetched; the raw message is kept; the failure is remembered', async () => {
    const message = signSnsMessage(signer, { ...snsNotification(alarm), SigningCertURL: UNREACHABLE_CERT_URL });
    const bytes = Buffer.from(JSON.stringify(message));
    const kept = local.pipeline.rejected.count();
    const response = await rawPost(`${local.url}/v1/ingest/aws/sns`, bytes, { headers: { 'content-type': 'text/plain; charset=UTF-8' } });
    expect(response.status).toBe(503);
    const body = JSON.parse(response.text) as ErrorAnswer;
    expect(body).toMatchObject({ error: 'certificate-unavailable', message: 'the SNS signing certificate could not be fetched; retry later' });
    expect(local.pipeline.rejected.count()).toBe(kept + 1);
    const entry = local.pipeline.rejected.get(body.rejectedId as number);
    expect(Buffer.from(entry?.body ?? []).equals(bytes)).toBe(true);
    expect(entry).toMatchObject({ status: 503, reason: 'certificate-unavailable', path: '/v1/ingest/aws/sns' });
    // Forged messages naming the same certificate do not make the server fetch it again and again.
    for (let i = 0; i < 5; i += 1) expect((await post(signSnsMessage(impostor, { ...snsNotification(alarm), SigningCertURL: UNREACHABLE_CERT_URL }))).status).toBe(503);
    expect(fetched.filter((url) => url === UNREACHABLE_CERT_URL)).toHaveLength(1);
  });

  it('nothing forged reached the pipeline', async () => {
    expect(await local.pipeline.drain(5_000)).toBe(true);
    const metrics = await fetchMetrics(local.url);
    // The genuine notifications, and nothing else.
    expect(metricSum(metrics, 'tocsin_incidents_total')).toBe(genuineAccepted);
    expect(await (await fetch(`${local.url}/v1/incidents`)).text()).not.toContain('attacker-topic');
    expect(fetched.length).toBeGreaterThan(0);
    expect(new Set(fetched)).toEqual(new Set([CERT_URL, UNREACHABLE_CERT_URL]));
  });
});
