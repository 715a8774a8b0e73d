// The reminders function on dynalite: it reads the sparse due index (Query, never Scan) and hands
// each due record to dispatch on the incidents queue; dispatch (the real handler, on the same
// table) decides. Two concurrent runs, and their due messages dispatched concurrently, make each
// reminder once; a redelivered due message re-makes the same transition (the delivery claims
// drop it); auto-resolve happens once. Records are written through the dispatch handler with the
// clock set back (only Date is faked: timers and the SDK's I/O run normally).
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as dispatchHandler } from '../../functions/aws/dispatch.ts';
import { handler as remindersHandler } from '../../functions/aws/reminders.ts';
import type { Incident } from '../../shared/incident.ts';
import { normalize } from '../../shared/normalize.ts';
import { queryDue } from '../../shared/dedup/dynamodb-store.ts';
import { resetRuntime, sendDueRecords, type DeliveryMessage, type DueMessage } from '../../shared/runtime/index.ts';
import { startDynalite, type RunningDynalite } from '../helpers/dynalite.ts';
import {
  CONFIG_PARAMETER,
  DELIVERIES_QUEUE_URL,
  fixture,
  INCIDENTS_QUEUE_ARN,
  INCIDENTS_QUEUE_URL,
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

const MINUTE = 60_000;
const CONFIG = {
  channels: { ops: { type: 'webhook', url: 'https://ops.example.com/hook' }, audit: { type: 'webhook', url: 'https://audit.example.com/hook' } },
  routes: [{ channels: ['ops', 'audit'] }],
  defaults: { renotifyAfter: '10m' },
};

const incidentOf = (name: string): Incident =>
  normalize(fixture('cloudwatch', name), { receivedAt: new Date('2026-11-25T01:56:11.000Z'), source: 'cloudwatch' }).incidents[0]!;

let counter = 0;
function queueRecord(body: unknown, receiveCount = 1) {
  counter += 1;
  return sqsRecord(JSON.stringify(body), { messageId: `msg-${String(counter)}`, queueArn: INCIDENTS_QUEUE_ARN, receiveCount });
}

describe('reminders function', () => {
  let dynalite: RunningDynalite;
  let sqs: SqsMock;
  let configStore: ReturnType<typeof mockConfigStore>;
  let output: OutputCapture;
  let table: string;
  let tables = 0;

  const dispatchAt = async (at: Date, bodies: unknown[], receiveCount = 1) => {
    vi.useFakeTimers({ toFake: ['Date'], now: at });
    try {
      return await dispatchHandler({ Records: bodies.map((body) => queueRecord(body, receiveCount)) }, lambdaContext('tocsin-dispatch'));
    } finally {
      vi.useRealTimers();
    }
  };
  const remind = () => remindersHandler({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }, lambdaContext('tocsin-reminders'));
  const dueMessages = (): DueMessage[] => messagesTo(sqs, INCIDENTS_QUEUE_URL) as DueMessage[];
  const jobs = (): DeliveryMessage[] => messagesTo(sqs, DELIVERIES_QUEUE_URL) as DeliveryMessage[];
  const stored = async (fingerprint: string): Promise<Record<string, unknown> | undefined> => {
    const { Item } = await dynalite.client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: fingerprint } }, ConsistentRead: true }));
    return Item ? unmarshall(Item) : undefined;
  };

  beforeAll(async () => {
    dynalite = await startDynalite();
  });
  afterAll(async () => {
    resetRuntime();
    await dynalite.close();
  });
  beforeEach(async () => {
    tables += 1;
    table = `tocsin-reminders-${String(tables)}`;
    await dynalite.createTable(table);
    stubAwsEnvironment();
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynalite.endpoint);
    vi.stubEnv('STATE_TABLE_NAME', table);
    vi.stubEnv('DELIVERIES_QUEUE_URL', DELIVERIES_QUEUE_URL);
    vi.stubEnv('INCIDENTS_QUEUE_URL', INCIDENTS_QUEUE_URL);
    vi.stubEnv('TOCSIN_CONFIG_PARAMETER', CONFIG_PARAMETER);
    vi.stubEnv('TOCSIN_SECRET_ARN', SECRET_ARN);
    resetRuntime();
    sqs = mockSqs();
    configStore = mockConfigStore(CONFIG, {});
    output = captureOutput();
  });
  afterEach(() => {
    output.restore();
    sqs.restore();
    configStore.ssm.restore();
    configStore.secrets.restore();
    vi.unstubAllEnvs();
  });

  it('hands on only what is due, from the index; two concurrent runs remind each channel once', async () => {
    const now = Date.now();
    const due = incidentOf('lambda-sns-severity-critical.json');
    const notYet = incidentOf('lambda-sns-composite-alarm.json');
    const firing = incidentOf('lambda-sns-single-metric-alarm.json');
    const resolved = incidentOf('lambda-sns-single-metric-ok.json');
    const receivedAt = (at: number) => new Date(at).toISOString();
    await dispatchAt(new Date(now - 15 * MINUTE), [{ incident: due, receivedAt: receivedAt(now - 15 * MINUTE) }]);
    await dispatchAt(new Date(now - 5 * MINUTE), [{ incident: notYet, receivedAt: receivedAt(now - 5 * MINUTE) }]);
    await dispatchAt(new Date(now - 15 * MINUTE), [{ incident: firing, receivedAt: receivedAt(now - 15 * MINUTE) }]);
    await dispatchAt(new Date(now - 14 * MINUTE), [{ incident: resolved, receivedAt: receivedAt(now - 14 * MINUTE) }]);
    const told = jobs().length;
    const before = dynalite.calls();

    const runs = await Promise.all([remind(), remind()]);
    expect(runs.map((run) => run.sent)).toEqual([1, 1]);
    const messages = dueMessages();
    expect(messages).toEqual([
      { kind: 'due', fingerprint: due.fingerprint, dueAt: new Date(now - 5 * MINUTE).toISOString() },
      { kind: 'due', fingerprint: due.fingerprint, dueAt: new Date(now - 5 * MINUTE).toISOString() },
    ]);
    // The index was queried; the table was never scanned.
    const calls = dynalite.calls();
    expect((calls['Query'] ?? 0) - (before['Query'] ?? 0)).toBe(2);
    expect(calls['Scan']).toBeUndefined();

    // Two dispatch invocations at once, one due message each: one reminder per channel.
    const responses = await Promise.all(messages.map((message) => dispatchHandler({ Records: [queueRecord(message)] }, lambdaContext('tocsin-dispatch'))));
    expect(responses).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    const reminders = jobs().slice(told);
    expect(reminders.map((job) => [job.event, job.channel]).sort()).toEqual([
      ['renotified', 'audit'],
      ['renotified', 'ops'],
    ]);
    expect(reminders[0]!.transitionId).toBe(reminders[1]!.transitionId);
    // The notice says which reminder it is.
    expect(reminders.map((job) => job.state)).toEqual([{ reminder: 1 }, { reminder: 1 }]);
    // Not heard from the source: the occurrences stay; the next reminder is renotifyAfter later.
    expect(await stored(due.fingerprint)).toMatchObject({ status: 'firing', version: 2, occurrences: 1, reminders: 1 });
    expect(Number((await stored(due.fingerprint))?.['dueAt'])).toBeGreaterThanOrEqual(now + 10 * MINUTE);

    // Nothing is due any more.
    expect((await remind()).sent).toBe(0);
    // A due message redelivered (its first attempt may have lost its jobs) re-makes the same
    // transition, which the delivery claims then drop; a new transition it never makes.
    await dispatchHandler({ Records: [queueRecord(messages[0], 2)] }, lambdaContext('tocsin-dispatch'));
    const remade = jobs().slice(told + 2);
    expect(remade.map((job) => job.transitionId)).toEqual([reminders[0]!.transitionId, reminders[0]!.transitionId]);
    expect((await stored(due.fingerprint))?.['version']).toBe(2);
  });

  it('auto-resolves a firing nothing was heard of, once, and tells it', async () => {
    configStore.ssm.on(GetParameterCommand).resolves({
      Parameter: { Name: CONFIG_PARAMETER, Type: 'String', Value: JSON.stringify({ ...CONFIG, defaults: { renotifyAfter: '0s', autoResolveAfter: '5m' } }), Version: 4 },
    });
    const now = Date.now();
    const firing = incidentOf('lambda-sns-single-metric-alarm.json');
    await dispatchAt(new Date(now - 6 * MINUTE), [{ incident: firing, receivedAt: new Date(now - 6 * MINUTE).toISOString() }]);
    expect(jobs().map((job) => job.event)).toEqual(['opened', 'opened']);

    await remind();
    await remind();
    await dispatchHandler({ Records: dueMessages().map((message) => queueRecord(message)) }, lambdaContext('tocsin-dispatch'));
    const resolvedJobs = jobs().slice(2);
    expect(resolvedJobs.map((job) => job.event)).toEqual(['resolved', 'resolved']);
    expect(resolvedJobs[0]!.incident.summary).toContain('Auto-resolved');
    expect(await stored(firing.fingerprint)).toMatchObject({ status: 'resolved' });
    expect((await stored(firing.fingerprint))?.['dueAt']).toBeUndefined();
    expect((await remind()).sent).toBe(0);
  });

  it('queries the due index page by page up to the per-run bound (the exact request)', async () => {
    const sent: unknown[] = [];
    const inputs: unknown[] = [];
    const client = {
      send: (command: { input: unknown }) => {
        inputs.push(command.input);
        const page = inputs.length;
        return Promise.resolve({
          Items: [0, 1].map((index) => ({ pk: { S: `cloudwatch:${String(page)}${String(index)}` }, dueAt: { N: String(1000 + page) } })),
          LastEvaluatedKey: { pk: { S: `cloudwatch:${String(page)}1` }, dueShard: { S: 'due' }, dueAt: { N: String(1000 + page) } },
        });
      },
    };
    const result = await sendDueRecords({
      query: (nowMs, limit, startKey) => queryDue(client as never, 'state', nowMs, limit, startKey),
      queue: { send: (items) => Promise.resolve(void sent.push(...items)) },
      now: new Date(5000),
      pageSize: 2,
      maxPerRun: 4,
    });
    expect(result).toEqual({ sent: 4, more: true, oldestLateMs: 3999 });
    expect(inputs).toEqual([
      {
        TableName: 'state',
        IndexName: 'due',
        KeyConditionExpression: '#shard = :shard AND #dueAt <= :now',
        ExpressionAttributeNames: { '#shard': 'dueShard', '#dueAt': 'dueAt' },
        ExpressionAttributeValues: { ':shard': { S: 'due' }, ':now': { N: '5000' } },
        Limit: 2,
      },
      {
        TableName: 'state',
        IndexName: 'due',
        KeyConditionExpression: '#shard = :shard AND #dueAt <= :now',
        ExpressionAttributeNames: { '#shard': 'dueShard', '#dueAt': 'dueAt' },
        ExpressionAttributeValues: { ':shard': { S: 'due' }, ':now': { N: '5000' } },
        Limit: 2,
        ExclusiveStartKey: { pk: { S: 'cloudwatch:11' }, dueShard: { S: 'due' }, dueAt: { N: '1001' } },
      },
    ]);
    expect(sent).toHaveLength(4);
    expect(sent[0]).toEqual({ kind: 'due', fingerprint: 'cloudwatch:10', dueAt: new Date(1001).toISOString() });
  });
});
