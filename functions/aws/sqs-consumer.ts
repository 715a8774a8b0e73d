// The frame both SQS consumers (dispatch, deliver) share. It checks the event's shape, counts the
// records, and runs the per-invocation set-up (config, store, queues). A set-up failure fails the
// whole invocation, so the batch comes back untouched. Then each record goes to its handler
// with Powertools' partial batch response, and the per-record metrics are published even when
// records fail.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { sqsEventSchema, type SqsRecord } from '../../shared/runtime/events.ts';
import { describeError, MetricBatch, MetricUnit } from '../../shared/runtime/observability.ts';
import { formatIssues } from '../../shared/zod-issues.ts';

export interface SqsConsumer {
  /** The function's name, for the error on an event that is not from SQS. */
  readonly name: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The metric that counts the records each invocation receives. */
  readonly recordsMetric: string;
  /** Per-invocation set-up; returns the handler of one record, which throws to fail that record. */
  prepare(batch: MetricBatch, invocation: Invocation): Promise<(record: SqsRecord) => Promise<void>>;
}

/** What the set-up may want to know about the invocation. */
export interface Invocation {
  readonly context: Context;
  /** The records of this invocation (all are handled concurrently). */
  readonly records: readonly SqsRecord[];
}

export function sqsConsumerHandler(consumer: SqsConsumer) {
  const { logger, metrics } = consumer;
  const consume = async (event: unknown, context: Context): Promise<SQSBatchResponse> => {
    const parsed = sqsEventSchema.safeParse(event);
    if (!parsed.success) {
      logger.error('unsupported event shape', { issues: formatIssues(parsed.error) });
      throw new TypeError(`${consumer.name} expects an SQS event`);
    }
    metrics.addMetric(consumer.recordsMetric, MetricUnit.Count, parsed.data.Records.length);

    const batch = new MetricBatch();
    let handleRecord: (record: SqsRecord) => Promise<void>;
    try {
      handleRecord = await consumer.prepare(batch, { context, records: parsed.data.Records });
    } catch (error) {
      logger.error('configuration unavailable; the batch will be retried', describeError(error));
      metrics.addMetric('ConfigUnavailable', MetricUnit.Count, 1);
      throw error;
    }

    try {
      return await processPartialResponse(parsed.data, handleRecord, new BatchProcessor(EventType.SQS), {
        context,
        // Every record failing is still a per-record answer, not an error: SQS retries each on its own.
        throwOnFullBatchFailure: false,
      });
    } finally {
      batch.publish();
    }
  };
  return middy<unknown, SQSBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .handler(consume);
}
