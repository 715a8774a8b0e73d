// The reminders function in the AWS chain: packaged bundle in a Lambda container, the SQS
// stand-in, dynalite, the real webhook receiver, on the virtual clock. A CloudWatch alarm sent
// once is reminded renotifyAfter later although the source never repeats it, once, however many
// scheduled runs find it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from './support.ts';
import { QUEUES, startChain, PACKAGING_HOOK_TIMEOUT_MS, type Chain } from './chain/chain.ts';

describe('AWS chain: scheduled reminders', () => {
  let chain: Chain;

  beforeAll(async () => {
    chain = await startChain({
      config: (urls) => ({
        ingest: { token: '${TOCSIN_INGEST_TOKEN}' },
        channels: { audit: { type: 'webhook', url: urls.webhook } },
        routes: [{ channels: ['audit'] }],
        defaults: { renotifyAfter: '10m' },
      }),
    });
  }, PACKAGING_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await chain.close();
  });

  it('reminds a CloudWatch alarm sent once, on time and once, with its number', async () => {
    expect(await chain.publish(fixture('cloudwatch', 'lambda-sns-single-metric-alarm.json'))).toMatchObject({ ok: true });
    await chain.runUntilIdle();
    expect(chain.webhookEvents().map((event) => event.event)).toEqual(['opened']);

    // Not due yet: the run hands nothing on.
    chain.clock.advance(9 * 60_000);
    expect(await chain.remind()).toMatchObject({ ok: true, result: { sent: 0 } });

    // Due: two runs at once (the rule fired while a slow run was still going) find it both.
    chain.clock.advance(61_000);
    const runs = await Promise.all([chain.remind(), chain.remind()]);
    expect(runs.map((run) => (run.ok ? run.result.sent : -1))).toEqual([1, 1]);
    await chain.runUntilIdle();
    const events = chain.webhookEvents();
    expect(events.map((event) => event.event)).toEqual(['opened', 'renotified']);
    expect((events[1] as unknown as { state?: unknown }).state).toEqual({ reminder: 1 });
    for (const name of Object.values(QUEUES)) expect(chain.sqs.queue(name).messages).toEqual([]);

    // The next one is renotifyAfter after this one.
    expect(await chain.remind()).toMatchObject({ ok: true, result: { sent: 0 } });
    chain.clock.advance(10 * 60_000);
    expect(await chain.remind()).toMatchObject({ ok: true, result: { sent: 1 } });
    await chain.runUntilIdle();
    expect(chain.webhookEvents().map((event) => event.event)).toEqual(['opened', 'renotified', 'renotified']);
  });
});
