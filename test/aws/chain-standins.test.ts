// The chain's stand-ins checked through the real AWS SDK v3 clients, so the chain test rests on
// the protocol and the limits as the SDK sees them: SQS errors arrive as the SDK's typed
// exceptions with SQS's codes, batch entries fail alone, visibility and redrive follow the clock.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  ChangeMessageVisibilityCommand,
  InvalidMessageContents,
  MessageNotInflight,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
  TooManyEntriesInBatchRequest,
  BatchRequestTooLong,
} from '@aws-sdk/client-sqs';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from './chain/clock.ts';
import { ParameterStoreStandIn, SecretsManagerStandIn } from './chain/config-store.ts';
import { REGION, SqsStandIn, type Queue } from './chain/sqs.ts';

const credentials = { accessKeyId: 'ASIACHAINTESTEXAMPLE', secretAccessKey: 'example' };

describe('chain stand-ins over the SDK', () => {
  const clock = new VirtualClock(Date.UTC(2026, 11, 2, 9, 0, 0));
  const sqs = new SqsStandIn(clock);
  const ssm = new ParameterStoreStandIn();
  const secrets = new SecretsManagerStandIn();
  let client: SQSClient;
  let work: Queue;

  beforeAll(async () => {
    await Promise.all([sqs.start(), ssm.start(), secrets.start()]);
    sqs.createQueue('work-dlq');
    work = sqs.createQueue('work', { visibilityTimeoutSeconds: 30, deadLetter: { queue: 'work-dlq', maxReceiveCount: 2 } });
    client = new SQSClient({ region: REGION, endpoint: sqs.endpoint, credentials, maxAttempts: 1 });
  });
  afterAll(async () => {
    client.destroy();
    await Promise.all([sqs.close(), ssm.close(), secrets.close()]);
  });

  it('refuses characters outside the XML set, per entry in a batch and whole in SendMessage', async () => {
    await expect(client.send(new SendMessageCommand({ QueueUrl: work.url, MessageBody: 'bad \uFFFF here' }))).rejects.toBeInstanceOf(InvalidMessageContents);
    const batch = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: work.url,
        Entries: [
          { Id: 'good', MessageBody: 'tab\tand emoji \u{1F525}' },
          { Id: 'bad', MessageBody: 'noncharacter \uFFFE' },
        ],
      }),
    );
    expect(batch.Successful?.map((entry) => entry.Id)).toEqual(['good']);
    expect(batch.Failed).toEqual([expect.objectContaining({ Id: 'bad', SenderFault: true, Code: 'InvalidMessageContents' })]);
    work.messages.splice(0);
  });

  it('holds the batch limits: 10 entries and the maximum message size for the whole batch', async () => {
    const entries = Array.from({ length: 11 }, (_, index) => ({ Id: String(index), MessageBody: 'x' }));
    await expect(client.send(new SendMessageBatchCommand({ QueueUrl: work.url, Entries: entries }))).rejects.toBeInstanceOf(TooManyEntriesInBatchRequest);
    const big = 'y'.repeat(140 * 1024);
    await expect(
      client.send(new SendMessageBatchCommand({ QueueUrl: work.url, Entries: [{ Id: 'a', MessageBody: big }, { Id: 'b', MessageBody: big }] })),
    ).rejects.toBeInstanceOf(BatchRequestTooLong);
    await expect(client.send(new SendMessageCommand({ QueueUrl: work.url, MessageBody: 'z'.repeat(256 * 1024 + 1) }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    expect(work.messages).toEqual([]);
  });

  it('redelivers after the visibility timeout on the virtual clock, then redrives to the DLQ and back', async () => {
    await client.send(new SendMessageCommand({ QueueUrl: work.url, MessageBody: 'job' }));
    const [first] = sqs.receive('work', 10);
    expect(first?.message.receiveCount).toBe(1);
    expect(sqs.receive('work', 10)).toEqual([]);
    await expect(client.send(new ChangeMessageVisibilityCommand({ QueueUrl: work.url, ReceiptHandle: first!.receiptHandle, VisibilityTimeout: 43_201 }))).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    });
    await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: work.url, ReceiptHandle: first!.receiptHandle, VisibilityTimeout: 600 }));
    clock.advance(599_000);
    expect(sqs.receive('work', 10)).toEqual([]);
    clock.advance(1000);
    const [second] = sqs.receive('work', 10);
    expect(second?.message.receiveCount).toBe(2);
    // The first receipt handle is stale now.
    await expect(client.send(new ChangeMessageVisibilityCommand({ QueueUrl: work.url, ReceiptHandle: first!.receiptHandle, VisibilityTimeout: 5 }))).rejects.toBeInstanceOf(MessageNotInflight);
    clock.advance(30_000);
    expect(sqs.receive('work', 10)).toEqual([]);
    expect(sqs.queue('work-dlq').messages.map((message) => message.body)).toEqual(['job']);

    await client.send(new StartMessageMoveTaskCommand({ SourceArn: sqs.queue('work-dlq').arn }));
    expect(sqs.queue('work-dlq').messages).toEqual([]);
    const [again] = sqs.receive('work', 10);
    expect(again?.message.body).toBe('job');
    expect(again?.message.receiveCount).toBe(1);
    sqs.deleteMessage('work', again!.receiptHandle);
    expect(work.messages).toEqual([]);
  });

  it('answers a missing SSM parameter with ParameterNotFound and a Secrets Manager outage with a 5xx', async () => {
    const ssmClient = new SSMClient({ region: REGION, endpoint: ssm.endpoint, credentials, maxAttempts: 1 });
    await expect(ssmClient.send(new GetParameterCommand({ Name: '/missing' }))).rejects.toBeInstanceOf(ParameterNotFound);
    ssm.put('/present', 'value');
    expect((await ssmClient.send(new GetParameterCommand({ Name: '/present' }))).Parameter?.Value).toBe('value');

    const secretsClient = new SecretsManagerClient({ region: REGION, endpoint: secrets.endpoint, credentials, maxAttempts: 1 });
    const arn = secrets.put('s', '{"A":"1"}');
    expect((await secretsClient.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString).toBe('{"A":"1"}');
    await expect(secretsClient.send(new GetSecretValueCommand({ SecretId: 'other' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    secrets.fail('outage');
    await expect(secretsClient.send(new GetSecretValueCommand({ SecretId: arn }))).rejects.toMatchObject({ name: 'InternalServiceError', $metadata: { httpStatusCode: 500 } });
    secrets.fail('throttling');
    await expect(secretsClient.send(new GetSecretValueCommand({ SecretId: arn }))).rejects.toMatchObject({ name: 'ThrottlingException' });
    secrets.fail(undefined);
    ssmClient.destroy();
    secretsClient.destroy();
  });
});
