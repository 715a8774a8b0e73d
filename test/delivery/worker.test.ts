// The delivery worker with the real webhook channel against a real HTTP server on 127.0.0.1,
// and in-memory DeliveryClaims (the adapters have their own contract suite).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineChannel } from '../../shared/channels/channel.ts';
import { MemoryDeliveryClaims } from '../../shared/delivery/claims.ts';
import { deliveryIdOf, type ClaimResult, type DeliveryClaim, type DeliveryClaims, type DeliveryJob, type DeliveryKey } from '../../shared/delivery/job.ts';
import { runDeliveryJob, type DeliveryWorkerDeps } from '../../shared/delivery/worker.ts';
import type { Incident } from '../../shared/incident.ts';
import { startRecorder, type HttpRecorder } from '../helpers/http-recorder.ts';

/** In-process claims that can be told to fail, and remember the transitions completed. */
class FlakyClaims implements DeliveryClaims {
  readonly #claims: DeliveryClaims = new MemoryDeliveryClaims();
  readonly completed: string[] = [];
  failOn: 'claim' | 'complete' | undefined;

  claim(key: DeliveryKey, order: string, leaseMs: number, now: Date): Promise<ClaimResult> {
    if (this.failOn === 'claim') return Promise.reject(new Error('store down at https://db.example/SECRET'));
    return this.#claims.claim(key, order, leaseMs, now);
  }

  async complete(claim: DeliveryClaim, now: Date): Promise<boolean> {
    if (this.failOn === 'complete') throw new Error('store down');
    this.completed.push(`${claim.fingerprint}|${claim.transitionId}|${claim.channel}`);
    return this.#claims.complete(claim, now);
  }

  release(claim: DeliveryClaim): Promise<void> {
    return this.#claims.release(claim);
  }
}

const incident: Incident = {
  schemaVersion: 1,
  fingerprint: 'fp-api-5xx',
  status: 'firing',
  severity: 'error',
  title: 'Api5xx on checkout',
  source: { kind: 'cloudwatch', cloud: 'aws', account: '123456789012', rule: 'Api5xx' },
  startsAt: '2026-11-25T10:00:00Z',
  labels: {},
  links: [],
};
const job = (overrides: Partial<DeliveryJob> = {}): DeliveryJob => ({
  event: 'opened',
  incident,
  channel: 'audit',
  transitionId: T1,
  attempt: 1,
  ...overrides,
});
const SECRET_PATH = '/hook/XXsecretTOKENxx';
const T1 = 'v1.1795571770000';
const T2 = 'v2.1795571830000';

/** Webhook channel configs by name, as the config loader would produce them. */
function webhookChannels(urls: Record<string, string>): Record<string, { type: string; url: string }> {
  return Object.fromEntries(Object.entries(urls).map(([name, url]) => [name, { type: 'webhook', url }]));
}

describe('runDeliveryJob', () => {
  let recorder: HttpRecorder;
  let claims: FlakyClaims;
  let deps: DeliveryWorkerDeps;
  beforeAll(async () => {
    recorder = await startRecorder();
  });
  afterAll(async () => {
    await recorder.close();
  });
  beforeEach(() => {
    recorder.requests.length = 0;
    recorder.respondWith(() => ({ status: 200 }));
    claims = new FlakyClaims();
    deps = {
      claims,
      channelConfigs: webhookChannels({ audit: `${recorder.url}${SECRET_PATH}` }),
      sendTimeoutMs: 2_000,
      maxAttempts: 3,
      random: () => 0.5,
    };
  });

  it('delivers through the configured channel and completes its claim', async () => {
    await expect(runDeliveryJob(job(), deps)).resolves.toEqual({ kind: 'delivered' });
    expect(recorder.requests).toHaveLength(1);
    expect(recorder.requests[0]!.path).toBe(SECRET_PATH);
    expect(JSON.parse(recorder.requests[0]!.body)).toEqual({ event: 'opened', incident });
    expect(claims.completed).toEqual([`fp-api-5xx|${T1}|audit`]);
  });

  it('never sends a job twice: a re-run after delivery is already-delivered', async () => {
    await runDeliveryJob(job(), deps);
    await expect(runDeliveryJob(job({ attempt: 2 }), deps)).resolves.toEqual({ kind: 'already-delivered' });
    expect(recorder.requests).toHaveLength(1);
  });

  it('gives every notice a stable delivery id: the same on each retry, another for another transition or channel', async () => {
    recorder.respondWith(() => ({ status: 500 }));
    await runDeliveryJob(job(), deps);
    recorder.respondWith(() => ({ status: 200 }));
    await runDeliveryJob(job({ attempt: 2 }), deps);
    await runDeliveryJob(job({ transitionId: T2, event: 'resolved' }), deps);
    const ids = recorder.requests.map((request) => request.headers['x-tocsin-delivery-id']);
    const key = { fingerprint: 'fp-api-5xx', transitionId: T1, channel: 'audit' };
    expect(ids[0]).toBe(deliveryIdOf(key));
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).toBe(deliveryIdOf({ ...key, transitionId: T2 }));
    expect(ids[2]).not.toBe(ids[0]);
    expect(deliveryIdOf({ ...key, channel: 'mirror' })).not.toBe(ids[0]);
    // Pinned: receivers store these ids, so the derivation is part of the contract.
    expect(deliveryIdOf(key)).toMatch(/^[0-9a-f]{32}$/);
    expect(deliveryIdOf({ ...key, transitionId: 't-1' })).toBe('9910ef3bdc0b1d9b60381679f36934da');
  });

  it('sends again for another transition or another channel of the same incident', async () => {
    deps = { ...deps, channelConfigs: webhookChannels({ audit: `${recorder.url}${SECRET_PATH}`, mirror: `${recorder.url}/mirror` }) };
    await runDeliveryJob(job(), deps);
    await runDeliveryJob(job({ transitionId: T2, event: 'resolved' }), deps);
    await runDeliveryJob(job({ channel: 'mirror' }), deps);
    expect(recorder.requests.map((request) => request.path)).toEqual([SECRET_PATH, SECRET_PATH, '/mirror']);
  });

  it('retries a retryable failure with backoff, releasing its claim so the retry need not wait for the lease', async () => {
    recorder.respondWith(() => ({ status: 500, body: 'upstream broke' }));
    await expect(runDeliveryJob(job({ attempt: 2 }), deps)).resolves.toEqual({
      kind: 'retry',
      delayMs: 1_500,
      reason: 'HTTP 500: upstream broke',
    });
    expect(claims.completed).toHaveLength(0);
    recorder.respondWith(() => ({ status: 200 }));
    await expect(runDeliveryJob(job({ attempt: 3 }), deps)).resolves.toEqual({ kind: 'delivered' });
  });

  it('takes the backoff from the config', async () => {
    recorder.respondWith(() => ({ status: 500 }));
    const outcome = await runDeliveryJob(job({ attempt: 4 }), { ...deps, maxAttempts: 12, backoff: { initialMs: 10_000, maxMs: 60_000 } });
    expect(outcome).toMatchObject({ kind: 'retry', delayMs: 45_000 });
  });

  it('drops a notice older than one already told on the channel, and waits while another worker sends', async () => {
    await runDeliveryJob(job({ transitionId: T2, event: 'resolved' }), deps);
    await expect(runDeliveryJob(job(), deps)).resolves.toEqual({ kind: 'superseded', toldTransitionId: T2 });
    const now = new Date('2026-11-25T10:00:00Z');
    const held = await claims.claim({ fingerprint: 'fp-api-5xx', transitionId: T1, channel: 'mirror' }, '0', 20_000, now);
    expect(held.status).toBe('claimed');
    const busy = await runDeliveryJob(job({ channel: 'mirror' }), {
      ...deps,
      channelConfigs: webhookChannels({ audit: `${recorder.url}${SECRET_PATH}`, mirror: `${recorder.url}/mirror` }),
      now: () => now,
    });
    expect(busy).toEqual({ kind: 'busy', delayMs: 20_000 });
    expect(recorder.requests).toHaveLength(1);
  });

  it('waits as long as a 429 Retry-After asks, without counting an attempt', async () => {
    recorder.respondWith(() => ({ status: 429, headers: { 'retry-after': '7' } }));
    const queued = job();
    await expect(runDeliveryJob(queued, deps)).resolves.toEqual({
      kind: 'rate-limited',
      delayMs: 7_000,
      job: { ...queued, rateSlotAtMs: undefined, throttled: 1 },
      reason: 'audit answered too many requests (HTTP 429); waiting 7 s',
    });
  });

  it('waits at least as long as a 503 Retry-After asks (an attempt), bounded by rateLimits.maxWait', async () => {
    recorder.respondWith(() => ({ status: 503, headers: { 'retry-after': '7' } }));
    await expect(runDeliveryJob(job(), deps)).resolves.toEqual({ kind: 'retry', delayMs: 7_000, reason: 'HTTP 503' });
    recorder.respondWith(() => ({ status: 503, headers: { 'retry-after': '99999999999999999999999' } }));
    const outcome = await runDeliveryJob(job(), deps);
    expect(outcome).toEqual({ kind: 'retry', delayMs: 15 * 60_000, reason: 'HTTP 503' });
  });

  it('retries a timeout', async () => {
    recorder.respondWith(() => ({ status: 200, delayMs: 1_000 }));
    const outcome = await runDeliveryJob(job(), { ...deps, sendTimeoutMs: 50 });
    expect(outcome).toEqual({ kind: 'retry', delayMs: 750, reason: 'timed out after 50 ms' });
  });

  it('dead-letters a retryable failure on the last attempt, with the reason', async () => {
    recorder.respondWith(() => ({ status: 503 }));
    await expect(runDeliveryJob(job({ attempt: 3 }), deps)).resolves.toEqual({
      kind: 'dead-letter',
      reason: 'gave up after 3 attempts: HTTP 503',
    });
  });

  it('dead-letters a permanent failure at once', async () => {
    recorder.respondWith(() => ({ status: 404, body: 'no_service' }));
    await expect(runDeliveryJob(job(), deps)).resolves.toEqual({ kind: 'dead-letter', reason: 'HTTP 404: no_service' });
  });

  it('dead-letters a job for a channel the config no longer has', async () => {
    await expect(runDeliveryJob(job({ channel: 'gone' }), deps)).resolves.toEqual({
      kind: 'dead-letter',
      reason: 'unknown channel "gone"',
    });
    await expect(runDeliveryJob(job({ channel: 'toString' }), deps)).resolves.toEqual({
      kind: 'dead-letter',
      reason: 'unknown channel "toString"',
    });
    expect(recorder.requests).toHaveLength(0);
  });

  it('dead-letters a channel whose type is not registered', async () => {
    const outcome = await runDeliveryJob(job(), { ...deps, channelConfigs: { audit: { type: 'pager' } } });
    expect(outcome).toEqual({ kind: 'dead-letter', reason: 'channel "audit" has unknown type "pager"' });
  });

  it('never leaks the URL into a reason when the server echoes it', async () => {
    recorder.respondWith((request) => ({ status: 500, body: `no route for ${request.path}` }));
    const outcome = await runDeliveryJob(job(), deps);
    expect(outcome.kind).toBe('retry');
    expect(JSON.stringify(outcome)).not.toContain('secretTOKEN');
  });

  it('treats a channel that throws as retryable, naming only the error type', async () => {
    const exploding = defineChannel({
      type: 'exploding',
      configSchema: z.strictObject({ type: z.literal('exploding') }),
      render: (event) => event,
      send: () => {
        throw new TypeError('cannot reach https://hooks.example.com/SECRET');
      },
    });
    const outcome = await runDeliveryJob(job(), {
      ...deps,
      channelConfigs: { audit: { type: 'exploding' } },
      channelByType: (type) => (type === 'exploding' ? exploding : undefined),
    });
    expect(outcome).toEqual({ kind: 'retry', delayMs: 750, reason: 'exploding channel threw TypeError' });
  });

  it('retries when the line cannot be claimed, without sending', async () => {
    claims.failOn = 'claim';
    await expect(runDeliveryJob(job(), deps)).resolves.toEqual({
      kind: 'retry',
      delayMs: 750,
      reason: 'delivery claim failed (Error)',
    });
    expect(recorder.requests).toHaveLength(0);
  });

  it('reports delivered, not recorded, when the send worked but completing the claim kept failing (a retry would send twice)', async () => {
    claims.failOn = 'complete';
    await expect(runDeliveryJob(job(), deps)).resolves.toEqual({
      kind: 'delivered',
      recordError: 'could not record the delivery (Error)',
    });
    expect(recorder.requests).toHaveLength(1);
  });
});
