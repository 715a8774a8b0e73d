// Dead letters for both SQS consumers: the record's body goes to the queue's DLQ exactly as it
// was received, with why and after how many receives as message attributes. The DLQ thus holds
// messages of the work queue's own shape, so SQS's standard redrive (StartMessageMoveTask to
// the work queue) puts them back where they are processed like any other message; the reason
// stays readable in the console and to ReceiveMessage (MessageAttributeNames=All).
import { SendMessageCommand, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import { sqsClient } from '../../shared/runtime/clients.ts';
import { sqsAttributeText } from '../../shared/queue/sqs.ts';
import type { SqsRecord } from '../../shared/runtime/events.ts';

export const DEAD_LETTER_ATTRIBUTES = {
  reason: 'TocsinReason',
  attempts: 'TocsinAttempts',
  failedAt: 'TocsinFailedAt',
} as const;

/** A reason is short prose; an SQS message and its attributes share one 256 KiB limit. */
const MAX_REASON_CHARS = 1_000;

export function deadLetterAttributes(reason: string, attempts: number, failedAt: Date): Record<string, MessageAttributeValue> {
  const text = sqsAttributeText(reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS - 1)}…` : reason);
  return {
    [DEAD_LETTER_ATTRIBUTES.reason]: { DataType: 'String', StringValue: text === '' ? 'unknown' : text },
    [DEAD_LETTER_ATTRIBUTES.attempts]: { DataType: 'Number', StringValue: String(attempts) },
    [DEAD_LETTER_ATTRIBUTES.failedAt]: { DataType: 'String', StringValue: failedAt.toISOString() },
  };
}

/** Sends the record, as received, to `dlqUrl`; throws when SQS does not take it (the record then fails and SQS's own redrive keeps it). */
export async function sendToDeadLetterQueue(dlqUrl: string, record: SqsRecord, reason: string, attempts: number, now = new Date()): Promise<void> {
  await sqsClient().send(
    new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: record.body, MessageAttributes: deadLetterAttributes(reason, attempts, now) }),
  );
}

/** A message that was dead-lettered once and redriven: it may have been half processed before. */
export function wasDeadLettered(record: SqsRecord): boolean {
  return record.messageAttributes?.[DEAD_LETTER_ATTRIBUTES.attempts] !== undefined;
}
