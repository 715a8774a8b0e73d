// deliver honours rate limits per channel target, on a fake clock (Date only; the HTTP server,
// dynalite and the SDK run for real): jobs over the limit go back on the deliveries queue as new
// messages delayed until their reserved slot (SendMessage with DelaySeconds, at most 15 minutes
// a hop), holding the slot and their failed attempts so far, so a wait never counts toward
// maxAttempts or the queue's maxReceiveCount; a 429's Retry-After holds back every job to the
// target; the rate state lives on the state table with the calls deliver's grant allows.
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../functions/aws/deliver.ts';
import { rateKeyOf } from '../../shared/delivery/rate-limit.ts';
import type { Incident } from '../../shared/incident.ts';
import { normalize } from '../../shared/normalize.ts';
import { resetRuntime, type DeliveryMessage } from '../../shared/runtime/index.ts';
import { STATE_TABLE_ACTIONS } from '../../infra/tocsin-pipeline.ts';
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
  type SqsMock,
} from './support.ts';

const T0 = Date.parse('2026-12-02T09:00:00.000Z');
const MAX_ATTEMPTS = 4;

const incidentOf = (n: number): Incident => {
  const base = normalize(fixture('cloudwatch', 'lambda-sns-single-metric-alarm.json'), { receivedAt: new Date(T0), source: 'cloudwatch' }).incidents[0]!;
  return { ...base, fingerprint: `cloudwatch:${n.toString(16).padStart(32, '0')}` };
};
const jobFor = (n: number, extra: Partial<DeliveryMessage> = {}): DeliveryMessage => ({
  event: 'opened',
  incident: incidentOf(n),
  channel: 'hook',
  transitionId: 'v1.1795571770517',
  attempt: 1,
  receivedAt: new Date(T0).toISOString(),
  ...extra,
});

let counter = 0;
const recordOf = (body: DeliveryMessage, receiveCount = 1) => {
  counter += 1;
  return sqsRecord(JSON.stringify(body), { messageId: `rate-${String(counter)}`, queueArn: DELIVERIES_QUEUE_ARN, receiveCount });
};

describe('deliver handler, rate limits', () => {
  let dynalite: RunningDynalite;
  let recorder: HttpRecorder;
  let sqs: SqsMock;
  let store: ReturnType<typeof mockConfigStore>;
  let table: string;
  let tableCounter = 0;
  const context = lambdaContext('tocsin-deliver');
  const deliver = (records: ReturnType<typeof recordOf>[]): Promise<SQSBatchResponse> => handler({ Records: records }, context);
  const hits = () => recorder.requests.filter((request) => request.path === '/hook');
  /** Jobs deliver put back on the deliveries queue, with their delay, in order. */
  const requeued = () =>
    sqs
      .commandCalls(SendMessageCommand)
      .map((call) => call.args[0].input)
      .filter((input) => input.QueueUrl === DELIVERIES_QUEUE_URL)
      .map((input) => ({ delaySeconds: input.DelaySeconds, body: JSON.parse(input.MessageBody ?? '{}') as DeliveryMessage }));

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
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
    tableCounter += 1;
    table = `tocsin-rate-${String(tableCounter)}`;
    await dynalite.createTable(table);
    recorder.requests.length = 0;
    recorder.respondWith(() => ({ status: 200, body: 'ok' }));
    stubAwsEnvironment();
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynalite.endpoint);
    vi.stubEnv('STATE_TABLE_NAME', table);
    vi.stubEnv('DELIVERIES_QUEUE_URL', DELIVERIES_QUEUE_URL);
    vi.stubEnv('DELIVERIES_DLQ_URL', DELIVERIES_DLQ_URL);
    vi.stubEnv('TOCSIN_CONFIG_PARAMETER', CONFIG_PARAMETER);
    vi.stubEnv('TOCSIN_SECRET_ARN', SECRET_ARN);
    resetRuntime();
    sqs = mockSqs();
    store = mockConfigStore({
      channels: { hook: { type: 'webhook', url: `${recorder.url}/hook` } },
      routes: [{ channels: ['hook'] }],
      defaults: { maxAttempts: MAX_ATTEMPTS, sendTimeout: '5s' },
      rateLimits: { channels: { hook: { limit: 1, per: '1s' } } },
    }, {});
  });
  afterEach(() => {
    vi.useRealTimers();
    sqs.restore();
    store.ssm.restore();
    store.secrets.restore();
    vi.unstubAllEnvs();
  });

  it('sends one a second: the others go back on the queue delayed until their slots, and go out at them', async () => {
    // A batch of three at once (Powertools handles them in parallel): one goes, two wait.
    expect(await deliver([recordOf(jobFor(1)), recordOf(jobFor(2)), recordOf(jobFor(3))])).toEqual({ batchItemFailures: [] });
    expect(hits()).toHaveLength(1);
    const waits = requeued();
    expect(waits.map((wait) => [wait.delaySeconds, wait.body.rateSlotAtMs])).toEqual(
      expect.arrayContaining([
        [1, T0 + 1_000],
        [2, T0 + 2_000],
      ]),
    );
    expect(waits.every((wait) => wait.body.attempt === 1 && wait.body.priorAttempts === 0)).toBe(true);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(0);

    const bySlot = [...waits].sort((a, b) => (a.body.rateSlotAtMs ?? 0) - (b.body.rateSlotAtMs ?? 0));
    // Each comes back as a new message (receive count 1) at its slot: sent, nothing more queued.
    vi.setSystemTime(T0 + 1_000);
    expect(await deliver([recordOf(bySlot[0]!.body)])).toEqual({ batchItemFailures: [] });
    // The other one, early (SQS delays are whole seconds and approximate): it waits for its own slot, still held.
    expect(await deliver([recordOf(bySlot[1]!.body)])).toEqual({ batchItemFailures: [] });
    expect(hits()).toHaveLength(2);
    expect(requeued().slice(2).map((wait) => [wait.delaySeconds, wait.body.rateSlotAtMs])).toEqual([[1, T0 + 2_000]]);
    vi.setSystemTime(T0 + 2_000);
    expect(await deliver([recordOf(requeued()[2]!.body)])).toEqual({ batchItemFailures: [] });
    expect(hits()).toHaveLength(3);
    expect(new Set(hits().map((hit) => (JSON.parse(hit.body) as { incident: Incident }).incident.fingerprint)).size).toBe(3);
    expect(requeued()).toHaveLength(3);

    // The target's state is on the state table under a hash of the URL, not the URL.
    const key = rateKeyOf('webhook', `${recorder.url}/hook`);
    const item = await dynalite.client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: key } } }));
    expect(item.Item?.['state']?.S).toBeDefined();
    expect(JSON.stringify(item.Item)).not.toContain(recorder.url);
    // Every state-table call is one deliver's grant allows.
    const used = Object.keys(dynalite.calls()).filter((operation) => operation !== 'CreateTable' && operation !== 'DescribeTable');
    expect(used.map((operation) => `dynamodb:${operation}`).filter((action) => !(STATE_TABLE_ACTIONS as readonly string[]).includes(action))).toEqual([]);
  });

  it('hops a wait longer than 15 minutes, and never counts waits as attempts', async () => {
    store.ssm.restore();
    store.secrets.restore();
    store = mockConfigStore({
      channels: { hook: { type: 'webhook', url: `${recorder.url}/hook` } },
      routes: [{ channels: ['hook'] }],
      defaults: { maxAttempts: MAX_ATTEMPTS, sendTimeout: '5s' },
      rateLimits: { channels: { hook: { limit: 1, per: '1h' } } },
    }, {});
    expect(await deliver([recordOf(jobFor(1))])).toEqual({ batchItemFailures: [] });
    // Three failed attempts before (two receives of an earlier message, one of this): still within maxAttempts.
    expect(await deliver([recordOf(jobFor(2, { priorAttempts: 2 }), 1)])).toEqual({ batchItemFailures: [] });
    const [wait] = requeued();
    expect(wait).toMatchObject({ delaySeconds: 900, body: { rateSlotAtMs: T0 + 3_600_000, priorAttempts: 2, attempt: 1 } });
    // Every 15 minutes it comes back and waits on, for an hour: no receive of it is counted.
    for (let hop = 1; hop <= 3; hop += 1) {
      vi.setSystemTime(T0 + hop * 900_000);
      expect(await deliver([recordOf(requeued().at(-1)!.body)])).toEqual({ batchItemFailures: [] });
    }
    expect(requeued().map((next) => next.delaySeconds)).toEqual([900, 900, 900, 900]);
    expect(requeued().every((next) => next.body.priorAttempts === 2)).toBe(true);
    vi.setSystemTime(T0 + 3_600_000);
    recorder.respondWith(() => ({ status: 500, body: 'down' }));
    // At its slot the send fails: attempt 3 of 4, retried the usual way (visibility).
    expect((await deliver([recordOf(requeued().at(-1)!.body)])).batchItemFailures).toHaveLength(1);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(1);
    expect(sqs.commandCalls(SendMessageCommand).filter((call) => call.args[0].input.QueueUrl === DELIVERIES_DLQ_URL)).toHaveLength(0);
  });

  it("holds back every job to a target for a 429's Retry-After, and does not count the 429", async () => {
    recorder.respondWith(() => ({ status: 429, headers: { 'retry-after': '30' }, body: 'slow down' }));
    expect(await deliver([recordOf(jobFor(1))])).toEqual({ batchItemFailures: [] });
    expect(requeued()).toEqual([{ delaySeconds: 30, body: { ...jobFor(1), priorAttempts: 0, throttled: 1 } }]);

    // A second later the limiter alone would let another through; the block keeps it back.
    recorder.respondWith(() => ({ status: 200 }));
    vi.setSystemTime(T0 + 1_000);
    expect(await deliver([recordOf(jobFor(2))])).toEqual({ batchItemFailures: [] });
    expect(hits()).toHaveLength(1);
    expect(requeued()[1]).toMatchObject({ delaySeconds: 29, body: { rateSlotAtMs: T0 + 30_000 } });

    // At the block's end the slots resume in the order they were reserved: the second job holds
    // the first, the throttled one (no slot: it had been sent) takes the next, a second on.
    vi.setSystemTime(T0 + 30_000);
    expect(await deliver([recordOf(requeued()[1]!.body), recordOf(requeued()[0]!.body)])).toEqual({ batchItemFailures: [] });
    expect(hits()).toHaveLength(2);
    expect(requeued()[2]).toMatchObject({ delaySeconds: 1, body: { rateSlotAtMs: T0 + 31_000, throttled: 1, priorAttempts: 0 } });
    vi.setSystemTime(T0 + 31_000);
    expect(await deliver([recordOf(requeued()[2]!.body)])).toEqual({ batchItemFailures: [] });
    expect(hits()).toHaveLength(3);
  });

  it('bounds a Retry-After beyond rateLimits.maxWait (15 minutes by default)', async () => {
    recorder.respondWith(() => ({ status: 429, headers: { 'retry-after': 'Fri, 31 Dec 9999 23:59:59 GMT' } }));
    expect(await deliver([recordOf(jobFor(1))])).toEqual({ batchItemFailures: [] });
    expect(requeued()).toEqual([{ delaySeconds: 900, body: { ...jobFor(1), priorAttempts: 0, throttled: 1 } }]);
  });
});
