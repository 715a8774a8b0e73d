// sns-ingest with Lambda SNS events built from the CloudWatch fixtures; SQS is aws-sdk-client-mock
// and every SendMessageBatch input is checked as sent.
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../functions/aws/sns-ingest.ts';
import type { IncidentMessage, RejectedPayload } from '../../shared/ingest/forward.ts';
import { normalize } from '../../shared/normalize.ts';
import { resetRuntime } from '../../shared/runtime/index.ts';
import {
  batchInputsTo,
  captureOutput,
  fixture,
  INCIDENTS_QUEUE_URL,
  lambdaContext,
  messagesTo,
  mockSqs,
  REJECTED_QUEUE_URL,
  stubAwsEnvironment,
  type OutputCapture,
  type SqsMock,
} from './support.ts';

interface SnsEvent {
  Records: Record<string, unknown>[];
}

const snsFixture = (name: string): SnsEvent => fixture('cloudwatch', name) as SnsEvent;
const firstRecord = (name: string): Record<string, unknown> => snsFixture(name).Records[0]!;

const ALARM_TOPIC = 'arn:aws:sns:eu-central-1:210987654321:tocsin-alarms';
const COMPOSITE_TOPIC = 'arn:aws:sns:eu-west-1:210987654321:tocsin-alarms';

function expectedIncidents(record: Record<string, unknown>, receivedAt: string) {
  return normalize({ Records: [record] }, { receivedAt: new Date(receivedAt), source: 'cloudwatch' }).incidents;
}

const decode = (payload: RejectedPayload): unknown => JSON.parse(Buffer.from(payload.bodyBase64, 'base64').toString('utf8'));

describe('sns-ingest handler', () => {
  let sqs: SqsMock;
  let output: OutputCapture;
  const context = lambdaContext('tocsin-sns-ingest');

  beforeEach(() => {
    stubAwsEnvironment();
    vi.stubEnv('INCIDENTS_QUEUE_URL', INCIDENTS_QUEUE_URL);
    vi.stubEnv('REJECTED_QUEUE_URL', REJECTED_QUEUE_URL);
    vi.stubEnv('ALLOWED_TOPIC_ARNS', `${ALARM_TOPIC}, ${COMPOSITE_TOPIC}`);
    sqs = mockSqs();
    output = captureOutput();
  });
  afterEach(() => {
    output.restore();
    sqs.restore();
    vi.unstubAllEnvs();
  });
  afterAll(() => {
    resetRuntime();
  });

  it('queues the incident of a CloudWatch alarm record as an IncidentMessage', async () => {
    const event = snsFixture('lambda-sns-single-metric-alarm.json');
    const result = await handler(event, context);
    expect(result).toEqual({ accepted: 1, rejected: 0 });

    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.QueueUrl).toBe(INCIDENTS_QUEUE_URL);
    expect(input.Entries).toHaveLength(1);
    expect(input.Entries![0]!.Id).toBe('0');
    expect(input.Entries![0]!.DelaySeconds).toBeUndefined();
    const message = JSON.parse(input.Entries![0]!.MessageBody!) as IncidentMessage;
    expect(Object.keys(message).sort()).toEqual(['incident', 'receivedAt']);
    expect(message.incident).toEqual(expectedIncidents(event.Records[0]!, message.receivedAt)[0]);
    expect(message.incident).toMatchObject({ status: 'firing', source: { kind: 'cloudwatch', rule: 'prod-web-cpu-high', region: 'eu-central-1' } });
  });

  it('sends the good records’ incidents in one batch and keeps each bad record whole with its reason', async () => {
    const alarm = firstRecord('lambda-sns-single-metric-alarm.json');
    const composite = firstRecord('lambda-sns-composite-alarm.json');
    const notAnAlarm = firstRecord('rejected-lambda-sns-not-an-alarm.json');
    const otherTopic = firstRecord('lambda-sns-severity-critical.json');
    const result = await handler({ Records: [alarm, notAnAlarm, composite, otherTopic] }, context);
    expect(result).toEqual({ accepted: 2, rejected: 2 });

    const incidentBatches = batchInputsTo(sqs, INCIDENTS_QUEUE_URL);
    expect(incidentBatches).toHaveLength(1);
    expect(incidentBatches[0]!.Entries!.map((entry) => entry.Id)).toEqual(['0', '1']);
    const incidents = messagesTo(sqs, INCIDENTS_QUEUE_URL) as IncidentMessage[];
    const receivedAt = incidents[0]!.receivedAt;
    expect(incidents).toEqual([
      { incident: expectedIncidents(alarm, receivedAt)[0], receivedAt },
      { incident: expectedIncidents(composite, receivedAt)[0], receivedAt },
    ]);

    const rejected = messagesTo(sqs, REJECTED_QUEUE_URL) as RejectedPayload[];
    expect(rejected).toHaveLength(2);
    expect(rejected[0]).toMatchObject({ endpoint: 'sns-ingest', status: 400, reason: 'malformed', truncated: false, receivedAt });
    expect(rejected[0]!.rejections?.map((rejection) => rejection.source)).toEqual(['cloudwatch']);
    expect(decode(rejected[0]!)).toEqual(notAnAlarm);
    expect(rejected[1]).toEqual({
      receivedAt,
      endpoint: 'sns-ingest',
      status: 403,
      reason: 'forbidden-topic',
      message: 'SNS topic is not in the allowed list',
      truncated: false,
      bodyBase64: Buffer.from(JSON.stringify(otherTopic)).toString('base64'),
    });

    // Metrics: per source and per reason, in the Tocsin namespace.
    const metrics = output.metrics();
    expect(metrics.every((metric) => metric.namespace === 'Tocsin')).toBe(true);
    expect(metrics).toContainEqual({ namespace: 'Tocsin', dimensions: { service: 'tocsin', source: 'cloudwatch' }, values: { IncidentsAccepted: 2 } });
    expect(metrics).toContainEqual({ namespace: 'Tocsin', dimensions: { service: 'tocsin', reason: 'malformed' }, values: { PayloadsRejected: 1 } });
    expect(metrics).toContainEqual({ namespace: 'Tocsin', dimensions: { service: 'tocsin', reason: 'forbidden-topic' }, values: { PayloadsRejected: 1 } });
  });

  it('accepts any topic when ALLOWED_TOPIC_ARNS is not set', async () => {
    vi.stubEnv('ALLOWED_TOPIC_ARNS', '');
    const result = await handler(snsFixture('lambda-sns-severity-critical.json'), context);
    expect(result).toEqual({ accepted: 1, rejected: 0 });
    expect(batchInputsTo(sqs, REJECTED_QUEUE_URL)).toEqual([]);
    const [message] = messagesTo(sqs, INCIDENTS_QUEUE_URL) as IncidentMessage[];
    expect(message!.incident.severity).toBe('critical');
  });

  it('keeps a record whose Message is not JSON and an event that is not SNS at all, without throwing', async () => {
    const badJson = firstRecord('rejected-lambda-sns-bad-message-json.json');
    expect(await handler({ Records: [badJson] }, context)).toEqual({ accepted: 0, rejected: 1 });
    expect(await handler({ detail: 'not an SNS event' }, context)).toEqual({ accepted: 0, rejected: 1 });
    expect(batchInputsTo(sqs, INCIDENTS_QUEUE_URL)).toEqual([]);
    const rejected = messagesTo(sqs, REJECTED_QUEUE_URL) as RejectedPayload[];
    expect(rejected.map((payload) => [payload.status, payload.reason])).toEqual([
      [400, 'malformed'],
      [400, 'malformed'],
    ]);
    expect(decode(rejected[0]!)).toEqual(badJson);
    expect(decode(rejected[1]!)).toEqual({ detail: 'not an SNS event' });
    expect(rejected[1]!.message).toBe('not an SNS event');
    expect(rejected[1]!.rejections).toEqual([{ source: 'sns', reason: expect.stringContaining('Records') as unknown }]);
  });

  it('keeps a record that does not look like an SNS record', async () => {
    const broken = { EventSource: 'aws:sns', Sns: { Type: 'Notification', MessageId: 'x-1', Message: '{}' } };
    expect(await handler({ Records: [broken] }, context)).toEqual({ accepted: 0, rejected: 1 });
    const [payload] = messagesTo(sqs, REJECTED_QUEUE_URL) as RejectedPayload[];
    expect(payload).toMatchObject({ reason: 'malformed', message: 'not an SNS event record' });
    expect(payload!.rejections![0]!.reason).toContain('Sns.TopicArn');
  });

  it('throws when SQS refuses the incidents, so Lambda retries the event', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [{ Id: '0', Code: 'InvalidParameterValue', SenderFault: true, Message: 'too big' }] });
    await expect(handler(snsFixture('lambda-sns-single-metric-alarm.json'), context)).rejects.toThrow(/did not accept 1 of 1 messages \(InvalidParameterValue\)/);
    const failures = output.metrics().filter((metric) => 'QueueFailures' in metric.values);
    expect(failures).toEqual([{ namespace: 'Tocsin', dimensions: { service: 'tocsin', queue: 'incidents' }, values: { QueueFailures: 1 } }]);
  });

  it('throws when the queue URLs are missing (a deployment problem, logged)', async () => {
    vi.stubEnv('INCIDENTS_QUEUE_URL', '');
    await expect(handler(snsFixture('lambda-sns-single-metric-alarm.json'), context)).rejects.toThrow('environment variable INCIDENTS_QUEUE_URL is not set');
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    const errors = output.records().filter((record) => record['level'] === 'ERROR');
    expect(errors.map((record) => record['message'])).toEqual(['sns-ingest is misconfigured']);
    expect(errors[0]).toMatchObject({ handler: 'sns-ingest', function_name: 'tocsin-sns-ingest' });
  });
});
