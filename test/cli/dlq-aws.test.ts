// `tocsin dlq list|redrive --aws` as an operator runs it (a real CLI child process), against the
// SQS stand-in over the wire: the dead letters deliver wrote (the job as it was, the reason in
// message attributes) are listed without being taken, and a redrive is SQS's StartMessageMoveTask
// back to the deliveries queue, which leaves each message as deliver first received it (the AWS
// chain test shows deliver then sends it: test/aws/chain-delivery.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadLetterAttributes } from '../../functions/aws/dead-letter.ts';
import { VirtualClock } from '../aws/chain/clock.ts';
import { SqsStandIn, type Queue } from '../aws/chain/sqs.ts';
import { spawnCli } from '../helpers/cli-process.ts';

const clock = new VirtualClock();
const sqs = new SqsStandIn(clock);
let deliveries: Queue;
let deadLetters: Queue;
let env: NodeJS.ProcessEnv;

const job = (fingerprint: string): string =>
  JSON.stringify({ event: 'opened', channel: 'ops-chat', attempt: 1, incident: { fingerprint, title: 'DiskFull on db-1' } });

async function tocsin(args: string[]): Promise<{ code: number | string; output: string }> {
  const cli = spawnCli(args, env);
  const code = await cli.exited;
  return { code, output: cli.output() };
}

beforeAll(async () => {
  await sqs.start();
  deadLetters = sqs.createQueue('tocsin-deliveries-dlq');
  deliveries = sqs.createQueue('tocsin-deliveries', { deadLetter: { queue: 'tocsin-deliveries-dlq', maxReceiveCount: 17 } });
  for (const [fingerprint, reason] of [
    ['alertmanager:0f1e2d', 'HTTP 404 from https://hooks.slack.com/…: no_service'],
    ['cloudwatch:9a8b7c', 'channel ops-chat unavailable: SLACK_WEBHOOK_URL is missing from the channel secret'],
  ] as const) {
    const attributes = deadLetterAttributes(reason, 12, new Date('2026-12-02T03:00:00.000Z'));
    sqs.send(deadLetters.name, job(fingerprint), attributes as Record<string, { DataType: string; StringValue?: string }>);
  }
  env = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIAOPERATOR00000001', AWS_SECRET_ACCESS_KEY: 'operator-secret', AWS_ENDPOINT_URL_SQS: sqs.endpoint };
});

afterAll(async () => {
  await sqs.close();
});

describe('tocsin dlq --aws', () => {
  it('lists the dead letters with their reason and attempts, and leaves them on the queue', async () => {
    const { code, output } = await tocsin(['dlq', 'list', '--aws', '--queue-url', deadLetters.url]);
    expect(code).toBe(0);
    expect(output).toContain('2026-12-02T03:00:00.000Z  opened ops-chat alertmanager:0f1e2d after 12 attempt(s): HTTP 404 from https://hooks.slack.com/…: no_service');
    expect(output).toContain('opened ops-chat cloudwatch:9a8b7c after 12 attempt(s): channel ops-chat unavailable: SLACK_WEBHOOK_URL is missing');
    expect(deadLetters.messages).toHaveLength(2);
    const receive = sqs.calls.find((call) => call.operation === 'ReceiveMessage');
    expect(receive?.input).toMatchObject({ QueueUrl: deadLetters.url, MessageAttributeNames: ['All'], VisibilityTimeout: 1 });
    expect(receive?.signedBy?.accessKeyId).toBe('AKIAOPERATOR00000001');
  });

  it('prints them as JSON with --json', async () => {
    // The listing hid them for SQS's shortest visibility timeout, one second.
    clock.advance(1_000);
    const { code, output } = await tocsin(['dlq', 'list', '--aws', '--queue-url', deadLetters.url, '--json']);
    expect(code).toBe(0);
    const letters = JSON.parse(output) as { reason: string; attempts: number; body: string }[];
    expect(letters.map((letter) => [letter.attempts, JSON.parse(letter.body) as unknown])).toEqual([
      [12, JSON.parse(job('alertmanager:0f1e2d'))],
      [12, JSON.parse(job('cloudwatch:9a8b7c'))],
    ]);
  });

  it('redrives them to the deliveries queue with StartMessageMoveTask, bodies unchanged', async () => {
    const { code, output } = await tocsin([
      'dlq', 'redrive', '--aws', '--source-arn', deadLetters.arn, '--destination-arn', deliveries.arn,
    ]);
    expect(code, output).toBe(0);
    expect(output).toMatch(/^SQS is moving the dead letters back \(task .+\)/);
    expect(sqs.calls.at(-1)).toMatchObject({ operation: 'StartMessageMoveTask', input: { SourceArn: deadLetters.arn, DestinationArn: deliveries.arn } });
    expect(deadLetters.messages).toEqual([]);
    expect(deliveries.messages.map((message) => message.body)).toEqual([job('alertmanager:0f1e2d'), job('cloudwatch:9a8b7c')]);
  });

  it('refuses a redrive without both ARNs, saying why', async () => {
    const { code, output } = await tocsin(['dlq', 'redrive', '--aws', '--source-arn', deadLetters.arn]);
    expect(code).toBe(2);
    expect(output).toContain('dlq redrive --aws needs --source-arn (the dead-letter queue) and --destination-arn (its work queue)');
  });
});
