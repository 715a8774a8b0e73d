// Digests through the delivery worker and the claims (exactly-once applies to digests): a
// redelivered digest is not sent twice, a later digest of the group goes out, an earlier one
// arriving after it is dropped; a channel that takes no digests dead-letters the job at once.
// The real webhook channel against a real HTTP server on 127.0.0.1; in-memory claims.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryDeliveryClaims } from '../../shared/delivery/claims.ts';
import type { DeliveryJob } from '../../shared/delivery/job.ts';
import { runDeliveryJob, type DeliveryWorkerDeps } from '../../shared/delivery/worker.ts';
import { flushGroup, type DigestItem } from '../../shared/grouping/group.ts';
import { createRouter } from '../../shared/routing/index.ts';
import { firing } from '../fixtures/channels/incidents.ts';
import { startRecorder, type HttpRecorder } from '../helpers/http-recorder.ts';

const ASSIGNMENT = { groupId: 'g00112233445566778899aabb', groupLabels: [{ key: 'alertname', value: 'X' }] };

function digestJob(items: readonly DigestItem[], state: Parameters<typeof flushGroup>[0], nowMs: number): { job: DeliveryJob; next: ReturnType<typeof flushGroup>['next'] } {
  const { digests, next } = flushGroup(state, ASSIGNMENT, items, nowMs);
  const { transitionId, ...digest } = digests[0]!;
  const lead = digest.items[0]!;
  return { job: { event: lead.event, incident: lead.incident, channel: 'hook', transitionId, attempt: 1, digest }, next };
}

const items = (prefix: string): DigestItem[] =>
  Array.from({ length: 3 }, (_, index) => ({ event: 'opened', transitionId: 'v1.1', incident: firing('cloudwatch', { fingerprint: `${prefix}-${String(index)}` }) }));

describe('a digest job', () => {
  let recorder: HttpRecorder;
  let deps: DeliveryWorkerDeps;

  beforeAll(async () => {
    recorder = await startRecorder();
  });
  afterAll(async () => {
    await recorder.close();
  });
  beforeEach(() => {
    recorder.requests.length = 0;
    const channelConfigs: DeliveryWorkerDeps['channelConfigs'] = {
      hook: { type: 'webhook', url: `${recorder.url}/hook` } as { type: string },
      pager: { type: 'pagerduty', routingKey: 'abcdefabcdefabcdefabcdefabcdefab' } as { type: string },
    };
    deps = {
      claims: new MemoryDeliveryClaims(),
      channelConfigs,
      sendTimeoutMs: 2_000,
      maxAttempts: 3,
    };
  });

  it('is sent once: a redelivered copy is already delivered, with the same delivery id', async () => {
    const { job } = digestJob(items('a'), undefined, 10_000);
    expect(await runDeliveryJob(job, deps)).toEqual({ kind: 'delivered' });
    expect(await runDeliveryJob({ ...job, attempt: 2 }, deps)).toEqual({ kind: 'already-delivered' });
    expect(recorder.requests).toHaveLength(1);
    const request = recorder.requests[0]!;
    expect(request.headers['x-tocsin-event']).toBe('digest');
    expect(request.headers['x-tocsin-fingerprint']).toBe(ASSIGNMENT.groupId);
    expect((JSON.parse(request.body) as { digest: { items: unknown[] } }).digest.items).toHaveLength(3);
  });

  it('the next digest of the group goes out; an older one arriving after it is dropped', async () => {
    const first = digestJob(items('a'), undefined, 10_000);
    const second = digestJob(items('b'), first.next, 20_000);
    expect(await runDeliveryJob(second.job, deps)).toEqual({ kind: 'delivered' });
    expect(await runDeliveryJob(first.job, deps)).toMatchObject({ kind: 'superseded' });
    expect(recorder.requests).toHaveLength(1);
  });

  it('to a channel that lays out no digests: a dead letter at once, nothing sent', async () => {
    const { job } = digestJob(items('a'), undefined, 10_000);
    expect(await runDeliveryJob({ ...job, channel: 'pager' }, deps)).toEqual({ kind: 'dead-letter', reason: 'pagerduty channels cannot send digests' });
  });
});

describe('routing to grouped channels', () => {
  const router = createRouter({
    routes: [
      { match: { severity: ['critical'] }, channels: ['pager'], continue: true, severity: 'error' },
      { channels: ['chat', 'pager'], continue: false, groupBy: ['severity', 'alertname'], groupWait: 1_000 },
    ],
  });

  it('groups the channels of a grouping route, by the routed incident, with the defaults filled', () => {
    const result = router.route(firing('cloudwatch', { severity: 'critical', labels: { alertname: 'X' } }));
    expect(result.channels).toEqual(['pager', 'chat']);
    // pager was named first by a route that does not group: its notices stay one by one.
    expect(Object.keys(result.groups ?? {})).toEqual(['chat']);
    expect(result.groups?.chat).toMatchObject({
      waitMs: 1_000,
      intervalMs: 300_000,
      groupLabels: [
        { key: 'severity', value: 'error' },
        { key: 'alertname', value: 'X' },
      ],
    });
  });

  it('without groupBy there are no groups', () => {
    expect(createRouter({ routes: [{ channels: ['chat'], continue: false }] }).route(firing()).groups).toBeUndefined();
  });
});
