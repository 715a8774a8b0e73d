// http-ingest with Lambda function URL events for every route: the config (ingest token, size
// limit) comes from a mocked SSM parameter whose `${NAME}` is filled from a mocked Secrets
// Manager secret; SNS signatures are checked against a locally generated certificate.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { GetParameterCommand, ParameterNotFound } from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler, setSnsHooks } from '../../functions/aws/http-ingest.ts';
import type { IncidentMessage, RejectedPayload } from '../../shared/ingest/forward.ts';
import type { SourceKind } from '../../shared/incident.ts';
import { UNTRUSTED_CERTIFICATE_URL } from '../../shared/ingest/sns.ts';
import { normalizeBytes } from '../../shared/normalize.ts';
import { resetRuntime } from '../../shared/runtime/index.ts';
import { CERT_URL, TOPIC_ARN, makeSigner, signSnsMessage, snsNotification, snsSubscriptionConfirmation, type TestSigner } from '../helpers/sns-signer.ts';
import {
  CONFIG_PARAMETER,
  FIXTURES,
  httpEvent,
  INCIDENTS_QUEUE_URL,
  lambdaContext,
  messagesTo,
  mockConfigStore,
  mockSqs,
  REJECTED_QUEUE_URL,
  SECRET_ARN,
  captureOutput,
  stubAwsEnvironment,
  type HttpEventOptions,
  type OutputCapture,
  type SqsMock,
} from './support.ts';

const TOKEN = 'ingest-s3cret-7f3a91';
const MAX_BODY_BYTES = 16 * 1024;
const CONFIG = {
  ingest: { token: '${TOCSIN_INGEST_TOKEN}', maxBodyBytes: MAX_BODY_BYTES },
  channels: { audit: { type: 'webhook', url: 'https://hooks.example.com/tocsin' } },
  routes: [{ channels: ['audit'] }],
};

const bytesOf = (source: string, name: string): Buffer => readFileSync(join(FIXTURES, source, name));
const bearer = { authorization: `Bearer ${TOKEN}` };
const basic = (password: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`tocsin:${password}`).toString('base64')}` });

interface Answer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

describe('http-ingest handler', () => {
  let sqs: SqsMock;
  let store: ReturnType<typeof mockConfigStore>;
  let output: OutputCapture;
  let signer: TestSigner;
  let certificateDownloads: string[];
  let confirmed: string[];
  const context = lambdaContext('tocsin-http-ingest');

  const call = async (options: HttpEventOptions): Promise<Answer & { json: Record<string, unknown> }> => {
    const answer = (await handler(httpEvent(options), context)) as Answer;
    return { ...answer, json: JSON.parse(answer.body) as Record<string, unknown> };
  };

  beforeAll(() => {
    signer = makeSigner();
  });
  beforeEach(() => {
    stubAwsEnvironment();
    vi.stubEnv('INCIDENTS_QUEUE_URL', INCIDENTS_QUEUE_URL);
    vi.stubEnv('REJECTED_QUEUE_URL', REJECTED_QUEUE_URL);
    vi.stubEnv('ALLOWED_TOPIC_ARNS', TOPIC_ARN);
    vi.stubEnv('TOCSIN_CONFIG_PARAMETER', CONFIG_PARAMETER);
    vi.stubEnv('TOCSIN_SECRET_ARN', SECRET_ARN);
    resetRuntime();
    sqs = mockSqs();
    store = mockConfigStore(CONFIG, { TOCSIN_INGEST_TOKEN: TOKEN, UNUSED: 'x' });
    certificateDownloads = [];
    confirmed = [];
    setSnsHooks({
      fetchCertificate: (url) => {
        certificateDownloads.push(url);
        return Promise.resolve(signer.certificatePem);
      },
      confirm: (url) => {
        confirmed.push(url);
        return Promise.resolve();
      },
    });
    output = captureOutput();
  });
  afterEach(() => {
    output.restore();
    // The token never reaches the logs, whatever the test did.
    expect(output.text()).not.toContain(TOKEN);
    sqs.restore();
    store.ssm.restore();
    store.secrets.restore();
    vi.unstubAllEnvs();
  });
  afterAll(() => {
    setSnsHooks(undefined);
    resetRuntime();
  });

  it('accepts an Alertmanager webhook with the bearer token and queues exactly its incidents', async () => {
    const raw = bytesOf('alertmanager', 'firing-group.json');
    const answer = await call({ path: '/v1/ingest/alertmanager', headers: bearer, body: raw });
    expect(answer.statusCode).toBe(202);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');

    const messages = messagesTo(sqs, INCIDENTS_QUEUE_URL) as IncidentMessage[];
    const receivedAt = messages[0]!.receivedAt;
    const expected = normalizeBytes(raw, { receivedAt: new Date(receivedAt), source: 'alertmanager' }).incidents;
    expect(expected.length).toBeGreaterThan(1);
    expect(messages).toEqual(expected.map((incident) => ({ incident, receivedAt })));
    expect(answer.json).toEqual({ accepted: expected.length, source: 'alertmanager', fingerprints: expected.map((incident) => incident.fingerprint) });
    expect(sqs.commandCalls(SendMessageBatchCommand).map((entry) => entry.args[0].input.QueueUrl)).toEqual([INCIDENTS_QUEUE_URL]);

    // The config came from SSM, the token from the secret: one read each.
    expect(store.ssm.commandCalls(GetParameterCommand).map((entry) => entry.args[0].input)).toEqual([{ Name: CONFIG_PARAMETER, WithDecryption: false }]);
    expect(store.secrets.commandCalls(GetSecretValueCommand).map((entry) => entry.args[0].input)).toEqual([{ SecretId: SECRET_ARN }]);
  });

  it('reuses the config on a warm container (no second SSM or Secrets Manager read)', async () => {
    const raw = bytesOf('alertmanager', 'firing-group.json');
    await call({ path: '/v1/ingest/alertmanager', headers: bearer, body: raw });
    await call({ path: '/v1/ingest/alertmanager', headers: bearer, body: raw });
    expect(store.ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
    expect(store.secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(messagesTo(sqs, INCIDENTS_QUEUE_URL)).toHaveLength(2 * (JSON.parse(raw.toString()) as { alerts: unknown[] }).alerts.length);
  });

  it.each<[string, SourceKind, string, string]>([
    ['/v1/ingest/aws/sns', 'cloudwatch', 'cloudwatch', 'bare-anomaly-detection-alarm.json'],
    ['/v1/ingest/azure/monitor', 'azure-monitor', 'azure-monitor', 'metric-static-fired.json'],
    ['/v1/ingest/gcp/monitoring', 'gcp-monitoring', 'gcp-monitoring', 'metric-open.json'],
    ['/v1/ingest/grafana', 'grafana', 'grafana', 'firing-group.json'],
    ['/v1/ingest/signalfx', 'signalfx', 'signalfx', 'default-payload-anomalous.json'],
    ['/v1/ingest', 'signalfx', 'signalfx', 'docs-latency-anomalous.json'],
    ['/v1/ingest', 'grafana', 'grafana', 'firing-group.json'],
    ['/v1/ingest', 'azure-monitor', 'azure-monitor', 'metric-static-fired.json'],
  ])('routes %s to the %s source', async (path, source, folder, file) => {
    const raw = bytesOf(folder, file);
    const answer = await call({ path, query: `token=${TOKEN}`, body: raw });
    expect(answer.statusCode).toBe(202);
    const messages = messagesTo(sqs, INCIDENTS_QUEUE_URL) as IncidentMessage[];
    const expected = normalizeBytes(raw, { receivedAt: new Date(messages[0]!.receivedAt), source }).incidents;
    expect(messages.map((message) => message.incident)).toEqual(expected);
    expect(answer.json).toMatchObject({ source, accepted: expected.length });
  });

  it('decodes a base64 body (function URLs encode binary and some text bodies)', async () => {
    const raw = bytesOf('grafana', 'firing-group.json');
    const answer = await call({ path: '/v1/ingest/grafana/', headers: basic(TOKEN), body: raw, base64: true });
    expect(answer.statusCode).toBe(202);
    const expected = normalizeBytes(raw, { receivedAt: new Date(), source: 'grafana' }).incidents;
    expect((messagesTo(sqs, INCIDENTS_QUEUE_URL) as IncidentMessage[]).map((message) => message.incident.fingerprint)).toEqual(
      expected.map((incident) => incident.fingerprint),
    );
  });

  it('answers 401 without the token, or with a wrong one, and queues nothing', async () => {
    const raw = bytesOf('alertmanager', 'firing-group.json');
    for (const options of [{}, { headers: { authorization: 'Bearer wrong-token' } }, { headers: basic('wrong') }, { query: 'token=nope' }]) {
      const answer = await call({ path: '/v1/ingest/alertmanager', body: raw, ...options });
      expect(answer.statusCode).toBe(401);
      expect(answer.headers['www-authenticate']).toBe('Bearer realm="tocsin", Basic realm="tocsin"');
      expect(answer.json).toMatchObject({ error: 'unauthorized', kept: false });
    }
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('answers malformed JSON with a JSON 400 and keeps the raw bytes on the rejected queue', async () => {
    const raw = '{"receiver": "tocsin", "alerts": [';
    const answer = await call({ path: '/v1/ingest/alertmanager', headers: bearer, body: raw });
    expect(answer.statusCode).toBe(400);
    expect(answer.json).toMatchObject({ error: 'malformed', message: 'payload is not valid JSON', kept: true });
    expect(answer.body).not.toContain('    at ');

    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.QueueUrl).toBe(REJECTED_QUEUE_URL);
    expect(input.Entries).toHaveLength(1);
    const kept = JSON.parse(input.Entries![0]!.MessageBody!) as RejectedPayload;
    expect(kept).toEqual({
      receivedAt: kept.receivedAt,
      endpoint: 'alertmanager',
      status: 400,
      reason: 'malformed',
      message: 'payload is not valid JSON',
      rejections: [{ source: 'json', reason: expect.any(String) as unknown }],
      truncated: false,
      bodyBase64: Buffer.from(raw).toString('base64'),
    });
    expect(Number.isNaN(Date.parse(kept.receivedAt))).toBe(false);
  });

  it('answers 413 above the configured size limit and keeps the first maxBodyBytes', async () => {
    const raw = `{"padding": "${'x'.repeat(MAX_BODY_BYTES)}"}`;
    const answer = await call({ path: '/v1/ingest', headers: bearer, body: raw });
    expect(answer.statusCode).toBe(413);
    expect(answer.json).toEqual({ error: 'too-large', message: `body exceeds the ${String(MAX_BODY_BYTES)}-byte limit`, kept: true });
    const [kept] = messagesTo(sqs, REJECTED_QUEUE_URL) as RejectedPayload[];
    expect(kept).toMatchObject({ status: 413, reason: 'too-large', truncated: true, endpoint: 'auto' });
    expect(Buffer.from(kept!.bodyBase64, 'base64').toString()).toBe(raw.slice(0, MAX_BODY_BYTES));
  });

  it('answers unknown routes with 404, wrong methods with 405, and /healthz with 200, all JSON', async () => {
    const notFound = await call({ path: '/v1/ingest/datadog', headers: bearer, body: '{}' });
    expect(notFound.statusCode).toBe(404);
    expect(notFound.json).toMatchObject({ error: 'not-found' });
    expect(notFound.headers['content-type']).toBe('application/json; charset=utf-8');

    const wrongMethod = await call({ method: 'GET', path: '/v1/ingest/alertmanager' });
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers['allow']).toBe('POST');
    expect(wrongMethod.json).toEqual({ error: 'method-not-allowed', message: '/v1/ingest/alertmanager accepts POST' });

    const health = await call({ method: 'GET', path: '/healthz' });
    expect(health).toMatchObject({ statusCode: 200, json: { status: 'ok' } });
    const postHealth = await call({ method: 'POST', path: '/healthz', body: '{}' });
    expect(postHealth.statusCode).toBe(405);

    // None of these needed the config or a queue.
    expect(store.ssm.commandCalls(GetParameterCommand)).toHaveLength(0);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('answers 503 JSON when the config parameter cannot be read, and logs why', async () => {
    store.ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'Parameter /tocsin/config not found.', $metadata: {} }));
    const answer = await call({ path: '/v1/ingest/alertmanager', headers: bearer, body: bytesOf('alertmanager', 'firing-group.json') });
    expect(answer.statusCode).toBe(503);
    expect(answer.headers['retry-after']).toBe('30');
    expect(answer.json).toEqual({ error: 'config-unavailable', message: 'the ingest configuration could not be loaded; retry later' });
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    const errors = output.records().filter((record) => record['level'] === 'ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ message: 'configuration unavailable', handler: 'http-ingest' });
  });

  it('answers 503 when a placeholder is missing from the secret, naming the key but not the values', async () => {
    store.secrets.on(GetSecretValueCommand).resolves({ ARN: SECRET_ARN, SecretString: JSON.stringify({ OTHER: TOKEN }) });
    const answer = await call({ path: '/v1/ingest/alertmanager', headers: bearer, body: '{}' });
    expect(answer.statusCode).toBe(503);
    const error = output.records().find((record) => record['message'] === 'configuration unavailable');
    expect(String(error?.['errorMessage'])).toContain('TOCSIN_INGEST_TOKEN');
  });

  it('answers 503 queue-unavailable when SQS fails', async () => {
    sqs.on(SendMessageBatchCommand).rejects(new Error('connect ETIMEDOUT'));
    const answer = await call({ path: '/v1/ingest/alertmanager', headers: bearer, body: bytesOf('alertmanager', 'firing-group.json') });
    expect(answer.statusCode).toBe(503);
    expect(answer.json).toEqual({ error: 'queue-unavailable', message: 'could not queue the payload; retry later' });
    expect(answer.headers['retry-after']).toBe('5');
  });

  it('answers 500 JSON to an event that is not a function URL event', async () => {
    const answer = (await handler({ httpMethod: 'POST', path: '/v1/ingest' }, context)) as Answer;
    expect(answer.statusCode).toBe(500);
    expect(JSON.parse(answer.body)).toEqual({ error: 'internal', message: 'unsupported event; see the function log' });
  });

  describe('SNS over HTTPS', () => {
    const sns = (message: unknown) => call({ path: '/v1/ingest/aws/sns', query: `token=${TOKEN}`, body: JSON.stringify(message) });
    const alarm = JSON.parse(bytesOf('cloudwatch', 'bare-anomaly-detection-alarm.json').toString()) as Record<string, unknown>;

    it('accepts a genuine notification, downloading the certificate once per warm container', async () => {
      const first = await sns(signSnsMessage(signer, snsNotification(alarm)));
      const second = await sns(signSnsMessage(signer, snsNotification(alarm), '1'));
      expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
      expect(certificateDownloads).toEqual([CERT_URL]);
      const messages = messagesTo(sqs, INCIDENTS_QUEUE_URL) as IncidentMessage[];
      expect(messages.map((message) => message.incident.source.kind)).toEqual(['cloudwatch', 'cloudwatch']);
      expect(first.json).toMatchObject({ accepted: 1, source: 'cloudwatch' });
    });

    it('confirms a subscription of an allowed topic by visiting its SubscribeURL', async () => {
      const message = signSnsMessage(signer, snsSubscriptionConfirmation());
      const answer = await sns(message);
      expect(answer.statusCode).toBe(200);
      expect(answer.json).toEqual({ message: `subscribed to ${TOPIC_ARN}` });
      expect(confirmed).toEqual([message.SubscribeURL]);
    });

    it('refuses a forged notification with 403 and keeps nothing', async () => {
      const signed = signSnsMessage(signer, snsNotification(alarm));
      const answer = await sns({ ...signed, Message: JSON.stringify({ ...alarm, NewStateValue: 'OK' }) });
      expect(answer.statusCode).toBe(403);
      expect(answer.json).toEqual({ error: 'bad-signature', message: 'SNS signature does not match the message', kept: false });
      expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    });

    it('refuses a genuine message replayed from a topic that is not allowed, without confirming it', async () => {
      const otherTopic = 'arn:aws:sns:eu-central-1:999988887777:someone-elses-topic';
      for (const message of [snsNotification(alarm, otherTopic), snsSubscriptionConfirmation(otherTopic)]) {
        const answer = await sns(signSnsMessage(signer, message));
        expect(answer.statusCode).toBe(403);
        expect(answer.json).toMatchObject({ error: 'forbidden-topic', kept: false });
      }
      expect(confirmed).toEqual([]);
      expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    });

    it.each([
      'https://sns.eu-central-1.amazonaws.com.attacker.example/SimpleNotificationService-0a1b.pem',
      'https://sns.s3.amazonaws.com/SimpleNotificationService-0a1b.pem',
    ])('refuses a signing certificate that is not on an SNS host (%s), without downloading it', async (url) => {
      const message = signSnsMessage(signer, { ...snsNotification(alarm), SigningCertURL: url });
      const answer = await sns(message);
      expect(answer.statusCode).toBe(403);
      expect(answer.json).toEqual({ error: 'bad-signature', message: UNTRUSTED_CERTIFICATE_URL, kept: false });
      expect(certificateDownloads).toEqual([]);
    });

    it('refuses a Lambda SNS event posted to the function URL on every route, and queues nothing', async () => {
      const lambdaEvent = JSON.parse(bytesOf('cloudwatch', 'lambda-sns-single-metric-alarm.json').toString()) as unknown;
      for (const path of ['/v1/ingest/aws/sns', '/v1/ingest', '/v1/ingest/alertmanager']) {
        const answer = await call({ path, query: `token=${TOKEN}`, body: JSON.stringify(lambdaEvent) });
        expect(answer.statusCode, path).toBe(403);
        expect(answer.json, path).toMatchObject({ error: 'lambda-envelope', kept: false });
      }
      expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    });

    it('refuses an SNS envelope whose signature fields were removed', async () => {
      const { SignatureVersion: _version, Signature: _signature, ...unsigned } = signSnsMessage(signer, snsNotification(alarm, 'arn:aws:sns:eu-central-1:666666666666:attacker'));
      const answer = await sns(unsigned);
      expect(answer.statusCode).toBe(403);
      expect(answer.json).toEqual({ error: 'bad-signature', message: 'an SNS message must carry SignatureVersion, Signature and SigningCertURL', kept: false });
      expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    });

    it('refuses a stale message and a MessageId it already queued', async () => {
      const stale = await sns(signSnsMessage(signer, snsNotification(alarm, TOPIC_ARN, new Date(Date.now() - 2 * 3600_000).toISOString())));
      expect(stale.statusCode).toBe(403);
      expect(stale.json).toMatchObject({ error: 'stale-message' });
      const message = signSnsMessage(signer, snsNotification(alarm));
      expect((await sns(message)).statusCode).toBe(202);
      const replayed = await sns(message);
      expect(replayed.statusCode).toBe(409);
      expect(replayed.json).toEqual({ error: 'replayed', message: `SNS MessageId ${message.MessageId} was already accepted`, kept: false });
      expect(messagesTo(sqs, INCIDENTS_QUEUE_URL)).toHaveLength(1);
    });

    it('lets SNS retry a message whose incidents could not be queued (its MessageId is not remembered)', async () => {
      const message = signSnsMessage(signer, snsNotification(alarm));
      sqs.on(SendMessageBatchCommand).rejects(new Error('SQS is down'));
      expect((await sns(message)).statusCode).toBe(503);
      sqs.restore();
      sqs = mockSqs();
      expect((await sns(message)).statusCode).toBe(202);
      expect(messagesTo(sqs, INCIDENTS_QUEUE_URL)).toHaveLength(1);
    });

    it('answers 503 with Retry-After and keeps the raw message when the signing certificate cannot be fetched', async () => {
      setSnsHooks({ fetchCertificate: () => Promise.reject(new Error('connect ETIMEDOUT')), confirm: () => Promise.resolve() });
      const message = signSnsMessage(signer, snsNotification(alarm));
      const answer = await sns(message);
      expect(answer.statusCode).toBe(503);
      expect(answer.headers['retry-after']).toBe('10');
      expect(answer.json).toEqual({ error: 'certificate-unavailable', message: 'the SNS signing certificate could not be fetched; retry later', kept: true });
      expect(messagesTo(sqs, INCIDENTS_QUEUE_URL)).toEqual([]);
      const kept = messagesTo(sqs, REJECTED_QUEUE_URL) as RejectedPayload[];
      expect(kept).toHaveLength(1);
      expect(kept[0]).toMatchObject({ status: 503, reason: 'certificate-unavailable', truncated: false });
      expect(Buffer.from(kept[0]!.bodyBase64, 'base64').toString('utf8')).toBe(JSON.stringify(message));
    });

    it('still wants the ingest token on the SNS endpoint', async () => {
      const answer = await call({ path: '/v1/ingest/aws/sns', body: JSON.stringify(signSnsMessage(signer, snsNotification(alarm))) });
      expect(answer.statusCode).toBe(401);
    });
  });

  describe('a config without ingest.token (fail closed)', () => {
    beforeEach(() => {
      store.ssm.restore();
      store.secrets.restore();
      resetRuntime();
      store = mockConfigStore({ ...CONFIG, ingest: { maxBodyBytes: MAX_BODY_BYTES } }, { UNUSED: 'x' });
    });

    it('refuses every request with 503, with or without credentials, and says why in the log once', async () => {
      const raw = bytesOf('alertmanager', 'firing-group.json');
      for (const headers of [{}, bearer, basic(TOKEN), { authorization: 'Bearer anything' }]) {
        const answer = await call({ path: '/v1/ingest/alertmanager', headers, body: raw });
        expect(answer.statusCode).toBe(503);
        expect(answer.json).toEqual({ error: 'token-not-configured', message: 'ingest is closed: no ingest token is configured on this endpoint (see its log)', kept: false });
      }
      expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
      const explained = output.text().split('\n').filter((line) => line.includes('the config has no ingest.token'));
      expect(explained).toHaveLength(1);
    });
  });
});
