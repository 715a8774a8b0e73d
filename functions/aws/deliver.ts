// AWS Lambda: consumer of the deliveries queue. Each record is one DeliveryJob; its attempt is
// the message's ApproximateReceiveCount. The delivery worker sends it once (delivery markers on
// the state table) and says what happens next:
// - delivered / already delivered: the record succeeds and SQS deletes it;
// - retry: the message's visibility timeout is set to the backoff delay (ChangeMessageVisibility)
//   and the record is reported failed, so SQS hands it back after the delay, no sooner;
// - dead letter: `{job, reason, failedAt}` goes to DELIVERIES_DLQ_URL and the record succeeds.
//   Without DELIVERIES_DLQ_URL the record is reported failed, and SQS's own redrive moves the bare
//   job to the DLQ after maxReceiveCount (without the reason).
// DELIVERIES_MAX_RECEIVE_COUNT (the queue's maxReceiveCount), when set, caps the config's
// maxAttempts, so the last attempt is dead-lettered here, with its reason, before SQS's redrive.
import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { TocsinConfig } from '../../shared/config/schema.ts';
import type { DeliveryMarkers } from '../../shared/delivery/job.ts';
import type { MessageRefs } from '../../shared/message-refs/port.ts';
import { runDeliveryJob, type DeliveryOutcome } from '../../shared/delivery/worker.ts';
import { sqsClient } from '../../shared/runtime/clients.ts';
import { loadConfigFromEnv } from '../../shared/runtime/config.ts';
import { ENV, optionalEnv, positiveIntEnv } from '../../shared/runtime/env.ts';
import { queueUrlFromArn, type SqsRecord } from '../../shared/runtime/events.ts';
import { deliveryMessageSchema, parseMessageBody, type DeliveryDeadLetter, type DeliveryMessage } from '../../shared/runtime/messages.ts';
import { createLogger, createMetrics, describeError, MetricUnit, type MetricBatch } from '../../shared/runtime/observability.ts';
import { incidentStoreFromEnv, messageRefsFromEnv } from '../../shared/runtime/state.ts';
import { sqsConsumerHandler } from './sqs-consumer.ts';

const logger = createLogger('deliver');
const metrics = createMetrics();

/** SQS's longest visibility timeout (12 hours). */
export const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;

/** A retry: the record fails on purpose so that SQS redelivers it after the new visibility timeout. */
export class DeliveryRetryError extends Error {
  override readonly name = 'DeliveryRetryError';
}

/** Dead-lettered with no DLQ configured: fail the record and let SQS's redrive keep it. */
export class DeadLetterUnavailableError extends Error {
  override readonly name = 'DeadLetterUnavailableError';
}

export function visibilityTimeoutFor(delayMs: number): number {
  return Math.min(MAX_VISIBILITY_TIMEOUT_SECONDS, Math.max(0, Math.ceil(delayMs / 1000)));
}

interface DeliverSettings {
  readonly config: TocsinConfig;
  readonly dlqUrl: string | undefined;
  /** Where ChangeMessageVisibility goes (DELIVERIES_QUEUE_URL); else derived from the record's source ARN. */
  readonly queueUrl: string | undefined;
  readonly maxAttempts: number;
}

async function settingsFromEnv(): Promise<DeliverSettings> {
  const env = process.env;
  const maxReceiveCount = positiveIntEnv(env, ENV.deliveriesMaxReceiveCount);
  const config = await loadConfigFromEnv(env);
  return {
    config,
    dlqUrl: optionalEnv(env, ENV.deliveriesDlqUrl),
    queueUrl: optionalEnv(env, ENV.deliveriesQueueUrl),
    maxAttempts: Math.min(config.delivery.maxAttempts, maxReceiveCount ?? Number.POSITIVE_INFINITY),
  };
}

export const handler = sqsConsumerHandler({
  name: 'deliver',
  logger,
  metrics,
  recordsMetric: 'DeliveryMessages',
  async prepare(batch) {
    const settings = await settingsFromEnv();
    // Only the delivery markers are used here; dedup settings do not matter to them.
    const markers = incidentStoreFromEnv(settings.config.dedup, process.env);
    // Slack bot mode keeps each incident's message on the state table, to edit it on resolve.
    const messageRefs = messageRefsFromEnv(process.env);
    return (record) => deliverRecord(record, { settings, markers, messageRefs, batch });
  },
});

interface DeliverDeps {
  readonly settings: DeliverSettings;
  readonly markers: DeliveryMarkers;
  readonly messageRefs: MessageRefs;
  readonly batch: MetricBatch;
}

async function deliverRecord(record: SqsRecord, { settings, markers, messageRefs, batch }: DeliverDeps): Promise<void> {
  const attempt = Math.max(1, Number(record.attributes.ApproximateReceiveCount));
  let message: DeliveryMessage;
  try {
    message = parseMessageBody(record.body, deliveryMessageSchema, 'delivery job');
  } catch (error) {
    logger.error('poison delivery message', { messageId: record.messageId, receiveCount: attempt, ...describeError(error) });
    batch.count('PoisonMessages', { queue: 'deliveries' });
    throw error;
  }
  const job: DeliveryMessage = { ...message, attempt };
  const outcome = await runDeliveryJob(job, {
    markers,
    messageRefs,
    channelConfigs: settings.config.channels,
    unavailableChannels: settings.config.unavailableChannels,
    sendTimeoutMs: settings.config.delivery.sendTimeoutMs,
    maxAttempts: settings.maxAttempts,
  });
  batch.count('Deliveries', { channel: job.channel, outcome: outcome.kind });
  if (settings.config.unavailableChannels?.[job.channel] !== undefined) {
    // Per channel to see which, and without the channel for the construct's one alarm.
    batch.count('ChannelUnavailable', { channel: job.channel }).count('ChannelUnavailable', {});
  }
  switch (outcome.kind) {
    case 'delivered': {
      if (job.receivedAt !== undefined) {
        batch.add('DeliveryLatency', MetricUnit.Milliseconds, Math.max(0, Date.now() - Date.parse(job.receivedAt)), { channel: job.channel });
      }
      const log = { messageId: record.messageId, channel: job.channel, event: job.event, fingerprint: job.incident.fingerprint, attempt };
      if (outcome.markerError === undefined) logger.info('delivered', log);
      else logger.warn('delivered, but not recorded; a duplicate job could send again', { ...log, reason: outcome.markerError });
      return;
    }
    case 'already-delivered':
      logger.info('already delivered; skipped', { messageId: record.messageId, channel: job.channel, fingerprint: job.incident.fingerprint, attempt });
      return;
    case 'retry':
      return retryLater(record, job, outcome, settings);
    case 'dead-letter':
      return deadLetter(record, job, outcome.reason, settings);
  }
}

async function retryLater(record: SqsRecord, job: DeliveryMessage, outcome: Extract<DeliveryOutcome, { kind: 'retry' }>, settings: DeliverSettings): Promise<never> {
  const visibilityTimeout = visibilityTimeoutFor(outcome.delayMs);
  const queueUrl = settings.queueUrl ?? queueUrlFromArn(record.eventSourceARN);
  const log = { messageId: record.messageId, channel: job.channel, fingerprint: job.incident.fingerprint, attempt: job.attempt, delaySeconds: visibilityTimeout, reason: outcome.reason };
  if (queueUrl === undefined) {
    logger.warn('delivery failed; retrying after the queue visibility timeout (queue URL unknown)', log);
  } else {
    try {
      await sqsClient().send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: visibilityTimeout }));
      logger.warn('delivery failed; retrying later', log);
    } catch (error) {
      // The message still comes back, after the queue's own visibility timeout.
      logger.warn('delivery failed; could not set the retry delay', { ...log, ...describeError(error) });
    }
  }
  throw new DeliveryRetryError(`retry in ${String(visibilityTimeout)} s: ${outcome.reason}`);
}

async function deadLetter(record: SqsRecord, job: DeliveryMessage, reason: string, settings: DeliverSettings): Promise<void> {
  const log = { messageId: record.messageId, channel: job.channel, fingerprint: job.incident.fingerprint, attempt: job.attempt, reason };
  if (settings.dlqUrl === undefined) {
    logger.error('delivery given up; no DELIVERIES_DLQ_URL, leaving it to the queue redrive', log);
    throw new DeadLetterUnavailableError(reason);
  }
  const letter: DeliveryDeadLetter = { job, reason, failedAt: new Date().toISOString() };
  await sqsClient().send(new SendMessageCommand({ QueueUrl: settings.dlqUrl, MessageBody: JSON.stringify(letter) }));
  logger.error('delivery given up; sent to the dead-letter queue', log);
}
