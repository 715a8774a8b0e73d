// AWS Lambda: run every minute by an EventBridge rule. Reads the state table's sparse due index
// (records whose reminder, hold end or auto-resolve time has come; a Query, never a Scan) and
// hands each to dispatch as a DueMessage on INCIDENTS_QUEUE_URL, where the store decides and the
// jobs go out as for any incident (shared/runtime/due.ts). It needs no config: what is due is in
// the table. A failure throws, so the error alarm fires; the next run a minute later finds the
// same records, since nothing was decided.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { dueScanFromEnv, sendDueRecords, type DueScanResult } from '../../shared/runtime/due.ts';
import { createLogger, createMetrics, describeError, MetricUnit } from '../../shared/runtime/observability.ts';

const logger = createLogger('reminders');
const metrics = createMetrics();

/** The event is EventBridge's scheduled event; nothing in it is used, so any shape is taken. */
async function findDue(): Promise<DueScanResult> {
  let result: DueScanResult;
  try {
    result = await sendDueRecords({ ...dueScanFromEnv(process.env), now: new Date() });
  } catch (error) {
    logger.error('could not hand on the due records; the next run looks again', describeError(error));
    throw error;
  }
  metrics.addMetric('DueRecords', MetricUnit.Count, result.sent);
  if (result.oldestLateMs !== undefined) metrics.addMetric('DueLateness', MetricUnit.Milliseconds, result.oldestLateMs);
  if (result.sent > 0 || result.more) logger.info('due records handed to dispatch', { ...result });
  return result;
}

export const handler = middy<unknown, DueScanResult>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler(findDue);
