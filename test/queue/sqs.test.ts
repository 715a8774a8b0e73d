// SqsJobQueue against a real HTTP server on 127.0.0.1 speaking SQS's JSON protocol (the SDK
// client's endpoint points at it), so the SDK's serialization and MD5 checks run for real.
import { createHash } from 'node:crypto';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { QueueSendError, SqsJobQueue, sqsMessageBody } from '../../shared/queue/sqs.ts';
import { startRecorder, type HttpRecorder, type RecordedRequest, type Reply } from '../helpers/http-recorder.ts';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/tocsin-deliveries';

interface BatchEntry {
  Id: string;
  MessageBody: string;
  DelaySeconds?: number;
}
interface BatchRequest {
  QueueUrl: string;
  Entries: BatchEntry[];
}

const batchOf = (request: RecordedRequest): BatchRequest => JSON.parse(request.body) as BatchRequest;
const md5 = (text: string): string => createHash('md5').update(text, 'utf8').digest('hex');

/** Answers like SQS: every entry accepted, except those `fail` picks. */
function sqsReply(request: RecordedRequest, fail: (entry: BatchEntry) => { Code: string; SenderFault: boolean } | undefined = () => undefined): Reply {
  const { Entries } = batchOf(request);
  const failed = Entries.flatMap((entry) => {
    const failure = fail(entry);
    return failure ? [{ Id: entry.Id, ...failure, Message: 'nope' }] : [];
  });
  const successful = Entries.filter((entry) => !failed.some((failure) => failure.Id === entry.Id)).map((entry) => ({
    Id: entry.Id,
    MessageId: `m-${entry.Id}`,
    MD5OfMessageBody: md5(entry.MessageBody),
  }));
  return {
    status: 200,
    headers: { 'content-type': 'application/x-amz-json-1.0' },
    body: JSON.stringify({ Successful: successful, Failed: failed }),
  };
}

describe('SqsJobQueue', () => {
  let recorder: HttpRecorder;
  let queue: SqsJobQueue<{ n: number; pad?: string }>;
  beforeAll(async () => {
    recorder = await startRecorder();
    const client = new SQSClient({
      endpoint: recorder.url,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' },
      maxAttempts: 1,
    });
    queue = new SqsJobQueue({ client, queueUrl: QUEUE_URL });
  });
  afterAll(async () => {
    await recorder.close();
  });
  beforeEach(() => {
    recorder.requests.length = 0;
    recorder.respondWith((request) => sqsReply(request));
  });

  it('sends items as JSON bodies, ten per SendMessageBatch call', async () => {
    const items = Array.from({ length: 23 }, (_, n) => ({ n }));
    await queue.send(items);
    expect(recorder.requests.map((request) => request.headers['x-amz-target'])).toEqual([
      'AmazonSQS.SendMessageBatch',
      'AmazonSQS.SendMessageBatch',
      'AmazonSQS.SendMessageBatch',
    ]);
    const batches = recorder.requests.map(batchOf);
    expect(batches.map((batch) => batch.Entries.length)).toEqual([10, 10, 3]);
    expect(batches.every((batch) => batch.QueueUrl === QUEUE_URL)).toBe(true);
    const sent = batches.flatMap((batch) => batch.Entries.map((entry) => JSON.parse(entry.MessageBody) as unknown));
    expect(sent).toEqual(items);
  });

  it('makes no call for no items', async () => {
    await queue.send([]);
    expect(recorder.requests).toHaveLength(0);
  });

  it('turns delayMs into whole DelaySeconds, rounded up and capped at 15 minutes', async () => {
    await queue.send([{ n: 1 }]);
    await queue.send([{ n: 2 }], { delayMs: 1_500 });
    await queue.send([{ n: 3 }], { delayMs: 3_600_000 });
    expect(recorder.requests.map((request) => batchOf(request).Entries[0]!.DelaySeconds)).toEqual([undefined, 2, 900]);
  });

  it('splits batches that would pass 256 KiB', async () => {
    const pad = 'x'.repeat(100 * 1024);
    await queue.send([{ n: 1, pad }, { n: 2, pad }, { n: 3, pad }]);
    expect(recorder.requests.map((request) => batchOf(request).Entries.length)).toEqual([2, 1]);
  });

  it('resends only the entries SQS failed on its side', async () => {
    let failedOnce = false;
    recorder.respondWith((request) =>
      sqsReply(request, (entry) => {
        if (entry.Id !== '1' || failedOnce) return undefined;
        failedOnce = true;
        return { Code: 'InternalError', SenderFault: false };
      }),
    );
    await queue.send([{ n: 0 }, { n: 1 }, { n: 2 }]);
    expect(recorder.requests.map((request) => batchOf(request).Entries.map((entry) => entry.Id))).toEqual([['0', '1', '2'], ['1']]);
  });

  it('fails the send with the codes, not the bodies, when SQS refuses an entry', async () => {
    recorder.respondWith((request) =>
      sqsReply(request, (entry) => (entry.Id === '0' ? { Code: 'InvalidParameterValue', SenderFault: true } : undefined)),
    );
    const error = await queue.send([{ n: 0, pad: 'SECRET-BODY' }, { n: 1 }]).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(QueueSendError);
    expect((error as QueueSendError).message).toBe('SQS queue tocsin-deliveries did not accept 1 of 2 messages (InvalidParameterValue)');
    expect((error as QueueSendError).failed).toEqual([{ code: 'InvalidParameterValue', senderFault: true }]);
    expect(recorder.requests).toHaveLength(1);
  });

  it('gives up after three rounds when SQS keeps failing an entry', async () => {
    recorder.respondWith((request) => sqsReply(request, () => ({ Code: 'InternalError', SenderFault: false })));
    await expect(queue.send([{ n: 0 }])).rejects.toThrow('did not accept 1 of 1 messages (InternalError)');
    expect(recorder.requests).toHaveLength(3);
  });
});

describe('sqsMessageBody', () => {
  it('escapes the characters SQS refuses so JSON.parse gives back the exact value', () => {
    const value = { summary: 'a\uFFFEb\uFFFFc', emoji: '\u{1F525}', tab: '\t', control: '\u0001', lone: '\uD800' };
    const body = sqsMessageBody(value);
    expect(body).not.toMatch(/[\uFFFE\uFFFF]/);
    // Everything left is in SQS's allowed set (#x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF).
    expect(body).toMatch(/^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u);
    expect(JSON.parse(body)).toEqual(value);
  });
});
