// deliver with a Slack channel in bot mode: the message ref is kept on the real state table
// (dynalite), so a resolve delivered by another invocation edits the message the opening one
// posted (chat.update on a local Slack Web API) and replies in its thread.
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../functions/aws/deliver.ts';
import { incidentSchema, type Incident } from '../../shared/incident.ts';
import { resetRuntime, type DeliveryMessage } from '../../shared/runtime/index.ts';
import { CHAT_FIRING, chatResolved } from '../fixtures/channels/incidents.ts';
import { STATE_TABLE_ACTIONS } from '../../infra/tocsin-pipeline.ts';
import { startDynalite, type RunningDynalite } from '../helpers/dynalite.ts';
import { startFakeSlack, type FakeSlack } from '../helpers/slack-api.ts';
import {
  CONFIG_PARAMETER,
  DELIVERIES_DLQ_URL,
  DELIVERIES_QUEUE_ARN,
  DELIVERIES_QUEUE_URL,
  captureOutput,
  lambdaContext,
  mockConfigStore,
  mockSqs,
  SECRET_ARN,
  sqsRecord,
  stubAwsEnvironment,
  type OutputCapture,
  type SqsMock,
} from './support.ts';

const TOKEN = 'xoxb-1111-2222-SecretDeliverToken';
const CHANNEL = 'C0PAGE1234';

describe('deliver handler, Slack bot mode', () => {
  let dynalite: RunningDynalite;
  let slack: FakeSlack;
  let sqs: SqsMock;
  let store: ReturnType<typeof mockConfigStore>;
  let output: OutputCapture;
  const table = 'tocsin-deliver-slack';
  const context = lambdaContext('tocsin-deliver');

  beforeAll(async () => {
    dynalite = await startDynalite();
    await dynalite.createTable(table);
    slack = await startFakeSlack({ token: TOKEN, channels: [CHANNEL] });
  });
  afterAll(async () => {
    resetRuntime();
    await slack.close();
    await dynalite.close();
  });
  beforeEach(() => {
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
        channels: { 'ops-chat': { type: 'slack', botToken: '${SLACK_BOT_TOKEN}', channelId: CHANNEL, apiUrl: slack.apiUrl } },
        routes: [{ channels: ['ops-chat'] }],
        // Three notices within a second, about edits, not pace (deliver-rate.test.ts has the pace).
        rateLimits: { channels: { 'ops-chat': 'off' } },
      },
      { SLACK_BOT_TOKEN: TOKEN },
    );
    output = captureOutput();
  });
  afterEach(() => {
    output.restore();
    expect(output.text()).not.toContain('SecretDeliverToken');
    sqs.restore();
    store.ssm.restore();
    store.secrets.restore();
    vi.unstubAllEnvs();
  });

  let counter = 0;
  const deliver = (job: DeliveryMessage): Promise<SQSBatchResponse> => {
    counter += 1;
    return handler({ Records: [sqsRecord(JSON.stringify(job), { messageId: `slack-${String(counter)}`, queueArn: DELIVERIES_QUEUE_ARN, receiveCount: 1 })] }, context);
  };
  const job = (event: DeliveryMessage['event'], incident: Incident, transitionId: string): DeliveryMessage => ({
    event,
    incident,
    channel: 'ops-chat',
    transitionId,
    attempt: 1,
    receivedAt: '2026-11-25T10:05:00.000Z',
  });

  it('edits the opening message on resolve, from a later invocation, through the state table', async () => {
    const incident = incidentSchema.parse({ ...CHAT_FIRING.alertmanager, fingerprint: 'alertmanager:5eed5eed5eed5eed5eed5eed5eed5eed' });
    expect(await deliver(job('opened', incident, 'v1.1764064800000'))).toEqual({ batchItemFailures: [] });
    const [original] = slack.topLevel(CHANNEL);
    const ref = await dynalite.client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: `message#${incident.fingerprint}#ops-chat` } } }));
    expect(ref.Item?.['ref']).toEqual({ S: `${CHANNEL}:${original!.ts}` });

    resetRuntime(); // another container: nothing in memory carries over
    expect(await deliver(job('renotified', incident, 'v2.1764064860000'))).toEqual({ batchItemFailures: [] });
    expect(await deliver(job('resolved', chatResolved(incident), 'v3.1764064920000'))).toEqual({ batchItemFailures: [] });
    expect(slack.topLevel(CHANNEL)).toHaveLength(1);
    expect(original).toMatchObject({ edits: 1, text: `✅ RESOLVED: ${incident.title}` });
    expect(slack.replies(CHANNEL, original!.ts).map((reply) => reply.text)).toEqual([
      `🔁 STILL FIRING · CRITICAL: ${incident.title}`,
      `✅ RESOLVED: ${incident.title}`,
    ]);
    // Every state-table call deliver made (claims and message refs) is one its IAM grant allows.
    const used = Object.keys(dynalite.calls()).filter((operation) => operation !== 'CreateTable' && operation !== 'DescribeTable');
    expect(used.map((operation) => `dynamodb:${operation}`).filter((action) => !(STATE_TABLE_ACTIONS as readonly string[]).includes(action))).toEqual([]);
  });
});
