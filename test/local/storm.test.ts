// An alert storm on the real `tocsin start` process: 300 unique alerts within 3 s to a route
// without grouping, against a receiver on 127.0.0.1 that enforces a rate the way chat services
// do (a token bucket; 429 with Retry-After beyond). Every notice is delivered once, none is
// dropped or dead-lettered, the pace stays within the receiver's limit, and after a 429 the
// receiver hears nothing more from Tocsin until its Retry-After has passed.
//
// The receivers take 5 a second (not Slack's 1) so the storm passes in about a minute: the
// principle is the same.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { alertmanagerGroup, startCli, waitFor, type RunningCli } from '../helpers/cli-process.ts';
import { startRateReceiver, type RateReceiver } from '../helpers/rate-receiver.ts';

const STORM_ALERTS = 300;
const PER_REQUEST = 10;

let dir: string;
const running = new Set<RunningCli>();
const receivers = new Set<RateReceiver>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tocsin-storm-'));
});
afterEach(async () => {
  for (const cli of running) cli.child.kill('SIGKILL');
  running.clear();
  for (const receiver of receivers) await receiver.close();
  receivers.clear();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function stormServer(name: string, receiver: RateReceiver, rateLimit: string): Promise<RunningCli> {
  const config = join(dir, `${name}.yaml`);
  await writeFile(
    config,
    [
      'channels:',
      `  hook: { type: webhook, url: "${receiver.url}/hook" }`,
      'routes:',
      '  - channels: [hook]',
      'defaults: { sendTimeout: 5s }',
      'rateLimits:',
      '  channels:',
      `    hook: ${rateLimit}`,
      '',
    ].join('\n'),
  );
  const cli = await startCli(['--config', config, '--data', join(dir, `data-${name}`)]);
  running.add(cli);
  return cli;
}

/** `count` unique firing alerts, `PER_REQUEST` per Alertmanager request, spread over `withinMs`. */
async function storm(cli: RunningCli, prefix: string, count: number, withinMs: number): Promise<void> {
  const requests = Math.ceil(count / PER_REQUEST);
  for (let index = 0; index < requests; index += 1) {
    const names = Array.from({ length: Math.min(PER_REQUEST, count - index * PER_REQUEST) }, (_, n) => `${prefix}-${String(index * PER_REQUEST + n)}`);
    const response = await fetch(`${cli.url}/v1/ingest/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: alertmanagerGroup(names, 'firing', new Date().toISOString()),
    });
    expect(response.status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, withinMs / requests));
  }
}

async function settled(cli: RunningCli): Promise<boolean> {
  const health = (await (await fetch(`${cli.url}/healthz`)).json()) as { queues: { incidents: number; deliveriesReady: number; deliveriesDelayed: number } };
  return health.queues.incidents + health.queues.deliveriesReady + health.queues.deliveriesDelayed === 0;
}

async function deadLetters(cli: RunningCli): Promise<unknown[]> {
  return ((await (await fetch(`${cli.url}/v1/dead-letters`)).json()) as { deadLetters: unknown[] }).deadLetters;
}

/** Most requests the receiver saw within any window of `windowMs`. */
function busiestWindow(receiver: RateReceiver, windowMs: number): number {
  const times = receiver.requests.map((request) => request.atMs).sort((a, b) => a - b);
  let most = 0;
  let start = 0;
  for (let end = 0; end < times.length; end += 1) {
    while ((times[end] ?? 0) - (times[start] ?? 0) >= windowMs) start += 1;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

describe('an alert storm without grouping', () => {
  it(
    'delivers all 300 within the receiver limit: none dropped, none twice, no dead letters, next to no 429s',
    async () => {
      const receiver = await startRateReceiver({ ratePerSecond: 5, burst: 5, retryAfterSeconds: 1 });
      receivers.add(receiver);
      const cli = await stormServer('matched', receiver, '{ limit: 5, per: 1s }');
      const began = performance.now();
      await storm(cli, 'matched', STORM_ALERTS, 3_000);
      await waitFor(() => receiver.accepted().size === STORM_ALERTS, 150_000, 'every alert delivered');
      const tookMs = performance.now() - began;
      await waitFor(() => settled(cli), 10_000, 'the queues to empty');

      expect([...receiver.accepted().values()].every((times) => times === 1)).toBe(true);
      expect(new Set(receiver.requests.filter((r) => r.status === 200).map((r) => r.fingerprint)).size).toBe(STORM_ALERTS);
      expect(await deadLetters(cli)).toEqual([]);
      // Paced, not pushed: 300 at 5 a second take about a minute, and the receiver seldom (if
      // ever, with timer jitter) had to refuse one.
      expect(tookMs).toBeGreaterThan(((STORM_ALERTS - 5) / 5) * 1000 - 1_000);
      expect(receiver.throttled().length).toBeLessThanOrEqual(5);
      expect(busiestWindow(receiver, 1_000)).toBeLessThanOrEqual(10);
    },
    300_000,
  );

  it(
    'set faster than the receiver takes, waits out each 429 for its Retry-After: bounded 429s, all delivered, no dead letters',
    async () => {
      const receiver = await startRateReceiver({ ratePerSecond: 5, burst: 5, retryAfterSeconds: 1 });
      receivers.add(receiver);
      // Twice what the receiver takes: only its 429s hold Tocsin back.
      const cli = await stormServer('faster', receiver, '{ limit: 10, per: 1s }');
      const alerts = 150;
      await storm(cli, 'faster', alerts, 3_000);
      await waitFor(() => receiver.accepted().size === alerts, 150_000, 'every alert delivered');
      await waitFor(() => settled(cli), 10_000, 'the queues to empty');

      expect([...receiver.accepted().values()].every((times) => times === 1)).toBe(true);
      expect(await deadLetters(cli)).toEqual([]);
      const throttled = receiver.throttled();
      expect(throttled.length).toBeGreaterThan(0);
      // No hot loop: about one 429 per refill of the receiver's bucket, never one per notice.
      expect(throttled.length).toBeLessThan(alerts / 3);
      // After each 429 the receiver hears nothing until its Retry-After is over (sends already
      // on the wire when it answered may still land in the first moments).
      for (const refusal of throttled) {
        const during = receiver.requests.filter((request) => request.atMs > refusal.atMs + 250 && request.atMs < refusal.atMs + 950);
        expect(during).toEqual([]);
      }
      expect(cli.output()).toContain('answered too many requests');
    },
    300_000,
  );
});
