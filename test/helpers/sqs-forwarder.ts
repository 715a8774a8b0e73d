// The SQS side of a forwarder test. No SQS runs locally, so the client is aws-sdk-client-mock'ed
// and tests assert the exact SendMessageBatch requests the forwarder made.
import { SendMessageBatchCommand, SQSClient, type SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { vi } from 'vitest';
import { forwarderFromEnv, type Forwarder } from '../../shared/ingest/forwarder.ts';

export const INCIDENTS_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/111122223333/tocsin-incidents';
export const REJECTED_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/111122223333/tocsin-rejected';

export function mockSqs() {
  const sqs = mockClient(SQSClient);
  sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
    Successful: (input.Entries ?? []).map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id ?? ''}`, MD5OfMessageBody: 'x' })),
    Failed: [],
  }));
  return sqs;
}

export function testForwarder(token: string, maxBodyBytes = 64 * 1024): Forwarder {
  return forwarderFromEnv(
    { INCIDENTS_QUEUE_URL, REJECTED_QUEUE_URL, TOCSIN_INGEST_TOKEN: token, TOCSIN_MAX_BODY_BYTES: String(maxBodyBytes) },
    new SQSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'example' } }),
  );
}

/** The messages sent to one queue, parsed. */
export function sentTo(sqs: ReturnType<typeof mockSqs>, queueUrl: string): unknown[] {
  return sqs
    .commandCalls(SendMessageBatchCommand)
    .map((call) => call.args[0].input)
    .filter((input) => input.QueueUrl === queueUrl)
    .flatMap((input) => (input.Entries ?? []).map((entry) => JSON.parse(entry.MessageBody ?? 'null') as unknown));
}

/** The app settings a forwarder is built from, without TOCSIN_INGEST_TOKEN (vi.unstubAllEnvs undoes it). */
export function stubForwarderSettingsWithoutToken(): void {
  vi.stubEnv('INCIDENTS_QUEUE_URL', INCIDENTS_QUEUE_URL);
  vi.stubEnv('REJECTED_QUEUE_URL', REJECTED_QUEUE_URL);
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('TOCSIN_INGEST_TOKEN', undefined);
}

/** The log records in which a forwarder said it refuses every request. */
export function misconfiguredLogRecords(records: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return records.filter((record) => record['message'] === 'forwarder misconfigured: refusing every request');
}
