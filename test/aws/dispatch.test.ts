// dispatch with SQS events of IncidentMessages: dedup on a real state table (dynalite on
// 127.0.0.1, reached through AWS_ENDPOINT_URL_DYNAMODB), routing from the config in (mocked)
// SSM, delivery jobs to the (mocked) deliveries queue, partial batch failures.
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../functions/aws/dispatch.ts';
import { transitionIdOf } from '../../shared/dedup/decide.ts';
import { eventTime, type Incident } from '../../shared/incident.ts';
import { normalize } from '../../shared/normalize.ts';
import { resetRuntime, type DeliveryMessage } from '../../shared/runtime/index.ts';
import { startDynalite, type RunningDynalite } from '../helpers/dynalite.ts';
import {
  CONFIG_PARAMETER,
  DELIVERIES_QUEUE_URL,
  fixture,
  INCIDENTS_QUEUE_ARN,
  lambdaContext,
  messagesTo,
  mockConfigStore,
  mockSqs,
  SECRET_ARN,
  sqsRecord,
  stubAwsEnvironment,
  captureOutput,
  type OutputCapture,
  type SqsMock,
} from './support.ts';

const AUDIT_URL = 'https://audit.example.com/hooks/T0001/SECRETPATH';
const CONFIG = {
  channels: {
    ops: { type: 'webhook', url: 'https://ops.example.com/hook' },
    audit: { type: 'webhook', url: '${AUDIT_URL}' },
  },
  routes: [{ match: { severity: ['critical'] }, channels: ['ops'], continue: true }, { channels: ['audit'] }],
};
const RESOLVED_TTL_SECONDS = 3600;
const RECEIVED_AT = '2026-11-25T01:56:11.000Z';

const incidentOf = (name: string): Incident =>
  normalize(fixture('cloudwatch', name), { receivedAt: new Date(RECEIVED_AT), source: 'cloudwatch' }).incidents[0]!;

let messageCounter = 0;
function incidentRecord(body: unknown, receiveCount = 1) {
  messageCounter += 1;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return sqsRecord(text, { messageId: `incident-msg-${String(messageCounter)}`, queueArn: INCIDENTS_QUEUE_ARN, receiveCount });
}

describe('dispatch handler', () => {
  let dynalite: RunningDynalite;
  let sqs: SqsMock;
  let store: ReturnType<typeof mockConfigStore>;
  let output: OutputCapture;
  let table: string;
  let tableCounter = 0;
  const context = lambdaContext('tocsin-dispatch');

  const dispatch = async (records: ReturnType<typeof incidentRecord>[]): Promise<SQSBatchResponse> =>
    handler({ Records: records }, context);

  beforeAll(async () => {
    dynalite = await startDynalite();
  });
  afterAll(async () => {
    resetRuntime();
    await dynalite.close();
  });
  beforeEach(async () => {
    tableCounter += 1;
    table = `tocsin-state-${String(tableCounter)}`;
    await dynalite.createTable(table);
    stubAwsEnvironment();
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynalite.endpoint);
    vi.stubEnv('STATE_TABLE_NAME', table);
    vi.stubEnv('DELIVERIES_QUEUE_URL', DELIVERIES_QUEUE_URL);
    vi.stubEnv('TOCSIN_CONFIG_PARAMETER', CONFIG_PARAMETER);
    vi.stubEnv('TOCSIN_SECRET_ARN', SECRET_ARN);
    vi.stubEnv('TOCSIN_RESOLVED_TTL_SECONDS', String(RESOLVED_TTL_SECONDS));
    resetRuntime();
    sqs = mockSqs();
    store = mockConfigStore(CONFIG, { AUDIT_URL });
    output = captureOutput();
  });
  afterEach(() => {
    output.restore();
    expect(output.text()).not.toContain('SECRETPATH');
    sqs.restore();
    store.ssm.restore();
    store.secrets.restore();
    vi.unstubAllEnvs();
  });

  const storedRecord = async (fingerprint: string): Promise<Record<string, unknown> | undefined> => {
    const { Item } = await dynalite.client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: fingerprint } }, ConsistentRead: true }));
    return Item ? unmarshall(Item) : undefined;
  };

  it('opens a new incident and queues one delivery job per routed channel', async () => {
    const incident = incidentOf('lambda-sns-single-metric-alarm.json');
    const response = await dispatch([incidentRecord({ incident, receivedAt: RECEIVED_AT })]);
    expect(response).toEqual({ batchItemFailures: [] });

    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.QueueUrl).toBe(DELIVERIES_QUEUE_URL);
    expect(input.Entries!.map((entry) => entry.Id)).toEqual(['0']);
    const transitionId = transitionIdOf(1, Date.parse(eventTime(incident)));
    expect(JSON.parse(input.Entries![0]!.MessageBody!)).toEqual({ event: 'opened', incident, channel: 'audit', transitionId, attempt: 1, receivedAt: RECEIVED_AT });

    expect(await storedRecord(incident.fingerprint)).toMatchObject({ status: 'firing', version: 1, occurrences: 1, transitionId });
    expect(store.ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
  });

  it('routes a critical alarm to both channels, in route order', async () => {
    const incident = incidentOf('lambda-sns-severity-critical.json');
    expect(incident.severity).toBe('critical');
    await dispatch([incidentRecord({ incident, receivedAt: RECEIVED_AT })]);
    const jobs = messagesTo(sqs, DELIVERIES_QUEUE_URL) as DeliveryMessage[];
    expect(jobs.map((job) => [job.event, job.channel])).toEqual([
      ['opened', 'ops'],
      ['opened', 'audit'],
    ]);
  });

  it('re-makes a redelivered incident’s jobs (same transition), suppresses a plain duplicate, then tells the resolve with the TTL from the environment', async () => {
    const firing = incidentOf('lambda-sns-single-metric-alarm.json');
    const resolved = incidentOf('lambda-sns-single-metric-ok.json');
    expect(resolved.fingerprint).toBe(firing.fingerprint);

    await dispatch([incidentRecord({ incident: firing, receivedAt: RECEIVED_AT })]);
    // Receive count 2: the first attempt may have died before queueing its jobs; the same
    // transition's jobs are made again (the delivery markers stop a second send).
    expect(await dispatch([incidentRecord({ incident: firing, receivedAt: RECEIVED_AT }, 2)])).toEqual({ batchItemFailures: [] });
    const redone = messagesTo(sqs, DELIVERIES_QUEUE_URL) as DeliveryMessage[];
    expect(redone).toHaveLength(2);
    expect(redone[1]).toMatchObject({ event: 'opened', channel: 'audit', transitionId: redone[0]!.transitionId });
    // A plain duplicate (first receive) makes nothing.
    await dispatch([incidentRecord({ incident: firing, receivedAt: RECEIVED_AT })]);
    expect(messagesTo(sqs, DELIVERIES_QUEUE_URL)).toHaveLength(2);
    expect(await storedRecord(firing.fingerprint)).toMatchObject({ status: 'firing', version: 1, occurrences: 3 });

    const before = Math.floor(Date.now() / 1000);
    // The OK notice arrives a second after its state change (half an hour after the alarm).
    await dispatch([incidentRecord({ incident: resolved, receivedAt: '2026-11-25T02:26:11.000Z' })]);
    const after = Math.floor(Date.now() / 1000);
    const jobs = messagesTo(sqs, DELIVERIES_QUEUE_URL) as DeliveryMessage[];
    expect(jobs).toHaveLength(3);
    expect(jobs[2]).toMatchObject({ event: 'resolved', channel: 'audit', transitionId: transitionIdOf(2, Date.parse(eventTime(resolved))), attempt: 1 });
    // The resolved notice carries the episode's real start, from the stored record.
    expect(jobs[2]!.incident.startsAt).toBe(firing.startsAt);

    const record = await storedRecord(firing.fingerprint);
    expect(record).toMatchObject({ status: 'resolved', version: 2 });
    const expiresAt = record!['expiresAt'] as number;
    expect(expiresAt).toBeGreaterThanOrEqual(before + RESOLVED_TTL_SECONDS);
    expect(expiresAt).toBeLessThanOrEqual(after + RESOLVED_TTL_SECONDS);

    const decisions = output.metrics().filter((metric) => 'Decisions' in metric.values);
    expect(decisions.map((metric) => [metric.dimensions['action'], metric.values['Decisions']])).toEqual([
      ['opened', 1],
      ['suppressed', 1],
      ['suppressed', 1],
      ['resolved', 1],
    ]);
  });

  it('fails only the poison records of a batch; the good ones are dispatched once', async () => {
    const good = incidentRecord({ incident: incidentOf('lambda-sns-composite-alarm.json'), receivedAt: RECEIVED_AT });
    const notJson = incidentRecord('{"incident": ');
    const { title: _title, ...withoutTitle } = incidentOf('lambda-sns-second-resource-alarm.json');
    const invalid = incidentRecord({ incident: withoutTitle, receivedAt: RECEIVED_AT });
    const alsoGood = incidentRecord({ incident: incidentOf('lambda-sns-legacy-alarm.json'), receivedAt: RECEIVED_AT });

    const response = await dispatch([good, notJson, invalid, alsoGood]);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: notJson.messageId }, { itemIdentifier: invalid.messageId }] });
    const jobs = messagesTo(sqs, DELIVERIES_QUEUE_URL) as DeliveryMessage[];
    expect(jobs.map((job) => job.incident.source.rule).sort()).toEqual([incidentOf('lambda-sns-composite-alarm.json').source.rule, incidentOf('lambda-sns-legacy-alarm.json').source.rule].sort());

    const poison = output.records().filter((record) => record['message'] === 'poison incident message');
    expect(poison.map((record) => record['messageId'])).toEqual([notJson.messageId, invalid.messageId]);
    expect(String(poison[1]!['errorMessage'])).toContain('incident.title');
  });

  it('fails the record when the deliveries queue refuses the jobs, so SQS redelivers it', async () => {
    sqs.on(SendMessageBatchCommand).rejects(new Error('Service Unavailable'));
    const record = incidentRecord({ incident: incidentOf('lambda-sns-single-metric-alarm.json'), receivedAt: RECEIVED_AT });
    expect(await dispatch([record])).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
  });

  it('throws (the whole batch returns) when the config cannot be loaded', async () => {
    store.ssm.on(GetParameterCommand).resolves({ Parameter: { Name: CONFIG_PARAMETER, Value: '{"channels": {}, "routes": []}' } });
    const record = incidentRecord({ incident: incidentOf('lambda-sns-single-metric-alarm.json'), receivedAt: RECEIVED_AT });
    await expect(dispatch([record])).rejects.toThrow(/invalid Tocsin config in SSM parameter \/tocsin\/config/);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('throws, logging which setting is missing, when STATE_TABLE_NAME is not set', async () => {
    vi.stubEnv('STATE_TABLE_NAME', '');
    const record = incidentRecord({ incident: incidentOf('lambda-sns-single-metric-alarm.json'), receivedAt: RECEIVED_AT });
    await expect(dispatch([record])).rejects.toThrow('environment variable STATE_TABLE_NAME is not set');
    const errors = output.records().filter((line) => line['level'] === 'ERROR');
    expect(errors).toEqual([expect.objectContaining({ message: 'configuration unavailable; the batch will be retried', errorName: 'RuntimeSettingError' })]);
  });

  it('refuses an event that is not from SQS', async () => {
    await expect(handler({ Records: [{ EventSource: 'aws:sns' }] }, context)).rejects.toThrow('dispatch expects an SQS event');
  });
});
