// "Accepted means durable", proven on the real `tocsin start` process: it is killed (SIGKILL)
// in the middle of a burst while the receiver fails, stopped (SIGTERM) with retries pending,
// stopped twice in a row, and fed a far-future alert, then started again on the same data; the
// receiver counts what it answered 2xx by delivery id. Every alert answered 2xx is delivered,
// and none is delivered twice.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliSuite } from '../helpers/cli-suite.ts';
import {
  alertmanagerGroup,
  startCli,
  waitFor,
  type RunningCli,
} from '../helpers/cli-process.ts';

const suite = cliSuite('tocsin-durability-');

let scenario = 0;
/** A fresh data folder and a config that delivers every event to the counting receiver. */
async function setUp(): Promise<{ args: string[]; dataDir: string }> {
  scenario += 1;
  const dataDir = join(suite.dir, `data-${String(scenario)}`);
  const config = join(suite.dir, `tocsin-${String(scenario)}.yaml`);
  await writeFile(
    config,
    [
      'channels:',
      `  hook: { type: webhook, url: "${suite.receiver.url}/hook" }`,
      'routes:',
      '  - channels: [hook]',
      'defaults: { maxAttempts: 30, sendTimeout: 3s }',
      '',
    ].join('\n'),
  );
  suite.receiver.requests.length = 0;
  suite.receiver.arrivals = 0;
  return { args: ['--config', config, '--data', dataDir], dataDir };
}

async function start(args: readonly string[]): Promise<RunningCli> {
  const cli = await startCli(args);
  suite.running.add(cli);
  return cli;
}

async function post(cli: RunningCli, body: string): Promise<{ status: number; fingerprints: string[] }> {
  const response = await fetch(`${cli.url}/v1/ingest/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const answer = (await response.json()) as { fingerprints?: string[] };
  return { status: response.status, fingerprints: answer.fingerprints ?? [] };
}

async function queuesEmpty(cli: RunningCli): Promise<boolean> {
  const health = (await (await fetch(`${cli.url}/healthz`)).json()) as { queues: { incidents: number; deliveriesReady: number; deliveriesDelayed: number } };
  return health.queues.incidents + health.queues.deliveriesReady + health.queues.deliveriesDelayed === 0;
}

/** Fingerprints whose `event` notice the receiver answered 2xx, and any delivery id answered 2xx twice. */
function delivered(event: string): { fingerprints: Set<string>; doubled: string[] } {
  const fingerprints = new Set<string>();
  const doubled: string[] = [];
  for (const [id, notices] of suite.receiver.successes()) {
    if (notices.length > 1) doubled.push(id);
    for (const notice of notices) if (notice.event === event) fingerprints.add(notice.fingerprint);
  }
  return { fingerprints, doubled };
}

const NOW = (): string => new Date().toISOString();

describe('tocsin start, killed and restarted', () => {
  it('SIGKILL mid-burst while the receiver fails: every alert answered 202 is delivered exactly once after a restart', async () => {
    const { args } = await setUp();
    suite.receiver.mode = 'fail';
    const first = await start(args);

    // 80 requests of 2 alerts each, 8 at a time; the process is killed after 40 answers.
    const answered = new Set<string>();
    let answers = 0;
    let next = 0;
    const sender = async (): Promise<void> => {
      for (;;) {
        const index = next;
        next += 1;
        if (index >= 80) return;
        try {
          const { status, fingerprints } = await post(first, alertmanagerGroup([`kill-a-${String(index)}`, `kill-b-${String(index)}`], 'firing', NOW()));
          if (status === 202) {
            for (const fingerprint of fingerprints) answered.add(fingerprint);
            answers += 1;
            if (answers === 40) first.child.kill('SIGKILL');
          }
        } catch {
          // The process is gone: a sender would retry this one later; it is not counted.
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, sender));
    expect(await first.exited, first.output()).toBe('SIGKILL');
    expect(answered.size).toBeGreaterThanOrEqual(80);
    expect(suite.receiver.requests.filter((request) => request.status < 300)).toEqual([]);

    suite.receiver.mode = 'ok';
    const second = await start(args);
    await waitFor(() => [...answered].every((fingerprint) => delivered('opened').fingerprints.has(fingerprint)), 60_000, 'every answered alert delivered');
    await waitFor(() => queuesEmpty(second), 30_000, 'the queues to empty');
    const { doubled, fingerprints } = delivered('opened');
    // On a failure, both processes' consoles say why a notice went twice (a timeout, a retry).
    const consoles = `first process:\n${first.output()}\nsecond process:\n${second.output()}`;
    expect(doubled, consoles).toEqual([]);
    for (const fingerprint of answered) expect(fingerprints.has(fingerprint)).toBe(true);
    second.child.kill('SIGTERM');
    expect(await second.exited, consoles).toBe(0);
  }, 120_000);

  it('SIGTERM with retries pending: exits 0 at once, says what is kept, and delivers all of it after a restart', async () => {
    const { args } = await setUp();
    suite.receiver.mode = 'fail';
    const first = await start(args);
    const answered = new Set<string>();
    for (let index = 0; index < 10; index += 1) {
      const { status, fingerprints } = await post(first, alertmanagerGroup([`term-a-${String(index)}`, `term-b-${String(index)}`], 'firing', NOW()));
      expect(status).toBe(202);
      for (const fingerprint of fingerprints) answered.add(fingerprint);
    }
    await waitFor(() => suite.receiver.requests.length >= 20, 20_000, 'a first, failed attempt of each');
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('tocsin: SIGTERM: no longer accepting');
    expect(first.output()).toMatch(/tocsin: stopped; kept in .*tocsin\.db: 0 incident\(s\) to dispatch, 20 delivery\(ies\) pending/);
    // The failures were told on the console as they happened.
    expect(first.output()).toMatch(/tocsin: delivery failed: hook ← "DurabilityProbe on term-a-\d+" \(opened\): HTTP 500: receiver down; attempt 1 of 30, next in/);

    suite.receiver.mode = 'ok';
    const second = await start(args);
    expect(second.output()).toMatch(/restored: {2}20 firing, 0 resolved; 0 incident\(s\) to dispatch, 20 delivery\(ies\) pending/);
    await waitFor(() => delivered('opened').fingerprints.size === 20, 60_000, '20 deliveries');
    await waitFor(() => queuesEmpty(second), 30_000, 'the queues to empty');
    expect(delivered('opened')).toEqual({ fingerprints: answered, doubled: [] });
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 120_000);

  it('while draining: ingest and /healthz answer 503; a second signal exits at once; nothing committed is lost', async () => {
    const { args } = await setUp();
    suite.receiver.mode = 'slow-fail';
    const first = await start(args);
    const { status, fingerprints } = await post(first, alertmanagerGroup(['drain-a', 'drain-b'], 'firing', NOW()));
    expect(status).toBe(202);
    await waitFor(() => suite.receiver.arrivals >= 2, 10_000, 'both sends under way');
    first.child.kill('SIGTERM');
    await waitFor(() => first.output().includes('no longer accepting'), 5_000, 'the first signal to be seen');
    const health = await fetch(`${first.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'shutting-down' });
    const refused = await fetch(`${first.url}/v1/ingest/alertmanager`, { method: 'POST', body: alertmanagerGroup(['drain-c'], 'firing', NOW()) });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    // The sends are still under way (the receiver answers after 1.5 s): a second signal ends it now.
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(128 + 15);
    expect(first.output()).toContain('tocsin: second SIGTERM: exiting now; everything accepted is kept in');

    suite.receiver.mode = 'ok';
    const second = await start(args);
    await waitFor(() => delivered('opened').fingerprints.size === 2, 30_000, 'both deliveries');
    await waitFor(() => queuesEmpty(second), 30_000, 'the queues to empty');
    expect(delivered('opened')).toEqual({ fingerprints: new Set(fingerprints), doubled: [] });
    // Each notice kept its delivery id across the restart: the cut-short attempt and the
    // delivered one carry the same id, so the receiver could tell them apart from new notices.
    const ids = new Set(suite.receiver.requests.map((request) => request.deliveryId));
    expect(ids.size).toBe(2);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 60_000);

  it('a firing stamped in year 9999, a restart, then its resolve: both are told', async () => {
    const { args } = await setUp();
    suite.receiver.mode = 'ok';
    const first = await start(args);
    const future = '9999-12-31T23:59:59Z';
    const opened = await post(first, alertmanagerGroup(['far-future'], 'firing', future));
    expect(opened.status).toBe(202);
    await waitFor(() => delivered('opened').fingerprints.size === 1, 20_000, 'the opened notice');
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = await start(args);
    const resolved = await post(second, alertmanagerGroup(['far-future'], 'resolved', future, NOW()));
    expect(resolved.fingerprints).toEqual(opened.fingerprints);
    await waitFor(() => delivered('resolved').fingerprints.size === 1, 20_000, 'the resolved notice');
    expect(suite.receiver.requests.filter((request) => request.status < 300).map((request) => request.event)).toEqual(['opened', 'resolved']);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 60_000);
});
