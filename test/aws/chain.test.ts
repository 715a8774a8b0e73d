// The AWS pipeline end to end, as AWS runs it (test/aws/chain/): packaged bundles in Lambda
// containers, SQS / SSM / Secrets Manager stand-ins on their wire protocols, dynalite, and real
// webhook and Slack receivers, on a virtual clock. The happy paths.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, fixture } from './support.ts';
import { INGEST_TOKEN, QUEUES, SLACK_PATH, startChain, PACKAGING_HOOK_TIMEOUT_MS, type Chain } from './chain/chain.ts';

describe('AWS chain: happy paths', () => {
  let chain: Chain;

  beforeAll(async () => {
    chain = await startChain();
  }, PACKAGING_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await chain.close();
  });
  afterEach(() => {
    // Neither the ingest token nor the Slack webhook's secret path ever reaches a log.
    const logs = chain.allLogText();
    expect(logs).not.toContain(INGEST_TOKEN);
    expect(logs).not.toContain(SLACK_PATH);
  });

  it('delivers a CloudWatch ALARM and then its OK through sns-ingest to the webhook and Slack', async () => {
    const alarm = await chain.publish(fixture('cloudwatch', 'lambda-sns-single-metric-alarm.json'));
    expect(alarm).toEqual({ ok: true, result: { accepted: 1, rejected: 0 } });
    await chain.runUntilIdle();
    const ok = await chain.publish(fixture('cloudwatch', 'lambda-sns-single-metric-ok.json'));
    expect(ok).toEqual({ ok: true, result: { accepted: 1, rejected: 0 } });
    // Slack takes one message a second per webhook: the OK waits for its slot (a delayed message).
    await chain.settle();

    const events = chain.webhookEvents();
    expect(events.map((event) => [event.event, event.incident.status])).toEqual([
      ['opened', 'firing'],
      ['resolved', 'resolved'],
    ]);
    expect(events[0]!.incident.fingerprint).toBe(events[1]!.incident.fingerprint);
    expect(chain.slack.requests).toHaveLength(2);
    expect(chain.slack.requests.every((request) => request.path === SLACK_PATH)).toBe(true);
    for (const name of Object.values(QUEUES)) expect(chain.sqs.queue(name).messages).toEqual([]);
  });

  it('takes an Alertmanager group through the function URL with the ingest token', async () => {
    const before = chain.webhook.requests.length;
    const raw = readFileSync(join(FIXTURES, 'alertmanager', 'firing-group.json'), 'utf8');
    const alerts = (JSON.parse(raw) as { alerts: unknown[] }).alerts.length;

    const refused = await chain.alertmanager(raw, 'not-the-token');
    expect(refused.statusCode).toBe(401);

    const answer = await chain.alertmanager(raw);
    expect(answer.statusCode).toBe(202);
    expect(answer.json).toMatchObject({ accepted: alerts, source: 'alertmanager' });
    const slackBefore = chain.slack.requests.length;
    const startedAt = chain.clock.now();
    // Slack's webhook takes one a second: the group's notices to it are paced, each on its slot.
    await chain.settle();
    expect(chain.slack.requests.length - slackBefore).toBe(alerts);
    expect(chain.clock.now() - startedAt).toBeGreaterThanOrEqual((alerts - 1) * 1_000);

    const delivered = chain.webhookEvents().slice(before);
    expect(delivered).toHaveLength(alerts);
    expect(new Set(delivered.map((event) => event.incident.fingerprint))).toEqual(new Set(answer.json['fingerprints'] as string[]));
    expect(delivered.every((event) => event.event === 'opened')).toBe(true);
    for (const name of Object.values(QUEUES)) expect(chain.sqs.queue(name).messages).toEqual([]);
  });
});
