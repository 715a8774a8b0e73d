// AWS Lambda: CloudWatch alarms delivered by an SNS subscription → incidents queue.
// Each SNS record is checked against ALLOWED_TOPIC_ARNS, normalized as a CloudWatch payload and
// sent as an IncidentMessage to INCIDENTS_QUEUE_URL. A record that cannot be used (wrong topic,
// not an alarm, not JSON) is kept whole on REJECTED_QUEUE_URL with the reason (its bytes in
// REJECTED_BUCKET_NAME when too large for a queue message), and the
// invocation still succeeds: retrying would not fix it. Only a queue failure throws, so Lambda's
// asynchronous retries (and then the function's dead-letter queue) take over.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { PayloadRejectedError } from '../../shared/errors.ts';
import type { Incident } from '../../shared/incident.ts';
import type { ForwardSinks, IncidentMessage, RejectedPayload } from '../../shared/ingest/forward.ts';
import type { RejectReason } from '../../shared/ingest/ingest.ts';
import { topicAllowed } from '../../shared/ingest/sns.ts';
import { allowedTopicArns } from '../../shared/runtime/env.ts';
import { snsEventRecordSchema, snsEventSchema } from '../../shared/runtime/events.ts';
import { createLogger, createMetrics, describeError, MetricBatch, MetricUnit } from '../../shared/runtime/observability.ts';
import { ingestSinksFromEnv } from '../../shared/runtime/queues.ts';
import { cloudwatch } from '../../shared/sources/cloudwatch.ts';
import { formatIssues } from '../../shared/zod-issues.ts';

const logger = createLogger('sns-ingest');
const metrics = createMetrics();

/** The endpoint name rejected payloads carry, to tell them from HTTP ones. */
export const SNS_INGEST_ENDPOINT = 'sns-ingest';

export interface SnsIngestResult {
  readonly accepted: number;
  readonly rejected: number;
}

interface Rejection {
  readonly status: 400 | 403;
  readonly reason: RejectReason;
  readonly message: string;
  readonly rejections?: readonly { source: string; reason: string }[] | undefined;
}

function keep(raw: unknown, rejection: Rejection, receivedAt: Date): RejectedPayload {
  // JSON.stringify(undefined) is undefined, whatever its type says.
  const text = JSON.stringify(raw) as string | undefined;
  const bytes = Buffer.from(text ?? 'null', 'utf8');
  return {
    receivedAt: receivedAt.toISOString(),
    endpoint: SNS_INGEST_ENDPOINT,
    status: rejection.status,
    reason: rejection.reason,
    message: rejection.message,
    rejections: rejection.rejections,
    // Whole: the rejected sink stores a record too large for a queue message in the bucket.
    truncated: false,
    bodyBase64: bytes.toString('base64'),
  };
}

/** One record: its incidents, or why it was refused. */
function ingestRecord(raw: unknown, allowed: readonly string[] | undefined, receivedAt: Date): Incident[] | Rejection {
  const record = snsEventRecordSchema.safeParse(raw);
  if (!record.success) {
    return { status: 400, reason: 'malformed', message: 'not an SNS event record', rejections: [{ source: 'sns', reason: formatIssues(record.error) }] };
  }
  if (!topicAllowed(record.data.Sns.TopicArn, allowed)) {
    return { status: 403, reason: 'forbidden-topic', message: 'SNS topic is not in the allowed list' };
  }
  try {
    // The CloudWatch source alone, as normalize() with `source: 'cloudwatch'` picks it: the
    // other sources' code and schemas would only lengthen this function's cold start.
    return cloudwatch.normalize({ Records: [record.data] }, { receivedAt });
  } catch (error) {
    if (error instanceof PayloadRejectedError) {
      return { status: 400, reason: 'malformed', message: error.toJSON().error, rejections: error.rejections };
    }
    // A normalizer bug: keep the record rather than retry an event that will fail the same way.
    logger.error('normalizing an SNS record failed unexpectedly', { messageId: record.data.Sns.MessageId, error });
    return { status: 400, reason: 'malformed', message: 'internal error while normalizing; the record is kept for replay' };
  }
}

export async function ingestSnsEvent(event: unknown): Promise<SnsIngestResult> {
  const receivedAt = new Date();
  let allowed: readonly string[] | undefined;
  let sinks: ForwardSinks;
  try {
    allowed = allowedTopicArns(process.env);
    sinks = ingestSinksFromEnv(process.env);
  } catch (error) {
    logger.error('sns-ingest is misconfigured', describeError(error));
    throw error;
  }
  const batch = new MetricBatch();

  const parsed = snsEventSchema.safeParse(event);
  const records: readonly unknown[] = parsed.success ? parsed.data.Records : [event];
  const incidents: IncidentMessage[] = [];
  const rejected: RejectedPayload[] = [];
  records.forEach((raw, index) => {
    const outcome = parsed.success
      ? ingestRecord(raw, allowed, receivedAt)
      : ({ status: 400, reason: 'malformed', message: 'not an SNS event', rejections: [{ source: 'sns', reason: formatIssues(parsed.error) }] } as const);
    if (Array.isArray(outcome)) {
      for (const incident of outcome) incidents.push({ incident, receivedAt: receivedAt.toISOString() });
      logger.info('record accepted', { record: index, incidents: outcome.length, fingerprints: outcome.map((incident) => incident.fingerprint) });
      batch.count('IncidentsAccepted', { source: 'cloudwatch' }, outcome.length);
    } else {
      rejected.push(keep(raw, outcome, receivedAt));
      logger.warn('record rejected', { record: index, reason: outcome.reason, detail: outcome.message });
      batch.count('PayloadsRejected', { reason: outcome.reason });
    }
  });
  metrics.addMetric('SnsRecords', MetricUnit.Count, records.length);

  let queue = 'incidents';
  try {
    if (incidents.length > 0) await sinks.incidents.send(incidents);
    queue = 'rejected';
    if (rejected.length > 0) await sinks.rejected.send(rejected);
  } catch (error) {
    // Lambda retries the whole event; dispatch's dedup absorbs incidents that were already sent.
    logger.error('could not queue the SNS event; Lambda will retry it', { queue, ...describeError(error) });
    batch.count('QueueFailures', { queue });
    throw error;
  } finally {
    batch.publish();
  }
  return { accepted: incidents.length, rejected: rejected.length };
}

export const handler = middy<unknown, SnsIngestResult>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }))
  .handler(ingestSnsEvent);
