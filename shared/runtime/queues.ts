// The SQS queues the handlers send to, one SqsJobQueue per queue URL per container, all on the
// container's one SQS client.
import type { ForwardSinks, IncidentMessage, RejectedPayload } from '../ingest/forward.ts';
import { SqsJobQueue } from '../queue/sqs.ts';
import { sqsClient } from './clients.ts';
import { ENV, optionalEnv, requireEnv, type Env } from './env.ts';
import { RejectedSink } from './rejected.ts';

const queues = new Map<string, SqsJobQueue<unknown>>();

export function queueAt<T>(queueUrl: string): SqsJobQueue<T> {
  let queue = queues.get(queueUrl);
  if (queue === undefined) {
    queue = new SqsJobQueue<unknown>({ client: sqsClient(), queueUrl });
    queues.set(queueUrl, queue);
  }
  // One queue carries one message type; the map only saves re-creating the wrapper.
  return queue;
}

/**
 * The ingest functions' sinks: INCIDENTS_QUEUE_URL, and REJECTED_QUEUE_URL with bodies too large
 * for a message stored in REJECTED_BUCKET_NAME (see ./rejected.ts).
 */
export function ingestSinksFromEnv(env: Env = process.env): ForwardSinks {
  const incidentsUrl = requireEnv(env, ENV.incidentsQueueUrl);
  const rejectedUrl = requireEnv(env, ENV.rejectedQueueUrl);
  return {
    incidents: queueAt<IncidentMessage>(incidentsUrl),
    rejected: new RejectedSink({ queue: queueAt<RejectedPayload>(rejectedUrl), bucket: optionalEnv(env, ENV.rejectedBucketName) }),
  };
}

/** For tests: forget the queue wrappers (they hold the previous SQS client). */
export function resetQueues(): void {
  queues.clear();
}
