// The AWS chain (test/aws/chain/) under the ingest-side faults of issue 21: a channel whose
// secret key is missing, config and secret stores that fail, characters SQS refuses, rejected
// bodies too large for a queue message, and the SNS edges.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RejectedPayload } from '../../shared/ingest/forward.ts';
import { snsSubscriptionConfirmation } from '../helpers/sns-signer.ts';
import { FIXTURES, fixture } from './support.ts';
import { CONFIG_PARAMETER, defaultConfig, INGEST_TOKEN, REJECTED_BUCKET, QUEUES, SLACK_PATH, startChain, PACKAGING_HOOK_TIMEOUT_MS, type Chain } from './chain/chain.ts';

const alertmanagerGroup = (name: string): { raw: string; alerts: number } => {
  const raw = readFileSync(join(FIXTURES, 'alertmanager', name), 'utf8');
  return { raw, alerts: (JSON.parse(raw) as { alerts: unknown[] }).alerts.length };
};

/** Every reason a dead letter carries, whether in its body or in its message attributes. */
function deadLetterReasons(chain: Chain, queue: string): string[] {
  return chain.sqs.queue(queue).messages.map((message) => {
    let reason = '';
    try {
      const body = JSON.parse(message.body) as { reason?: unknown };
      if (typeof body.reason === 'string') reason = body.reason;
    } catch {
      // not JSON
    }
    const attributes = Object.values(message.messageAttributes).map((value) => value.StringValue ?? '');
    return [reason, ...attributes].join(' | ');
  });
}

describe('AWS chain: ingest-side faults', () => {
  let chain: Chain;

  beforeAll(async () => {
    chain = await startChain();
  }, PACKAGING_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await chain.close();
  });
  beforeEach(async () => {
    chain.setSecret({ TOCSIN_INGEST_TOKEN: INGEST_TOKEN, SLACK_WEBHOOK_URL: chain.urls.slack });
    chain.secrets.fail(undefined);
    chain.snsHttps.failConfirmations = false;
    chain.setConfig(defaultConfig(chain.urls.webhook));
    await chain.coldStart();
    chain.webhook.requests.length = 0;
    chain.slack.requests.length = 0;
    for (const name of Object.values(QUEUES)) chain.sqs.queue(name).messages.length = 0;
  });
  afterEach(() => {
    const logs = chain.allLogText();
    expect(logs).not.toContain(INGEST_TOKEN);
    expect(logs).not.toContain(SLACK_PATH);
  });

  it('isolates a channel whose secret key is missing: ingest and the other channel keep working, its deliveries dead-letter naming channel and key', async () => {
    chain.setSecret({ TOCSIN_INGEST_TOKEN: INGEST_TOKEN });
    const { raw, alerts } = alertmanagerGroup('severities.json');

    const answer = await chain.alertmanager(raw);
    expect(answer.statusCode).toBe(202);
    await chain.settle();

    expect(chain.webhookEvents()).toHaveLength(alerts);
    expect(chain.slack.requests).toEqual([]);
    const reasons = deadLetterReasons(chain, QUEUES.deliveriesDlq);
    expect(reasons).toHaveLength(alerts);
    for (const reason of reasons) {
      expect(reason).toContain('ops-chat');
      expect(reason).toContain('SLACK_WEBHOOK_URL');
    }
    expect(chain.sqs.queue(QUEUES.incidentsDlq).messages).toEqual([]);
    expect(chain.functions.deliver.metricSum('ChannelUnavailable', { channel: 'ops-chat' })).toBeGreaterThan(0);
    expect(chain.functions.deliver.logs().some((log) => String(log['reason']).includes('SLACK_WEBHOOK_URL'))).toBe(true);
  });

  it('names a missing config parameter and its error code in the log, and answers 503 so senders retry', async () => {
    const { raw } = alertmanagerGroup('no-severity.json');
    chain.ssm.delete(CONFIG_PARAMETER);
    try {
      const answer = await chain.alertmanager(raw);
      expect(answer.statusCode).toBe(503);
      const logged = chain.functions['http-ingest'].logs().filter((log) => log['message'] === 'configuration unavailable').at(-1);
      expect(logged).toMatchObject({ errorName: 'ConfigSourceError' });
      expect(String(logged?.['errorMessage'])).toContain(CONFIG_PARAMETER);
      expect(String(logged?.['errorMessage'])).toContain('ParameterNotFound');
    } finally {
      chain.setConfig(defaultConfig(chain.urls.webhook));
    }
    await chain.coldStart();
    expect((await chain.alertmanager(raw)).statusCode).toBe(202);
  });

  it('names the secret and the Secrets Manager error code when the secret cannot be read', async () => {
    chain.secrets.fail('outage');
    const { raw } = alertmanagerGroup('no-severity.json');
    const answer = await chain.alertmanager(raw);
    expect(answer.statusCode).toBe(503);
    const logged = chain.functions['http-ingest'].logs().filter((log) => log['message'] === 'configuration unavailable').at(-1);
    expect(logged).toMatchObject({ errorName: 'ConfigSourceError' });
    expect(String(logged?.['errorMessage'])).toContain(chain.secretArn);
    expect(String(logged?.['errorMessage'])).toContain('InternalServiceError');
  });

  it('keeps and delivers an alert carrying U+FFFE and U+FFFF (characters SQS refuses), and the rest of its group', async () => {
    const group = JSON.parse(alertmanagerGroup('firing-group.json').raw) as { alerts: { labels: Record<string, string>; annotations: Record<string, string> }[] };
    const odd = group.alerts[0]!;
    odd.annotations['summary'] = `disk \uFFFF full on \uFFFE volume`;
    odd.labels['volume'] = 'data\uFFFF';

    const answer = await chain.alertmanager(group);
    expect(answer.statusCode).toBe(202);
    expect(answer.json['accepted']).toBe(group.alerts.length);
    await chain.runUntilIdle();

    const delivered = chain.webhookEvents() as unknown as { incident: { summary?: string; labels: Record<string, string> } }[];
    expect(delivered).toHaveLength(group.alerts.length);
    const kept = delivered.find((event) => event.incident.labels['volume'] !== undefined);
    expect(kept?.incident.labels['volume']).toBe('data\uFFFF');
    expect(kept?.incident.summary).toContain('\uFFFF full on \uFFFE');
    expect(chain.sqs.queue(QUEUES.deliveriesDlq).messages).toEqual([]);
    expect(chain.sqs.queue(QUEUES.incidentsDlq).messages).toEqual([]);
  });

  it('keeps a rejected body too large for a queue message whole in the bucket, with a pointer on the rejected queue', async () => {
    // At the default maxBodyBytes (256 KiB) a 200 KiB body is 267 KiB of base64; with a raised
    // limit a 700 KiB body is far beyond any queue message. Both used to loop on 503.
    chain.setConfig({ ...defaultConfig(chain.urls.webhook), ingest: { token: '${TOCSIN_INGEST_TOKEN}', maxBodyBytes: 1024 * 1024 } });
    await chain.coldStart();
    const bodies = [200 * 1024, 700 * 1024].map((size, index) => `{"receiver": "tocsin", "alerts": [${String(index)}], "padding": "${'\u00e9'.repeat(size / 2)}"`);
    for (const body of bodies) {
      const answer = await chain.alertmanager(body);
      expect(answer.statusCode).toBe(400);
      expect(answer.json['kept']).toBe(true);
    }

    const kept = chain.sqs.queue(QUEUES.rejected).bodies<RejectedPayload>();
    expect(kept).toHaveLength(2);
    const objects = chain.s3.objects(REJECTED_BUCKET);
    kept.forEach((payload, index) => {
      const body = Buffer.from(bodies[index]!, 'utf8');
      expect(payload).toMatchObject({ status: 400, reason: 'malformed', truncated: false, bodyBase64: '', endpoint: 'alertmanager' });
      expect(payload.bodyObject).toMatchObject({ bucket: REJECTED_BUCKET, bytes: body.byteLength, sha256: createHash('sha256').update(body).digest('hex') });
      expect(payload.bodyObject?.key).toMatch(/^rejected\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f-]{36}$/);
      expect(objects.get(payload.bodyObject!.key)?.body.equals(body)).toBe(true);
    });
  });

  it('answers 503 when the subscription confirmation call to SNS fails, so SNS sends it again, and 200 once it works', async () => {
    // Stamped on the chain's clock: earlier scenarios' retry windows may have moved it past the hour SNS messages stay fresh.
    const confirmation = snsSubscriptionConfirmation(undefined, new Date(chain.clock.now()).toISOString());
    chain.snsHttps.failConfirmations = true;
    const failed = await chain.snsOverHttps(confirmation);
    expect(failed.statusCode).toBe(503);
    expect(failed.headers['retry-after']).toBeDefined();
    expect(chain.snsHttps.requests.some((request) => request.includes('Action=ConfirmSubscription'))).toBe(true);

    chain.snsHttps.failConfirmations = false;
    expect((await chain.snsOverHttps(confirmation)).statusCode).toBe(200);
  });

  it('logs why sns-ingest rejected a record, under a key Powertools keeps, with no extra warning', async () => {
    const outcome = await chain.publish(fixture('cloudwatch', 'rejected-lambda-sns-not-an-alarm.json'));
    expect(outcome).toEqual({ ok: true, result: { accepted: 0, rejected: 1 } });
    const logs = chain.functions['sns-ingest'].logs();
    const rejected = logs.filter((log) => log['message'] === 'record rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ level: 'WARN', reason: 'malformed' });
    expect(String(rejected[0]!['detail'])).not.toBe('');
    expect(logs.filter((log) => String(log['message']).includes('reserved key'))).toEqual([]);
    expect(chain.sqs.queue(QUEUES.rejected).bodies<RejectedPayload>()).toEqual([expect.objectContaining({ endpoint: 'sns-ingest', reason: 'malformed', truncated: false })]);
  });
});
