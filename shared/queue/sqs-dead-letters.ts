// The dead-letter queues of the AWS pipeline, for people without the console (`tocsin dlq
// list|redrive --aws`). A dead letter is the work queue's message as it was, with why in the
// TocsinReason / TocsinAttempts / TocsinFailedAt attributes (functions/aws/dead-letter.ts), so a
// redrive is SQS's own StartMessageMoveTask from the DLQ to the work queue.
import { ReceiveMessageCommand, SQSClient, StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';

export interface SqsDeadLetter {
  readonly messageId: string;
  readonly reason: string | undefined;
  readonly attempts: number | undefined;
  readonly failedAt: string | undefined;
  /** The message body as the work queue had it (a delivery job or an incident message). */
  readonly body: string;
}

/** SQS's largest batch. */
const BATCH = 10;

/** A client for the queues' region; AWS_ENDPOINT_URL_SQS points it elsewhere (tests, VPC endpoints). */
export function deadLetterClient(env: Readonly<Record<string, string | undefined>>): SQSClient {
  const endpoint = env['AWS_ENDPOINT_URL_SQS'];
  return new SQSClient(endpoint ? { endpoint } : {});
}

/**
 * Reads up to `limit` dead letters without taking them: each receive hides the messages for a
 * second only (SQS's shortest), and the listing stops when a receive brings nothing new.
 */
export async function listDeadLetters(client: SQSClient, queueUrl: string, limit = 100): Promise<SqsDeadLetter[]> {
  const seen = new Map<string, SqsDeadLetter>();
  while (seen.size < limit) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: BATCH, VisibilityTimeout: 1, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }),
    );
    const fresh = Messages.filter((message) => message.MessageId !== undefined && !seen.has(message.MessageId));
    if (fresh.length === 0) break;
    for (const message of fresh) {
      const attributes = message.MessageAttributes ?? {};
      const attempts = attributes['TocsinAttempts']?.StringValue;
      seen.set(message.MessageId ?? '', {
        messageId: message.MessageId ?? '',
        reason: attributes['TocsinReason']?.StringValue,
        attempts: attempts === undefined ? undefined : Number(attempts),
        failedAt: attributes['TocsinFailedAt']?.StringValue,
        body: message.Body ?? '',
      });
    }
  }
  return [...seen.values()].slice(0, limit);
}

export function formatSqsDeadLetters(letters: readonly SqsDeadLetter[]): string {
  if (letters.length === 0) return 'no dead letters';
  return letters
    .map((letter) => {
      let what = letter.body.slice(0, 120);
      try {
        const parsed = JSON.parse(letter.body) as { event?: unknown; channel?: unknown; incident?: { fingerprint?: unknown } };
        if (typeof parsed.incident?.fingerprint === 'string') {
          what = [parsed.event, parsed.channel, parsed.incident.fingerprint].filter((part) => typeof part === 'string').join(' ');
        }
      } catch {
        // Not JSON: shown as it is (that is usually why it was dead-lettered).
      }
      const attempts = letter.attempts === undefined ? '' : ` after ${String(letter.attempts)} attempt(s)`;
      return `${letter.failedAt ?? '(time unknown)'}  ${what}${attempts}: ${letter.reason ?? '(no reason recorded: moved by SQS itself)'}`;
    })
    .join('\n');
}

/** Starts SQS's move of every message from the DLQ to the work queue; returns the task handle. */
export async function redriveDeadLetters(client: SQSClient, sourceArn: string, destinationArn: string): Promise<string> {
  const { TaskHandle } = await client.send(new StartMessageMoveTaskCommand({ SourceArn: sourceArn, DestinationArn: destinationArn }));
  return TaskHandle ?? '';
}
