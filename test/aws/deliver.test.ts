// deliver with SQS events of DeliveryJobs: a webhook channel pointing at a real HTTP server on
// 127.0.0.1 (its URL, with a secret path, comes from the mocked Secrets Manager secret), the
// delivery claims on a real state table (dynalite), and the exact SQS calls for retries
// (ChangeMessageVisibility) and dead letters (SendMessage to the DLQ: the body as received, the
// reason and attempts as message attributes).
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler, visibilityTimeoutFor } from '../../functions/aws/deliver.ts';
import { claimLineId } from '../../shared/delivery/claims.ts';
import type { Incident } from '../../shared/incident.ts';
import { normalize } from '../../shared/normalize.ts';
import { resetRuntime, type DeliveryMessage } from '../../shared/runtime/index.ts';
import { startDynalite, type RunningDynalite } from '../helpers/dynalite.ts';
import { startRecorder, type HttpRecorder } from '../helpers/http-recorder.ts';
import {
  CONFIG_PARAMETER,
  DELIVERIES_DLQ_URL,
  DELIVERIES_QUEUE_ARN,
  DELIVERIES_QUEUE_URL,
  fixture,
  lambdaContext,
  mockConfigStore,
  mockSqs,
  SECRET_ARN,
  sqsRecord,
  stubAwsEnvironment,
  captureOutput,
  type OutputCapture,
  type SqsMock,
} from './support.ts';

const SECRET_PATH = 'T0001/B0002/SECRETPATHxyz';
const MAX_ATTEMPTS = 4;
const RECEIVED_AT = '2026-11-25T01:56:11.000Z';

const incidentOf = (name: string): Incident =>
  normalize(fixture('cloudwatch', name), { receivedAt: new Date(RECEIVED_AT), source: 'cloudwatch' }).incidents[0]!;

function jobFor(channel: string, incident = incidentOf('lambda-sns-single-metric-alarm.json'), transitionId = 'v1.1795571770517'): DeliveryMessage {
  return { event: 'opened', incident, channel, transitionId, attempt: 1, receivedAt: RECEIVED_AT };
}

let messageCounter = 0;
function deliveryRecord(body: unknown, receiveCount = 1, messageId?: string) {
  messageCounter += 1;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return sqsRecord(text, { messageId: messageId ?? `delivery-msg-${String(messageCounter)}`, queueArn: DELIVERIES_QUEUE_ARN, receiveCount });
}

describe('deliver handler', () => {
  let dynalite: RunningDynalite;
  let recorder: HttpRecorder;
  let sqs: SqsMock;
  let store: ReturnType<typeof mockConfigStore>;
  let output: OutputCapture;
  let table: string;
  let tableCounter = 0;
  const context = lambdaContext('tocsin-deliver');

  const deliver = async (records: ReturnType<typeof deliveryRecord>[]): Promise<SQSBatchResponse> =>
    handler({ Records: records }, context);
  const hookRequests = () => recorder.requests.filter((request) => request.path === `/hooks/${SECRET_PATH}`);

  beforeAll(async () => {
    dynalite = await startDynalite();
    recorder = await startRecorder();
  });
  afterAll(async () => {
    resetRuntime();
    await recorder.close();
    await dynalite.close();
  });
  beforeEach(async () => {
    tableCounter += 1;
    table = `tocsin-deliver-${String(tableCounter)}`;
    await dynalite.createTable(table);
    recorder.requests.length = 0;
    recorder.respondWith((request) => (request.path === '/gone' ? { status: 404, body: 'no such hook' } : { status: 200, body: 'ok' }));
    stubAwsEnvironment();
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynalite.endpoint);
    vi.stubEnv('STATE_TABLE_NAME', table);
    vi.stubEnv('DELIVERIES_QUEUE_URL', DELIVERIES_QUEUE_URL);
    vi.stubEnv('DELIVERIES_DLQ_URL', DELIVERIES_DLQ_URL);
    vi.stubEnv('TOCSIN_CONFIG_PARAMETER', CONFIG_PARAMETER);
    vi.stubEnv('TOCSIN_SECRET_ARN', SECRET_ARN);
    resetRuntime();
    sqs = mockSqs();
    store = mockConfigStore(
      {
        channels: {
          hook: { type: 'webhook', url: '${HOOK_URL}' },
          gone: { type: 'webhook', url: `${recorder.url}/gone` },
        },
        routes: [{ channels: ['hook'] }],
        defaults: { maxAttempts: MAX_ATTEMPTS, sendTimeout: '5s' },
      },
      { HOOK_URL: `${recorder.url}/hooks/${SECRET_PATH}` },
    );
    output = captureOutput();
  });
  afterEach(() => {
    output.restore();
    // Neither the webhook URL's secret path nor a payload reaches the logs.
    expect(output.text()).not.toContain('SECRETPATH');
    vi.restoreAllMocks();
    sqs.restore();
    store.ssm.restore();
    store.secrets.restore();
    vi.unstubAllEnvs();
  });

  it('delivers a job once, moves the cursor, and a redelivered copy does not send again', async () => {
    const job = jobFor('hook');
    expect(await deliver([deliveryRecord(job)])).toEqual({ batchItemFailures: [] });
    expect(hookRequests()).toHaveLength(1);
    expect(hookRequests()[0]!.method).toBe('POST');
    expect(JSON.parse(hookRequests()[0]!.body)).toEqual({ event: 'opened', incident: job.incident });
    expect(hookRequests()[0]!.headers['x-tocsin-fingerprint']).toBe(job.incident.fingerprint);

    const cursor = await dynalite.client.send(
      new GetItemCommand({ TableName: table, Key: { pk: { S: claimLineId({ fingerprint: job.incident.fingerprint, channel: 'hook' }) } } }),
    );
    expect(cursor.Item?.['channel']).toEqual({ S: 'hook' });
    expect(cursor.Item?.['toldTransitionId']).toEqual({ S: job.transitionId });
    expect(cursor.Item).not.toHaveProperty('claimToken');

    // SQS delivers at least once: the same job again (a later receive) is skipped.
    expect(await deliver([deliveryRecord(job, 2)])).toEqual({ batchItemFailures: [] });
    expect(hookRequests()).toHaveLength(1);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(0);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);

    const deliveries = output.metrics().filter((metric) => 'Deliveries' in metric.values);
    expect(deliveries.map((metric) => [metric.dimensions['channel'], metric.dimensions['outcome'], metric.values['Deliveries']])).toEqual([
      ['hook', 'delivered', 1],
      ['hook', 'already-delivered', 1],
    ]);
    const latency = output.metrics().find((metric) => 'DeliveryLatency' in metric.values);
    expect(latency?.dimensions).toEqual({ service: 'tocsin', channel: 'hook' });
  });

  it('on a 500, delays the message by the backoff (ChangeMessageVisibility) and reports it failed', async () => {
    recorder.respondWith(() => ({ status: 500, body: 'upstream broke' }));
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    // Third receive: backoff ceiling 40 s (10 s doubled twice), half of it plus half the rest → 30 s.
    const record = deliveryRecord(jobFor('hook'), 3);
    expect(await deliver([record])).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(hookRequests()).toHaveLength(1);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input)).toEqual([
      { QueueUrl: DELIVERIES_QUEUE_URL, ReceiptHandle: record.receiptHandle, VisibilityTimeout: 30 },
    ]);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
    const retry = output.records().find((line) => line['message'] === 'delivery not done; retrying later');
    expect(retry).toMatchObject({ channel: 'hook', attempt: 3, delaySeconds: 30, reason: 'HTTP 500: upstream broke' });
  });

  it("waits out a 429's Retry-After as a new delayed message, not as a failed attempt", async () => {
    recorder.respondWith(() => ({ status: 429, headers: { 'retry-after': '90' }, body: '' }));
    const job = jobFor('hook');
    const record = deliveryRecord(job, 2);
    expect(await deliver([record])).toEqual({ batchItemFailures: [] });
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(0);
    const sends = sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
    expect(sends).toHaveLength(1);
    expect(sends[0]).toMatchObject({ QueueUrl: DELIVERIES_QUEUE_URL, DelaySeconds: 90 });
    // The second receive failed once before (the first); this one was the destination's limit.
    expect(JSON.parse(sends[0]!.MessageBody!)).toEqual({ ...job, attempt: 1, priorAttempts: 1, throttled: 1 });
  });

  it('derives the queue URL from the record when DELIVERIES_QUEUE_URL is not set', async () => {
    vi.stubEnv('DELIVERIES_QUEUE_URL', '');
    recorder.respondWith(() => ({ status: 503, headers: { 'retry-after': '30' } }));
    const record = deliveryRecord(jobFor('hook'), 1);
    await deliver([record]);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input)).toEqual([
      { QueueUrl: DELIVERIES_QUEUE_URL, ReceiptHandle: record.receiptHandle, VisibilityTimeout: 30 },
    ]);
  });

  it('sends a permanent failure (404) to the DLQ as received, with its reason and attempts as attributes, and reports the record handled', async () => {
    const job = jobFor('gone');
    const record = deliveryRecord(job, 2);
    const before = Date.now();
    expect(await deliver([record])).toEqual({ batchItemFailures: [] });
    const sends = sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
    expect(sends).toHaveLength(1);
    expect(sends[0]).toEqual({
      QueueUrl: DELIVERIES_DLQ_URL,
      MessageBody: record.body,
      MessageAttributes: {
        TocsinReason: { DataType: 'String', StringValue: 'HTTP 404: no such hook' },
        TocsinAttempts: { DataType: 'Number', StringValue: '2' },
        TocsinFailedAt: { DataType: 'String', StringValue: expect.any(String) as string },
      },
    });
    expect(Date.parse(sends[0]!.MessageAttributes!['TocsinFailedAt']!.StringValue!)).toBeGreaterThanOrEqual(before - 1000);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(0);
    expect(output.metrics()).toContainEqual({ namespace: 'Tocsin', dimensions: { service: 'tocsin', channel: 'gone', outcome: 'dead-letter' }, values: { Deliveries: 1 } });
  });

  it('gives up on the last attempt the config allows and dead-letters with the reason', async () => {
    recorder.respondWith(() => ({ status: 502, body: 'bad gateway' }));
    const record = deliveryRecord(jobFor('hook'), MAX_ATTEMPTS);
    expect(await deliver([record])).toEqual({ batchItemFailures: [] });
    const [send] = sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
    expect(send!.MessageAttributes!['TocsinReason']!.StringValue).toBe(`gave up after ${String(MAX_ATTEMPTS)} attempts: HTTP 502: bad gateway`);
  });

  it('caps the attempts at DELIVERIES_MAX_RECEIVE_COUNT, so its reason is kept before SQS redrives it', async () => {
    vi.stubEnv('DELIVERIES_MAX_RECEIVE_COUNT', '2');
    recorder.respondWith(() => ({ status: 500, body: 'still down' }));
    const record = deliveryRecord(jobFor('hook'), 2);
    expect(await deliver([record])).toEqual({ batchItemFailures: [] });
    const [send] = sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
    expect(send!.MessageAttributes!['TocsinReason']!.StringValue).toBe('gave up after 2 attempts: HTTP 500: still down');
  });

  it('without DELIVERIES_DLQ_URL, fails a dead-lettered record so the queue redrive keeps it', async () => {
    vi.stubEnv('DELIVERIES_DLQ_URL', '');
    const record = deliveryRecord(jobFor('gone'), 1);
    expect(await deliver([record])).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('dead-letters a job for a channel the config no longer has', async () => {
    const job = jobFor('retired-channel');
    expect(await deliver([deliveryRecord(job)])).toEqual({ batchItemFailures: [] });
    const [send] = sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
    expect(JSON.parse(send!.MessageBody!)).toEqual(job);
    expect(send!.MessageAttributes!['TocsinReason']!.StringValue).toBe('unknown channel "retired-channel"');
    expect(recorder.requests).toHaveLength(0);
  });

  it('dead-letters only the poison record of a batch, as received and with why; the good jobs are delivered', async () => {
    const first = deliveryRecord(jobFor('hook'));
    const poison = deliveryRecord('{"event": "opened", "channel": "hook"}');
    const second = deliveryRecord(jobFor('hook', incidentOf('lambda-sns-composite-alarm.json'), 'v1.1795571800000'));
    expect(await deliver([first, poison, second])).toEqual({ batchItemFailures: [] });
    const [letter] = sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
    expect(letter!.MessageBody).toBe(poison.body);
    expect(letter!.MessageAttributes!['TocsinReason']!.StringValue).toMatch(/^invalid delivery job message: /);
    expect(hookRequests().map((request) => (JSON.parse(request.body) as { incident: Incident }).incident.source.rule).sort()).toEqual(
      [incidentOf('lambda-sns-single-metric-alarm.json').source.rule, incidentOf('lambda-sns-composite-alarm.json').source.rule].sort(),
    );
    const poisonLog = output.records().find((line) => line['message'] === 'poison delivery message');
    expect(poisonLog).toMatchObject({ messageId: poison.messageId, errorName: 'PoisonMessageError' });
  });

  it('throws (the batch returns untouched) when the config cannot be loaded', async () => {
    store.ssm.on(GetParameterCommand).rejects(new Error('AccessDeniedException'));
    await expect(deliver([deliveryRecord(jobFor('hook'))])).rejects.toThrow();
    expect(recorder.requests).toHaveLength(0);
    const errors = output.records().filter((line) => line['level'] === 'ERROR');
    expect(errors).toEqual([expect.objectContaining({ message: 'configuration unavailable; the batch will be retried', handler: 'deliver' })]);
  });

  it('refuses an event that is not from SQS', async () => {
    await expect(handler({ Records: [{ EventSource: 'aws:sns' }] }, context)).rejects.toThrow('deliver expects an SQS event');
  });

  it('keeps visibility timeouts within what SQS accepts', () => {
    expect(visibilityTimeoutFor(0)).toBe(0);
    expect(visibilityTimeoutFor(1)).toBe(1);
    expect(visibilityTimeoutFor(90_000)).toBe(90);
    expect(visibilityTimeoutFor(50_000_000)).toBe(43_200);
  });
});
