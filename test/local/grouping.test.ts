// Grouping into digests on the real `tocsin start` process (issue 16): a storm of 300 alerts in
// 3 s to a grouped route, against a receiver that takes 1 request a second and answers 429
// beyond, ends in a handful of digests naming every incident, none twice and no dead letter;
// and a kill -9 while a group waits out groupWait loses nothing: the next start sends its digest.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCli, waitFor, type RunningCli } from '../helpers/cli-process.ts';

interface DigestBody {
  readonly event: string;
  readonly digest?: { readonly groupId: string; readonly sequence: number; readonly group: Record<string, string>; readonly items: { event: string; incident: { fingerprint: string } }[] };
  readonly incident?: { readonly fingerprint: string };
}

interface Accepted {
  readonly at: number;
  readonly deliveryId: string;
  readonly body: DigestBody;
}

/**
 * A webhook receiver with a rate limit like Slack's incoming webhooks: one request a second;
 * beyond it, 429 with `Retry-After: 1` (the request is not taken).
 */
async function startRateLimitedReceiver(): Promise<{ url: string; accepted: Accepted[]; refused: number[]; reset(): void; close(): Promise<void> }> {
  const accepted: Accepted[] = [];
  const refused: number[] = [];
  let lastAcceptedAt = -Infinity;
  const server: Server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => {
      const now = Date.now();
      if (now - lastAcceptedAt < 1_000) {
        refused.push(now);
        response.writeHead(429, { 'retry-after': '1', 'content-type': 'text/plain' }).end('rate_limited');
        return;
      }
      lastAcceptedAt = now;
      const deliveryId = String(request.headers['x-tocsin-delivery-id'] ?? '');
      accepted.push({ at: now, deliveryId, body: JSON.parse(Buffer.concat(parts).toString('utf8')) as DigestBody });
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    accepted,
    refused,
    reset() {
      accepted.length = 0;
      refused.length = 0;
      lastAcceptedAt = -Infinity;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

let dir: string;
let receiver: Awaited<ReturnType<typeof startRateLimitedReceiver>>;
const running = new Set<RunningCli>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tocsin-grouping-'));
  receiver = await startRateLimitedReceiver();
});
afterEach(() => {
  for (const cli of running) cli.child.kill('SIGKILL');
  running.clear();
  receiver.reset();
});
afterAll(async () => {
  await receiver.close();
  await rm(dir, { recursive: true, force: true });
});

let scenario = 0;
async function setUp(grouping: string): Promise<string[]> {
  scenario += 1;
  const config = join(dir, `tocsin-${String(scenario)}.yaml`);
  await writeFile(
    config,
    [
      'channels:',
      `  hook: { type: webhook, url: "${receiver.url}/hook" }`,
      'routes:',
      '  - channels: [hook]',
      grouping,
      'defaults: { sendTimeout: 3s, backoff: { initial: 1s, max: 4s } }',
      '',
    ].join('\n'),
  );
  return ['--config', config, '--data', join(dir, `data-${String(scenario)}`)];
}

async function start(args: readonly string[]): Promise<RunningCli> {
  const cli = await startCli(args);
  running.add(cli);
  return cli;
}

/** One Alertmanager webhook body with an alert per instance, all of one alertname. */
function alerts(alertname: string, instances: readonly string[]): string {
  return JSON.stringify({
    version: '4',
    groupKey: `{}:{alertname="${alertname}"}`,
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'tocsin',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.com:9093',
    alerts: instances.map((instance) => ({
      status: 'firing',
      labels: { alertname, instance, severity: 'warning' },
      annotations: { summary: `${alertname} on ${instance}` },
      startsAt: '2026-11-25T10:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example.com/graph',
    })),
  });
}

async function post(cli: RunningCli, body: string): Promise<string[]> {
  const response = await fetch(`${cli.url}/v1/ingest/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  expect(response.status).toBe(202);
  return ((await response.json()) as { fingerprints: string[] }).fingerprints;
}

async function deadLetters(cli: RunningCli): Promise<number> {
  const health = (await (await fetch(`${cli.url}/healthz`)).json()) as { queues: { deadLetters: number } };
  return health.queues.deadLetters;
}

/** Fingerprints named in the accepted digests. */
function named(): Set<string> {
  return new Set(receiver.accepted.flatMap((entry) => entry.body.digest?.items.map((item) => item.incident.fingerprint) ?? []));
}

describe('grouping on the real local server', () => {
  it('a storm of 300 alerts in 3 s becomes a handful of digests within the receiver rate limit, every incident named, none twice', async () => {
    const cli = await start(await setUp('    groupBy: [alertname]\n    groupWait: 2s\n    groupInterval: 2s'));
    const sent = new Set<string>();
    const started = Date.now();
    // 30 requests of 10 alerts, 100 ms apart: 300 unique alerts in 3 s.
    for (let batch = 0; batch < 30; batch += 1) {
      const instances = Array.from({ length: 10 }, (_, index) => `host-${String(batch * 10 + index).padStart(3, '0')}`);
      for (const fingerprint of await post(cli, alerts('StormProbe', instances))) sent.add(fingerprint);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + (batch + 1) * 100 - Date.now())));
    }
    expect(sent.size).toBe(300);

    await waitFor(() => named().size === 300, 30_000, 'every incident named in a digest');
    // A little longer: nothing else is on its way.
    await new Promise((resolve) => setTimeout(resolve, 2_500));

    expect(receiver.accepted.length).toBeGreaterThanOrEqual(1);
    expect(receiver.accepted.length).toBeLessThanOrEqual(5);
    expect(receiver.accepted.every((entry) => entry.body.event === 'digest' && entry.body.digest?.group.alertname === 'StormProbe')).toBe(true);
    expect([...named()].sort()).toEqual([...sent].sort());
    // Every incident in exactly one digest, and no digest taken twice.
    const told = receiver.accepted.flatMap((entry) => entry.body.digest?.items.map((item) => item.incident.fingerprint) ?? []);
    expect(told).toHaveLength(300);
    expect(new Set(receiver.accepted.map((entry) => entry.deliveryId)).size).toBe(receiver.accepted.length);
    // Sequences count up within the group.
    expect(receiver.accepted.map((entry) => entry.body.digest?.sequence)).toEqual(receiver.accepted.map((_, index) => index + 1));
    // The receiver's limit held (it refuses, and counts, anything faster), and nothing was given up.
    for (let index = 1; index < receiver.accepted.length; index += 1) {
      expect(receiver.accepted[index]!.at - receiver.accepted[index - 1]!.at).toBeGreaterThanOrEqual(1_000);
    }
    expect(await deadLetters(cli)).toBe(0);
  }, 60_000);

  it('kill -9 while a group waits out groupWait: the next start sends its digest, once', async () => {
    const args = await setUp('    groupBy: [alertname]\n    groupWait: 4s\n    groupInterval: 1m');
    const first = await start(args);
    const fingerprints = await post(first, alerts('KillProbe', Array.from({ length: 20 }, (_, index) => `node-${String(index)}`)));
    expect(fingerprints).toHaveLength(20);
    // Dispatched (the records exist, so the notices are in their group), then killed well within groupWait.
    await waitFor(
      async () => ((await (await fetch(`${first.url}/v1/incidents?limit=100`)).json()) as { incidents: unknown[] }).incidents.length === 20,
      5_000,
      'the 20 incidents dispatched',
    );
    first.child.kill('SIGKILL');
    await first.exited;
    running.delete(first);
    expect(receiver.accepted).toHaveLength(0);

    const second = await start(args);
    await waitFor(() => named().size === 20, 15_000, 'the digest after the restart');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(receiver.accepted).toHaveLength(1);
    expect([...named()].sort()).toEqual([...fingerprints].sort());
    expect(receiver.accepted[0]?.body.digest?.sequence).toBe(1);
    expect(await deadLetters(second)).toBe(0);
    // Each incident's history says it waited for a digest, and which digest told it.
    const history = async (): Promise<{ kind: string; grouped?: string[]; event?: string; outcome?: string; digest?: string }[]> =>
      ((await (await fetch(`${second.url}/v1/incidents/${encodeURIComponent(fingerprints[0] ?? '')}`)).json()) as { history: { kind: string }[] }).history;
    await waitFor(async () => (await history()).some((entry) => entry.kind === 'delivery'), 5_000, 'the delivery in the history');
    const entries = await history();
    expect(entries.find((entry) => entry.kind === 'decision')).toMatchObject({ grouped: ['hook'] });
    expect(entries.find((entry) => entry.kind === 'delivery')).toMatchObject({ event: 'digest', outcome: 'delivered', digest: `${receiver.accepted[0]?.body.digest?.groupId ?? ''}#1` });
  }, 40_000);

  it('without groupBy every alert is its own message, as before', async () => {
    const cli = await start(await setUp(''));
    const [fingerprint] = await post(cli, alerts('PlainProbe', ['one']));
    await waitFor(() => receiver.accepted.length === 1, 10_000, 'the notice');
    expect(receiver.accepted[0]?.body).toMatchObject({ event: 'opened', incident: { fingerprint } });
  }, 20_000);
});
