// AWS Lambda: consumer of the incidents queue. For each IncidentMessage: dedup on the state table
// (one conditional write, DynamoDbIncidentStore), route with the config, and send one
// DeliveryJob per routed channel to DELIVERIES_QUEUE_URL. Partial batch responses: a record
// that fails (poison body, lost dedup race, queue error) is reported alone and comes back after
// the visibility timeout; after maxReceiveCount SQS moves it to the incidents DLQ. A config that
// cannot be loaded fails the whole invocation, so the batch returns untouched.
import type { TocsinConfig } from '../../shared/config/schema.ts';
import type { DynamoDbIncidentStore } from '../../shared/dedup/dynamodb-store.ts';
import { dispatchIncident } from '../../shared/pipeline/dispatch.ts';
import type { SqsJobQueue } from '../../shared/queue/sqs.ts';
import { createRouter, type Router } from '../../shared/routing/index.ts';
import { loadConfigFromEnv } from '../../shared/runtime/config.ts';
import { ENV, requireEnv } from '../../shared/runtime/env.ts';
import type { SqsRecord } from '../../shared/runtime/events.ts';
import { incidentMessageSchema, parseMessageBody, type DeliveryMessage } from '../../shared/runtime/messages.ts';
import { createLogger, createMetrics, describeError, type MetricBatch } from '../../shared/runtime/observability.ts';
import { queueAt } from '../../shared/runtime/queues.ts';
import { incidentStoreFromEnv } from '../../shared/runtime/state.ts';
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
  async prepare(batch) {
    const deliveries = queueAt<DeliveryMessage>(requireEnv(process.env, ENV.deliveriesQueueUrl));
    const config = await loadConfigFromEnv(process.env);
    // Built before any record runs, so records of one fingerprint reach the store in batch order.
    const store = incidentStoreFromEnv(config.dedup, process.env);
    const router = routerFor(config);
    return (record) => dispatchRecord(record, { deliveries, store, router, batch });
  },
});

interface DispatchDeps {
  readonly deliveries: SqsJobQueue<DeliveryMessage>;
  readonly store: DynamoDbIncidentStore;
  readonly router: Router;
  readonly batch: MetricBatch;
}

async function dispatchRecord(record: SqsRecord, { deliveries, store, router, batch }: DispatchDeps): Promise<void> {
  const receiveCount = Number(record.attributes.ApproximateReceiveCount);
  let message;
  try {
    message = parseMessageBody(record.body, incidentMessageSchema, 'incident');
  } catch (error) {
    logger.error('poison incident message', { messageId: record.messageId, receiveCount, ...describeError(error) });
    batch.count('PoisonMessages', { queue: 'incidents' });
    throw error;
  }
  const { incident, receivedAt } = message;
  try {
    const { decision, jobs } = await dispatchIncident(incident, { store, router, now: new Date(), receivedAt: new Date(receivedAt), redelivered: receiveCount > 1 });
    if (jobs.length > 0) await deliveries.send(jobs.map((job) => ({ ...job, receivedAt })));
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
    logger.error('dispatch failed; the message will be retried', { messageId: record.messageId, receiveCount, fingerprint: incident.fingerprint, ...describeError(error) });
    batch.count('DispatchFailures', {});
    throw error;
  }
}
