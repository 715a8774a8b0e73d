// A channel the cloud config names but cannot use (a secret key is missing): the worker never
// sends nor claims its line, retries with backoff while attempts remain (the key may
// be added meanwhile), then dead-letters with a reason that names the channel and the key.
import { describe, expect, it } from 'vitest';
import type { DeliveryClaims, DeliveryJob } from '../../shared/delivery/job.ts';
import { runDeliveryJob, type DeliveryWorkerDeps } from '../../shared/delivery/worker.ts';
import type { Incident } from '../../shared/incident.ts';

const incident: Incident = {
  schemaVersion: 1,
  fingerprint: 'fp-unavailable',
  status: 'firing',
  severity: 'error',
  title: 'Api5xx on checkout',
  source: { kind: 'cloudwatch', cloud: 'aws', account: '123456789012', rule: 'Api5xx' },
  startsAt: '2026-11-25T10:00:00Z',
  labels: {},
  links: [],
};
const REASON = 'channels.ops-chat.webhookUrl: key SLACK_WEBHOOK_URL of the Tocsin secret arn:aws:secretsmanager:eu-west-1:111122223333:secret:tocsin-AbCdEf is not set';

describe('runDeliveryJob for an unavailable channel', () => {
  const touched: string[] = [];
  const claims: DeliveryClaims = {
    claim: (key) => {
      touched.push(`claim ${key.channel}`);
      return Promise.resolve({ status: 'already-delivered' });
    },
    complete: (claim) => {
      touched.push(`complete ${claim.channel}`);
      return Promise.resolve(true);
    },
    release: (claim) => {
      touched.push(`release ${claim.channel}`);
      return Promise.resolve();
    },
  };
  const deps: DeliveryWorkerDeps = { claims, channelConfigs: {}, unavailableChannels: { 'ops-chat': REASON }, sendTimeoutMs: 1000, maxAttempts: 3, random: () => 0.5 };
  const job = (attempt: number): DeliveryJob => ({ event: 'opened', incident, channel: 'ops-chat', transitionId: 'v1.1795571770000', attempt });

  it('retries while attempts remain, then dead-letters naming the channel and the key', async () => {
    const first = await runDeliveryJob(job(1), deps);
    expect(first).toMatchObject({ kind: 'retry', reason: `channel "ops-chat" is unavailable: ${REASON}` });
    expect(first.kind === 'retry' && first.delayMs > 0).toBe(true);
    expect(await runDeliveryJob(job(3), deps)).toEqual({ kind: 'dead-letter', reason: `gave up after 3 attempts: channel "ops-chat" is unavailable: ${REASON}` });
    expect(touched).toEqual([]);
  });
});
