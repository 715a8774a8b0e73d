// AWS Lambda: consumer of the deliveries queue. Each record is one DeliveryJob; its attempt is
// the message's ApproximateReceiveCount. The delivery worker claims the job's line (incident ×
// channel) on the state table before it sends, so copies send once and notices go out in order
// (shared/delivery/worker.ts), and says what happens next:
// - delivered / already delivered / superseded: the record succeeds and SQS deletes it;
// - retry: the message's visibility timeout is set to the backoff delay (ChangeMessageVisibility,
//   at most SQS's 12 hours) and the record is reported failed, so SQS hands it back after the
//   delay, no sooner. `defaults.backoff` and `defaults.maxAttempts` set the window; infra derives
//   the queue's maxReceiveCount, visibility and retention from them;
// - busy (another worker holds the line's lease): the same, after the lease runs out;
// - rate-limited (over the channel target's rate limit, or the destination answered "too many
//   requests"): the job goes back on the queue as a NEW message (SendMessage, DelaySeconds up to
//   SQS's 15 minutes) holding its reserved slot and its failed attempts so far (`priorAttempts`),
//   and the record succeeds. A new message's receive count starts over, so waiting for a slot
//   never counts toward maxAttempts or the queue's maxReceiveCount; a slot further away than 15
//   minutes is waited for in more than one hop. Should the send fail, the record is retried
//   after the wait the usual way (ChangeMessageVisibility), which does count a receive;
// - capped (an SMS channel past its daily cap; the notice is told on the route's other channels):
//   the record succeeds;
// - dead letter: the body as received goes to DELIVERIES_DLQ_URL with the reason and attempts as
//   message attributes (dead-letter.ts), and the record succeeds. Without DELIVERIES_DLQ_URL the
//   record fails, and SQS's own redrive moves it after maxReceiveCount (without the reason).
// A body that is not a delivery job is dead-lettered the same way, with why.
// DELIVERIES_MAX_RECEIVE_COUNT (the queue's maxReceiveCount), when set, caps the config's
// maxAttempts, and the last receive never ends in a plain failure, so every dead letter carries
// its reason.
import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { TocsinConfig } from '../../shared/config/schema.ts';
import { jobFingerprint, type DeliveryClaims } from '../../shared/delivery/job.ts';
import type { MessageRefs } from '../../shared/message-refs/port.ts';
import { runDeliveryJob, type DeliveryOutcome } from '../../shared/delivery/worker.ts';
import { sqsClient } from '../../shared/runtime/clients.ts';
import { loadConfigFromEnv } from '../../shared/runtime/config.ts';
import { ENV, optionalEnv, positiveIntEnv } from '../../shared/runtime/env.ts';
import { queueUrlFromArn, type SqsRecord } from '../../shared/runtime/events.ts';
import { deliveryMessageSchema, parseMessageBody, type DeliveryMessage } from '../../shared/runtime/messages.ts';
import { createLogger, createMetrics, describeError, MetricUnit, type MetricBatch } from '../../shared/runtime/observability.ts';
import { deliveryClaimsFromEnv, messageRefsFromEnv, rateLimitStoreFromEnv } from '../../shared/runtime/state.ts';
import type { RateLimitStore } from '../../shared/delivery/rate-limit.ts';
import { sendToDeadLetterQueue } from './dead-letter.ts';
import { sqsConsumerHandler } from './sqs-consumer.ts';

const logger = createLogger('deliver');
const metrics = createMetrics();

/** SQS's longest visibility timeout (12 hours). */
export const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;
/** SQS's longest message delay (15 minutes). */
export const MAX_DELAY_SECONDS = 900;
/** A claim outlives the invocation by this much: Lambda stops the function at its deadline. */
const LEASE_MARGIN_MS = 5_000;

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
  /** The queue's maxReceiveCount: on this receive a failure is dead-lettered here, with its reason. */
  readonly lastReceive: number;
}

async function settingsFromEnv(): Promise<DeliverSettings> {
  const env = process.env;
  const maxReceiveCount = positiveIntEnv(env, ENV.deliveriesMaxReceiveCount);
  const config = await loadConfigFromEnv(env);
  const maxAttempts = Math.min(config.delivery.maxAttempts, maxReceiveCount ?? Number.POSITIVE_INFINITY);
  return {
    config,
    dlqUrl: optionalEnv(env, ENV.deliveriesDlqUrl),
    queueUrl: optionalEnv(env, ENV.deliveriesQueueUrl),
    maxAttempts,
    lastReceive: maxReceiveCount ?? Number.POSITIVE_INFINITY,
  };
}

export const handler = sqsConsumerHandler({
  name: 'deliver',
  logger,
  metrics,
  recordsMetric: 'DeliveryMessages',
  async prepare(batch, { context }) {
    const settings = await settingsFromEnv();
    const claims = deliveryClaimsFromEnv(process.env);
    // Slack bot mode keeps each incident's message on the state table, to edit it on resolve.
    const messageRefs = messageRefsFromEnv(process.env);
    // Rate limits per channel target and the SMS daily count, on the same table.
    const rateLimits = rateLimitStoreFromEnv(process.env);
    // Lambda ends the invocation at its deadline: a claim taken now cannot be sending after it.
    const leaseMs = context.getRemainingTimeInMillis() + LEASE_MARGIN_MS;
    return (record) => deliverRecord(record, { settings, claims, messageRefs, rateLimits, batch, leaseMs });
  },
});

interface DeliverDeps {
  readonly settings: DeliverSettings;
  readonly claims: DeliveryClaims;
  readonly messageRefs: MessageRefs;
  readonly rateLimits: RateLimitStore;
  readonly batch: MetricBatch;
  readonly leaseMs: number;
}

async function deliverRecord(record: SqsRecord, { settings, claims, messageRefs, rateLimits, batch, leaseMs }: DeliverDeps): Promise<void> {
  // This message's receives; the job's attempt adds those of the messages it was before a rate wait.
  const receiveCount = Math.max(1, Number(record.attributes.ApproximateReceiveCount));
  const attempt = receiveCount;
  let message: DeliveryMessage;
  try {
    message = parseMessageBody(record.body, deliveryMessageSchema, 'delivery job');
  } catch (error) {
    logger.error('poison delivery message', { messageId: record.messageId, receiveCount: attempt, ...describeError(error) });
    batch.count('PoisonMessages', { queue: 'deliveries' });
    return deadLetter(record, error instanceof Error ? error.message : 'unreadable delivery job', attempt, settings, batch);
  }
  const job: DeliveryMessage = { ...message, attempt: (message.priorAttempts ?? 0) + receiveCount };
  const outcome = await runDeliveryJob(job, {
    claims,
    messageRefs,
    rateLimits: { store: rateLimits, settings: settings.config.rateLimits },
    channelConfigs: settings.config.channels,
    unavailableChannels: settings.config.unavailableChannels,
    sendTimeoutMs: settings.config.delivery.sendTimeoutMs,
    maxAttempts: settings.maxAttempts,
    backoff: settings.config.delivery.backoff,
    leaseMs,
  });
  batch.count('Deliveries', { channel: job.channel, outcome: outcome.kind });
  if (settings.config.unavailableChannels?.[job.channel] !== undefined) {
    // Per channel to see which, and without the channel for the construct's one alarm.
    batch.count('ChannelUnavailable', { channel: job.channel }).count('ChannelUnavailable', {});
  }
  const log = { messageId: record.messageId, channel: job.channel, event: job.event, fingerprint: jobFingerprint(job), transitionId: job.transitionId, attempt: job.attempt };
  switch (outcome.kind) {
    case 'delivered':
      if (job.receivedAt !== undefined) {
        batch.add('DeliveryLatency', MetricUnit.Milliseconds, Math.max(0, Date.now() - Date.parse(job.receivedAt)), { channel: job.channel });
      }
      if (outcome.recordError === undefined) {
        logger.info('delivered', log);
      } else {
        // The send is done: failing the record would make SQS send it again, a sure duplicate.
        // Not recorded, a copy arriving after the lease could send again: say so loudly.
        logger.error('delivered, but not recorded; a copy of this job arriving later could send again', { ...log, reason: outcome.recordError });
        batch.count('DeliveryRecordFailures', { channel: job.channel });
      }
      return;
    case 'already-delivered':
      logger.info('already delivered; skipped', log);
      return;
    case 'superseded':
      logger.info('a later notice of this incident was already told on this channel; dropped', { ...log, toldTransitionId: outcome.toldTransitionId });
      return;
    case 'capped':
      logger.warn('not sent: the channel is past its daily cap', { ...log, reason: outcome.reason });
      return;
    case 'rate-limited':
      return waitForSlot(record, job, outcome, settings, log);
    case 'busy':
      if (receiveCount >= settings.lastReceive) {
        return deadLetter(record, 'another worker kept this incident and channel busy until the last receive', attempt, settings, batch, log);
      }
      return retryLater(record, { delayMs: outcome.delayMs, reason: 'another worker is sending on this incident and channel' }, settings, log);
    case 'retry':
      if (receiveCount >= settings.lastReceive) return deadLetter(record, `gave up at the queue's last receive: ${outcome.reason}`, job.attempt, settings, batch, log);
      return retryLater(record, outcome, settings, log);
    case 'dead-letter':
      return deadLetter(record, outcome.reason, job.attempt, settings, batch, log);
  }
}

/**
 * A wait for a rate-limit slot: the job goes back on the queue as a new message, delayed (at most
 * 15 minutes per hop), with its slot and its attempts so far; this record is then done. If that
 * send fails, the record is retried after the wait instead (a receive counted, nothing lost).
 */
async function waitForSlot(
  record: SqsRecord,
  job: DeliveryMessage,
  outcome: Extract<DeliveryOutcome, { kind: 'rate-limited' }>,
  settings: DeliverSettings,
  log: Record<string, unknown>,
): Promise<void> {
  const queueUrl = settings.queueUrl ?? queueUrlFromArn(record.eventSourceARN);
  const delaySeconds = Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(outcome.delayMs / 1000)));
  const { attempt, ...kept } = outcome.job as DeliveryMessage;
  const body: DeliveryMessage = { ...kept, attempt: 1, priorAttempts: attempt - 1, ...(job.receivedAt === undefined ? {} : { receivedAt: job.receivedAt }) };
  if (queueUrl !== undefined) {
    try {
      await sqsClient().send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body), DelaySeconds: delaySeconds }));
      logger.info('waiting for the rate limit; queued again', { ...log, delaySeconds, reason: outcome.reason });
      return;
    } catch (error) {
      logger.warn('could not queue the rate-limited job again; retrying this message after the wait', { ...log, ...describeError(error) });
    }
  }
  return retryLater(record, outcome, settings, log);
}

async function retryLater(
  record: SqsRecord,
  outcome: Pick<Extract<DeliveryOutcome, { kind: 'retry' }>, 'delayMs' | 'reason'>,
  settings: DeliverSettings,
  log: Record<string, unknown>,
): Promise<never> {
  const visibilityTimeout = visibilityTimeoutFor(outcome.delayMs);
  const queueUrl = settings.queueUrl ?? queueUrlFromArn(record.eventSourceARN);
  const line = { ...log, delaySeconds: visibilityTimeout, reason: outcome.reason };
  if (queueUrl === undefined) {
    logger.warn('delivery not done; retrying after the queue visibility timeout (queue URL unknown)', line);
  } else {
    try {
      await sqsClient().send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: visibilityTimeout }));
      logger.warn('delivery not done; retrying later', line);
    } catch (error) {
      // The message still comes back, after the queue's own visibility timeout.
      logger.warn('delivery not done; could not set the retry delay', { ...line, ...describeError(error) });
    }
  }
  throw new DeliveryRetryError(`retry in ${String(visibilityTimeout)} s: ${outcome.reason}`);
}

async function deadLetter(
  record: SqsRecord,
  reason: string,
  attempt: number,
  settings: DeliverSettings,
  batch: MetricBatch,
  log: Record<string, unknown> = { messageId: record.messageId, attempt },
): Promise<void> {
  if (settings.dlqUrl === undefined) {
    logger.error('delivery given up; no DELIVERIES_DLQ_URL, leaving it to the queue redrive', { ...log, reason });
    throw new DeadLetterUnavailableError(reason);
  }
  await sendToDeadLetterQueue(settings.dlqUrl, record, reason, attempt);
  batch.count('DeadLettered', { queue: 'deliveries' });
  logger.error('delivery given up; sent to the dead-letter queue', { ...log, reason });
}
