// AWS Lambda: consumer of the incidents queue. For each IncidentMessage: dedup on the state table
// (one conditional write, DynamoDbIncidentStore), route with the config, and send one
// DeliveryJob per routed channel to DELIVERIES_QUEUE_URL. A DueMessage (from the reminders
// function) names a record whose timer fell due: the store's scheduler decision (a reminder, a
// hold that ended, auto-resolve) takes the same path. The jobs of all the records of one
// invocation are sent together (SqsSendGroup: SendMessageBatch calls of up to 10 entries shared
// across records). Partial batch responses: a record that fails (lost dedup race, queue error)
// is reported alone and comes back after the visibility timeout. A body that is not an
// incident message, and a record still failing at the queue's last receive
// (INCIDENTS_MAX_RECEIVE_COUNT), goes to INCIDENTS_DLQ_URL as received with the reason as
// message attributes (dead-letter.ts); without that setting SQS's redrive moves it after
// maxReceiveCount. A config that cannot be loaded fails the whole invocation, so the batch
// returns untouched.
import type { TocsinConfig } from '../../shared/config/schema.ts';
import type { DynamoDbIncidentStore } from '../../shared/dedup/dynamodb-store.ts';
import type { Incident } from '../../shared/incident.ts';
import { decideContextFor } from '../../shared/pipeline/context.ts';
import { dispatchDue, dispatchIncident } from '../../shared/pipeline/dispatch.ts';
import { SqsSendGroup } from '../../shared/queue/sqs.ts';
import { createRouter, type Router } from '../../shared/routing/index.ts';
import { loadConfigFromEnv } from '../../shared/runtime/config.ts';
import { ENV, optionalEnv, positiveIntEnv, requireEnv } from '../../shared/runtime/env.ts';
import type { SqsRecord } from '../../shared/runtime/events.ts';
import { parseIncidentsQueueBody, type DeliveryMessage, type DueMessage } from '../../shared/runtime/messages.ts';
import { createLogger, createMetrics, describeError, type MetricBatch } from '../../shared/runtime/observability.ts';
import { queueAt } from '../../shared/runtime/queues.ts';
import { incidentStoreFromEnv } from '../../shared/runtime/state.ts';
import { sendToDeadLetterQueue, wasDeadLettered } from './dead-letter.ts';
import { sqsConsumerHandler } from './sqs-consumer.ts';

const logger = createLogger('dispatch');
const metrics = createMetrics();

// The router compiles nothing expensive, but there is no reason to rebuild it per invocation.
let routed: { readonly config: TocsinConfig; readonly router: Router } | undefined;
function routerFor(config: TocsinConfig): Router {
  if (routed?.config !== config) routed = { config, router: createRouter(config) };
  return routed.router;
}

export const handler = sqsConsumerHandler({
  name: 'dispatch',
  logger,
  metrics,
  recordsMetric: 'IncidentMessages',
  async prepare(batch, { records }) {
    const deliveries = new SqsSendGroup(queueAt<DeliveryMessage>(requireEnv(process.env, ENV.deliveriesQueueUrl)), records.length);
    const dlqUrl = optionalEnv(process.env, ENV.incidentsDlqUrl);
    const lastReceive = positiveIntEnv(process.env, ENV.incidentsMaxReceiveCount) ?? Number.POSITIVE_INFINITY;
    const config = await loadConfigFromEnv(process.env);
    // Built before any record runs, so records of one fingerprint reach the store in batch order.
    const store = incidentStoreFromEnv(config.dedup, process.env);
    const router = routerFor(config);
    return (record) => dispatchRecord(record, { deliveries, store, router, config, batch, dlqUrl, lastReceive });
  },
});

interface DispatchDeps {
  /** Every record calls send() or withdraw() exactly once. */
  readonly deliveries: SqsSendGroup<DeliveryMessage>;
  readonly store: DynamoDbIncidentStore;
  readonly router: Router;
  readonly config: TocsinConfig;
  readonly batch: MetricBatch;
  readonly dlqUrl: string | undefined;
  readonly lastReceive: number;
}

async function dispatchRecord(record: SqsRecord, deps: DispatchDeps): Promise<void> {
  const { deliveries, store, router, batch } = deps;
  const receiveCount = Number(record.attributes.ApproximateReceiveCount);
  let parsed;
  try {
    parsed = parseIncidentsQueueBody(record.body);
  } catch (error) {
    deliveries.withdraw();
    logger.error('poison incident message', { messageId: record.messageId, receiveCount, ...describeError(error) });
    batch.count('PoisonMessages', { queue: 'incidents' });
    return deadLetter(record, error instanceof Error ? error.message : 'unreadable incident message', receiveCount, deps, error);
  }
  if (parsed.kind === 'due') return dispatchDueRecord(record, parsed.message, receiveCount, deps);
  const { incident, receivedAt } = parsed.message;
  let sending = false;
  try {
    const now = new Date();
    const { decision, jobs } = await dispatchIncident(incident, {
      store,
      router,
      now,
      receivedAt: new Date(receivedAt),
      redelivered: receiveCount > 1 || wasDeadLettered(record),
      contextFor: contextAt(now, deps),
    });
    sending = true;
    await deliveries.send(jobs.map((job) => ({ ...job, receivedAt })));
    batch.count('Decisions', { action: decision.action });
    if (decision.action === 'suppressed') batch.count('Suppressed', { reason: decision.reason });
    if (jobs.length > 0) batch.count('DeliveryJobsQueued', {}, jobs.length);
    logger.info('dispatched', {
      messageId: record.messageId,
      fingerprint: incident.fingerprint,
      source: incident.source.kind,
      status: incident.status,
      action: decision.action,
      ...(decision.action === 'suppressed' ? { reason: decision.reason } : { channels: jobs.map((job) => job.channel) }),
    });
  } catch (error) {
    if (!sending) deliveries.withdraw();
    batch.count('DispatchFailures', {});
    if (receiveCount >= deps.lastReceive) {
      logger.error('dispatch failed at the last receive', { messageId: record.messageId, receiveCount, fingerprint: incident.fingerprint, ...describeError(error) });
      return deadLetter(record, `dispatch failed at the queue's last receive: ${describeError(error).errorMessage}`, receiveCount, deps, error);
    }
    logger.error('dispatch failed; the message will be retried', { messageId: record.messageId, receiveCount, fingerprint: incident.fingerprint, ...describeError(error) });
    throw error;
  }
}

/** Maintenance windows from the config and auto-resolve; silences are kept by the local server only. */
function contextAt(now: Date, { config, router }: DispatchDeps) {
  return (incident: Incident) => decideContextFor(incident, now.getTime(), { config, router });
}

/** A record whose timer fell due: the scheduler's decision, then its jobs, like any incident's. */
async function dispatchDueRecord(record: SqsRecord, message: DueMessage, receiveCount: number, deps: DispatchDeps): Promise<void> {
  const { deliveries, store, router, batch } = deps;
  const { fingerprint } = message;
  let sending = false;
  try {
    const now = new Date();
    const { decision, jobs } = await dispatchDue(fingerprint, {
      store,
      router,
      now,
      dueAt: new Date(message.dueAt),
      contextFor: contextAt(now, deps),
      redelivered: receiveCount > 1 || wasDeadLettered(record),
    });
    sending = true;
    await deliveries.send(jobs.map((job) => ({ ...job, receivedAt: now.toISOString() })));
    batch.count('DueRecords', { outcome: decision === undefined ? 'nothing' : decision.action });
    if (decision !== undefined) batch.count('Decisions', { action: decision.action });
    if (decision?.action === 'suppressed') batch.count('Suppressed', { reason: decision.reason });
    if (jobs.length > 0) batch.count('DeliveryJobsQueued', {}, jobs.length);
    logger.info('due record handled', {
      messageId: record.messageId,
      fingerprint,
      dueAt: message.dueAt,
      action: decision?.action ?? 'nothing due',
      ...(decision?.action === 'suppressed' ? { reason: decision.reason } : { channels: jobs.map((job) => job.channel) }),
    });
  } catch (error) {
    if (!sending) deliveries.withdraw();
    batch.count('DispatchFailures', {});
    if (receiveCount >= deps.lastReceive) {
      logger.error('due record failed at the last receive', { messageId: record.messageId, receiveCount, fingerprint, ...describeError(error) });
      return deadLetter(record, `due record failed at the queue's last receive: ${describeError(error).errorMessage}`, receiveCount, deps, error);
    }
    logger.error('due record failed; the message will be retried', { messageId: record.messageId, receiveCount, fingerprint, ...describeError(error) });
    throw error;
  }
}

/** To the incidents DLQ with the reason; without one, the record fails and SQS's redrive keeps it. */
async function deadLetter(record: SqsRecord, reason: string, receiveCount: number, deps: DispatchDeps, error: unknown): Promise<void> {
  if (deps.dlqUrl === undefined) throw error;
  await sendToDeadLetterQueue(deps.dlqUrl, record, reason, receiveCount);
  deps.batch.count('DeadLettered', { queue: 'incidents' });
  logger.error('incident message sent to the dead-letter queue', { messageId: record.messageId, receiveCount, reason });
}
