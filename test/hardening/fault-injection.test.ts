// Fault injection: the local pipeline delivers to two webhook channels whose receiver fails at
// random (500, 429 with Retry-After 0 or 1, replies slower than the send timeout, connections
// reset without an answer, and now and then a permanent 404), for a few hundred Alertmanager
// alerts with duplicates, re-notifications, resolves, flapping, stale and unknown resolves.
// After the queues drain, every notice the pipeline decided to send was delivered exactly once
// or dead-lettered with a reason, never both and never twice, and the counters in /metrics
// reconcile with the decisions, the receiver's log and the dead letters.
//
// The counters reconciled (all from /metrics unless said otherwise):
//   accepted incidents (Σ `accepted` of the 202 answers) = Σ tocsin_incidents_total
//                                                        = Σ tocsin_decisions_total (one decision each)
//   tocsin_decisions_total{action="suppressed"}           = Σ tocsin_suppressed_total
//   (Σ decisions − suppressed) × routed channels          = tocsin_delivered_total + tocsin_dead_lettered_total
//   tocsin_delivered_total     = distinct notices the receiver answered 2xx (each at most once)
//   tocsin_dead_lettered_total = the deliveries queue's dead letters (each with a reason, none delivered)
//
// The receiver's choice for an attempt is a seeded function of (channel, fingerprint, event,
// event time, attempt number at the receiver), not of arrival order, so concurrency does not
// change which attempts fail: runs are repeatable.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLocal } from '../../functions/local/start.ts';
import { eventTime, type Incident } from '../../shared/incident.ts';
import { fuzzSeed, hashSeed, seededRandom } from '../helpers/fuzz.ts';
import { startLocalHarness, type LocalHarness } from '../helpers/local-harness.ts';
import { fetchMetrics, metricSum, sleep, until } from './support.ts';

// Long enough that a 2xx answered at once is always seen in time, even on a loaded 2-core
// machine where this process shares the CPU with others: a send that times out after its 2xx was
// written is a genuine copy at the receiver (what the delivery id is for), not a marker bug.
const SEND_TIMEOUT_MS = 1_500;
const MAX_ATTEMPTS = 4;
const CHANNELS = { '/a': 'hook-a', '/b': 'hook-b' } as const;

type Fault = 'ok' | 'error-500' | 'throttle-429' | 'slow' | 'reset' | 'permanent-404';
/** Cumulative odds per attempt: about a third of attempts fail in a retryable way. */
const FAULT_ODDS: readonly (readonly [Fault, number])[] = [
  ['ok', 0.64],
  ['error-500', 0.74],
  ['throttle-429', 0.82],
  ['slow', 0.88],
  ['reset', 0.98],
  ['permanent-404', 1],
];

interface FaultyReceiver {
  readonly url: string;
  /** Successful (2xx) answers per delivery key. */
  readonly successes: Map<string, number>;
  /** Attempts seen per fault kind. */
  readonly faults: Map<Fault, number>;
  close(): Promise<void>;
}

interface WebhookBody {
  readonly event: string;
  readonly incident: Incident;
}

/** The identity of one notice to one channel: what must arrive exactly once. */
const deliveryKey = (channel: string, event: string, incident: Incident): string =>
  `${channel}|${incident.fingerprint}|${event}|${eventTime(incident)}`;

async function startFaultyReceiver(seed: number): Promise<FaultyReceiver> {
  const successes = new Map<string, number>();
  const faults = new Map<Fault, number>();
  const attempts = new Map<string, number>();

  const server: Server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => {
      const channel = CHANNELS[(request.url ?? '') as keyof typeof CHANNELS];
      const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as WebhookBody;
      const key = deliveryKey(channel, body.event, body.incident);
      const attempt = attempts.get(key) ?? 0;
      attempts.set(key, attempt + 1);
      const random = seededRandom(hashSeed(`${seed}|${key}|${attempt}`));
      const draw = random();
      const fault = FAULT_ODDS.find(([, upTo]) => draw < upTo)?.[0] ?? 'ok';
      faults.set(fault, (faults.get(fault) ?? 0) + 1);

      switch (fault) {
        case 'ok': {
          // Counted as a success only here: the one answer the client reads as delivered.
          successes.set(key, (successes.get(key) ?? 0) + 1);
          const status = [200, 202, 204][Math.floor(random() * 3)] ?? 200;
          response.writeHead(status).end();
          return;
        }
        case 'error-500':
          response.writeHead(500, { 'content-type': 'text/plain' }).end('upstream exploded');
          return;
        case 'throttle-429':
          response.writeHead(429, { 'retry-after': random() < 0.5 ? '0' : '1' }).end('slow down');
          return;
        case 'slow':
          // A timeout must not be a hidden success. Had this receiver processed the request and
          // answered 2xx after the client gave up, the client would retry and the notice would
          // arrive twice: that is at-least-once delivery, inherent to any sender that retries
          // after a timeout, and no marker can prevent it. So a slow answer here comes after the
          // client's timeout and is never a 2xx; a 2xx is only ever recorded for an attempt the
          // client saw succeed, which is what makes "zero double sends" checkable.
          setTimeout(() => {
            if (!response.destroyed) response.writeHead(503).end('too late');
          }, SEND_TIMEOUT_MS + 250).unref();
          return;
        case 'reset':
          // Connection reset without an answer.
          request.socket.destroy();
          return;
        case 'permanent-404':
          response.writeHead(404, { 'content-type': 'text/plain' }).end('no such hook');
          return;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    successes,
    faults,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

const T0 = Date.parse('2026-11-25T00:00:00.000Z');
const HOUR = 3_600_000;
const at = (ms: number): string => new Date(ms).toISOString();
const ALERTS = 300;

function alert(index: number, status: 'firing' | 'resolved', startsAtMs: number, endsAtMs?: number): unknown {
  return {
    status,
    labels: { alertname: 'FaultInjection', instance: `node-${index}:9100`, severity: 'warning', job: 'node' },
    annotations: { summary: `fault injection alert ${index}` },
    startsAt: at(startsAtMs),
    endsAt: endsAtMs === undefined ? '0001-01-01T00:00:00Z' : at(endsAtMs),
    generatorURL: 'http://prometheus.example.com/graph',
    fingerprint: index.toString(16).padStart(16, '0'),
  };
}

function group(alerts: unknown[], status: 'firing' | 'resolved'): unknown {
  return {
    version: '4',
    groupKey: '{}:{alertname="FaultInjection"}',
    truncatedAlerts: 0,
    status,
    receiver: 'tocsin',
    groupLabels: { alertname: 'FaultInjection' },
    commonLabels: { alertname: 'FaultInjection', severity: 'warning', job: 'node' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.com:9093',
    alerts,
  };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, offset) => from + offset);

describe('delivery under injected faults', () => {
  let harness: LocalHarness<FaultyReceiver>;
  let receiver: FaultyReceiver;
  let local: RunningLocal;
  let acceptedTotal = 0;
  /** Fingerprint of alert i, from the 202 answers. */
  const fingerprints = new Map<number, string>();
  /** Every notice the scenario must produce, per channel. */
  const expectedKeys = new Set<string>();

  beforeAll(async () => {
    harness = await startLocalHarness({
      receiver: () => startFaultyReceiver(fuzzSeed()),
      config: (receiverUrl) => ({
        channels: { 'hook-a': { type: 'webhook', url: `${receiverUrl}/a` }, 'hook-b': { type: 'webhook', url: `${receiverUrl}/b` } },
        routes: [{ channels: ['hook-a', 'hook-b'] }],
        defaults: { maxAttempts: MAX_ATTEMPTS, sendTimeout: `${SEND_TIMEOUT_MS}ms`, backoff: { initial: '1s', max: '2s' }, renotifyAfter: '10ms', flap: { changes: 2, window: '30m' } },
      }),
      dataPrefix: 'tocsin-faults-data-',
      // renotifyAfter 10ms makes every repeat below a reminder; reminders on a timer would add
      // their own every 10 ms (test/local/oncall.test.ts covers those).
      scheduler: false,
    });
    ({ receiver, local } = harness);
  });

  afterAll(() => harness.stop());

  /** Posts alerts in batches of 25; remembers fingerprints; returns them in order. */
  async function post(indexes: number[], build: (index: number) => unknown, status: 'firing' | 'resolved'): Promise<string[]> {
    const seen: string[] = [];
    for (let start = 0; start < indexes.length; start += 25) {
      const batch = indexes.slice(start, start + 25);
      const response = await fetch(`${local.url}/v1/ingest/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(group(batch.map(build), status)),
      });
      expect(response.status).toBe(202);
      const answer = (await response.json()) as { accepted: number; fingerprints: string[] };
      expect(answer.accepted).toBe(batch.length);
      acceptedTotal += answer.accepted;
      batch.forEach((index, position) => {
        const fingerprint = answer.fingerprints[position]!;
        const known = fingerprints.get(index);
        if (known !== undefined) expect(fingerprint).toBe(known);
        fingerprints.set(index, fingerprint);
        seen.push(fingerprint);
      });
    }
    return seen;
  }

  const expectNotice = (index: number, event: string, time: number): void => {
    for (const channel of Object.values(CHANNELS)) expectedKeys.add(`${channel}|${fingerprints.get(index)!}|${event}|${at(time)}`);
  };

  it('delivers every decided notice exactly once or dead-letters it with a reason; the counts reconcile', async () => {
    const start = (index: number): number => T0 + index * 1_000;
    // 1. 300 new alerts → opened.
    await post(range(0, ALERTS), (index) => alert(index, 'firing', start(index)), 'firing');
    for (const index of range(0, ALERTS)) expectNotice(index, 'opened', start(index));
    // Past the 10 ms re-notify interval, so the repeats below are reminders.
    await until(() => local.pipeline.depths().incidents === 0, 10_000);
    await sleep(50);

    // 2. Alertmanager repeats 100 of them → renotified.
    await post(range(0, 100), (index) => alert(index, 'firing', start(index)), 'firing');
    for (const index of range(0, 100)) expectNotice(index, 'renotified', start(index));

    // 3. 150 resolve → resolved; 4. 50 of those resolves repeated → suppressed duplicates.
    const end = (index: number): number => T0 + HOUR + index * 1_000;
    await post(range(0, 150), (index) => alert(index, 'resolved', start(index), end(index)), 'resolved');
    for (const index of range(0, 150)) expectNotice(index, 'resolved', end(index));
    await post(range(0, 50), (index) => alert(index, 'resolved', start(index), end(index)), 'resolved');

    // 5. 20 flap: fire again → opened (second change), resolve → flapping (third change, over
    // the limit of 2), fire again → suppressed while flapping.
    const flapping = range(0, 20);
    const refire = (index: number): number => T0 + 2 * HOUR + index * 1_000;
    const reresolve = (index: number): number => T0 + 3 * HOUR + index * 1_000;
    await post(flapping, (index) => alert(index, 'firing', refire(index)), 'firing');
    for (const index of flapping) expectNotice(index, 'opened', refire(index));
    await post(flapping, (index) => alert(index, 'resolved', refire(index), reresolve(index)), 'resolved');
    for (const index of flapping) expectNotice(index, 'flapping', reresolve(index));
    await post(flapping, (index) => alert(index, 'firing', T0 + 4 * HOUR + index * 1_000), 'firing');

    // 6. Resolves for alerts never seen → suppressed unknown-resolve.
    await post(range(1_000, 1_010), (index) => alert(index, 'resolved', T0, T0 + HOUR), 'resolved');
    // 7. Firing notices older than what the store has → suppressed stale.
    await post(range(200, 210), (index) => alert(index, 'firing', T0 - HOUR), 'firing');

    expect(await local.pipeline.drain(50_000)).toBe(true);
    const metrics = await fetchMetrics(local.url);

    // Decisions: exactly what the scenario calls for.
    const decisions = (action: string): number => metricSum(metrics, 'tocsin_decisions_total', { action });
    expect({
      opened: decisions('opened'),
      renotified: decisions('renotified'),
      resolved: decisions('resolved'),
      flapping: decisions('flapping'),
      suppressed: decisions('suppressed'),
    }).toEqual({ opened: 320, renotified: 100, resolved: 150, flapping: 20, suppressed: 90 });
    expect(metricSum(metrics, 'tocsin_suppressed_total')).toBe(decisions('suppressed'));
    const suppressed = (reason: string): number => metricSum(metrics, 'tocsin_suppressed_total', { reason });
    expect({ duplicate: suppressed('duplicate'), flapping: suppressed('flapping'), unknownResolve: suppressed('unknown-resolve'), stale: suppressed('stale') }).toEqual({
      duplicate: 50,
      flapping: 20,
      unknownResolve: 10,
      stale: 10,
    });

    // Received = decided: every accepted incident got exactly one decision.
    expect(acceptedTotal).toBe(680);
    expect(metricSum(metrics, 'tocsin_incidents_total')).toBe(acceptedTotal);
    expect(metricSum(metrics, 'tocsin_decisions_total')).toBe(acceptedTotal);

    // Notices to send = (decisions − suppressed) × routed channels = delivered + dead-lettered.
    const channelCount = Object.keys(CHANNELS).length;
    const noticesToSend = (acceptedTotal - decisions('suppressed')) * channelCount;
    expect(expectedKeys.size).toBe(noticesToSend);
    const deliveredMetric = metricSum(metrics, 'tocsin_delivered_total');
    const deadLetteredMetric = metricSum(metrics, 'tocsin_dead_lettered_total');
    expect(deliveredMetric + deadLetteredMetric).toBe(noticesToSend);

    // Delivered: the receiver's 2xx answers, one per notice, never two.
    const doubled = [...receiver.successes].filter(([, count]) => count > 1);
    expect(doubled).toEqual([]);
    const deliveredKeys = new Set(receiver.successes.keys());
    expect(deliveredKeys.size).toBe(deliveredMetric);

    // Dead-lettered: the queue's dead letters, each with a reason, none of them delivered.
    const deadLetters = local.pipeline.deadLetters(10_000);
    expect(deadLetters).toHaveLength(deadLetteredMetric);
    const deadKeys = new Set<string>();
    for (const { job, reason } of deadLetters) {
      expect(reason).toMatch(/^(HTTP 404: no such hook|gave up after 4 attempts: (HTTP 500: upstream exploded|HTTP 429: slow down|HTTP 503: too late|timed out after 1500 ms|network error: .+))$/);
      expect(job).toBeDefined();
      if (job) deadKeys.add(deliveryKey(job.channel, job.event, job.incident));
    }
    expect(deadKeys.size).toBe(deadLetters.length);
    expect([...deadKeys].filter((key) => deliveredKeys.has(key))).toEqual([]);

    // Together they are exactly the notices the scenario called for.
    expect(new Set([...deliveredKeys, ...deadKeys])).toEqual(expectedKeys);

    // The faults were all exercised, and both outcomes happened.
    for (const fault of ['ok', 'error-500', 'throttle-429', 'slow', 'reset', 'permanent-404'] as const) {
      expect(receiver.faults.get(fault) ?? 0, fault).toBeGreaterThan(0);
    }
    expect(deliveredMetric).toBeGreaterThan(0);
    expect(deadLetteredMetric).toBeGreaterThan(0);

    // Nothing is left in flight, and the server is fine.
    const health = await fetch(`${local.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', queues: { incidents: 0, deliveriesReady: 0, deliveriesDelayed: 0, deadLetters: deadLetteredMetric } });
  }, 60_000);
});
