// The cloud scheduler's look at what fell due: pages of the state table's sparse due index (a
// Query, never a Scan), each due record handed to dispatch as a DueMessage on the incidents
// queue. The decision is dispatch's (DynamoDbIncidentStore.applyDue, conditioned on the record's
// version), so two runs finding the same record, or a record found again before dispatch got to
// it, make one transition; the incidents queue's retries and dead letters cover a failed one.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { queryDue, type DuePage } from '../dedup/dynamodb-store.ts';
import type { JobQueue } from '../queue/port.ts';
import { dynamoDbClient } from './clients.ts';
import { ENV, requireEnv, type Env } from './env.ts';
import type { DueMessage } from './messages.ts';
import { queueAt } from './queues.ts';

/** Records read per Query page. */
export const DUE_PAGE_SIZE = 100;
/**
 * Records handed on per run at most; what is left is found by the next run (earliest first), a
 * minute later. Far above what one minute of a real pipeline makes due.
 */
export const DUE_MAX_PER_RUN = 2_000;

export interface DueScanDeps {
  readonly query: (nowMs: number, limit: number, startKey?: Record<string, AttributeValue>) => Promise<DuePage>;
  readonly queue: Pick<JobQueue<DueMessage>, 'send'>;
  readonly now: Date;
  readonly pageSize?: number;
  readonly maxPerRun?: number;
}

export interface DueScanResult {
  /** Due messages sent. */
  readonly sent: number;
  /** The run stopped at maxPerRun with more still due. */
  readonly more: boolean;
  /** How late the most overdue record was (ms), if any was due. */
  readonly oldestLateMs?: number | undefined;
}

export async function sendDueRecords(deps: DueScanDeps): Promise<DueScanResult> {
  const nowMs = deps.now.getTime();
  const pageSize = deps.pageSize ?? DUE_PAGE_SIZE;
  const maxPerRun = deps.maxPerRun ?? DUE_MAX_PER_RUN;
  let sent = 0;
  let oldestLateMs: number | undefined;
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await deps.query(nowMs, Math.min(pageSize, maxPerRun - sent), startKey);
    if (page.due.length > 0) {
      oldestLateMs ??= Math.max(0, nowMs - (page.due[0]?.dueAtMs ?? nowMs));
      await deps.queue.send(page.due.map(({ fingerprint, dueAtMs }) => ({ kind: 'due', fingerprint, dueAt: new Date(dueAtMs).toISOString() })));
      sent += page.due.length;
    }
    startKey = page.next;
  } while (startKey !== undefined && sent < maxPerRun);
  return { sent, more: startKey !== undefined, oldestLateMs };
}

/** The scan on the state table (STATE_TABLE_NAME) to the incidents queue (INCIDENTS_QUEUE_URL). */
export function dueScanFromEnv(env: Env = process.env): Omit<DueScanDeps, 'now'> {
  const tableName = requireEnv(env, ENV.stateTableName);
  const queueUrl = requireEnv(env, ENV.incidentsQueueUrl);
  return {
    query: (nowMs, limit, startKey) => queryDue(dynamoDbClient(), tableName, nowMs, limit, startKey),
    queue: queueAt<DueMessage>(queueUrl),
  };
}
