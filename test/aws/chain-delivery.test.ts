// Delivery on AWS under real conditions (issue 21, delivery side), on the chain of packaged
// bundles, SQS / SSM / Secrets Manager stand-ins, dynalite and real receivers, on a virtual
// clock (test/aws/chain/). Each scenario failed on the code before delivery claims:
// - a firing and its resolve queued together reached the webhook out of order;
// - two copies of one delivery job processed at once were both sent;
// - a webhook down for an hour sent its notices to the DLQ after 5 tries (~15 s);
// - dead letters were `{job, reason, failedAt}`, poison after a redrive; malformed messages
//   reached a DLQ without a reason.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Incident } from '../../shared/incident.ts';
import { normalize } from '../../shared/normalize.ts';
import { INGEST_TOKEN, QUEUES, SLACK_PATH, startChain, PACKAGING_HOOK_TIMEOUT_MS, type Chain } from './chain/chain.ts';
import { fixture } from './support.ts';

interface Told {
  readonly event: string;
  readonly fingerprint: string;
  readonly deliveryId: string;
  readonly status: number;
}

let scenario = 0;
/** An Alertmanager alert no other scenario uses. */
function alertOf(status: 'firing' | 'resolved', name: string, startsAt: string, endsAt?: string): unknown {
  return {
    version: '4',
    groupKey: `{}:{alertname="${name}"}`,
    truncatedAlerts: 0,
    status,
    receiver: 'tocsin',
    groupLabels: { alertname: name },
    commonLabels: { alertname: name, severity: 'critical' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.com:9093',
    alerts: [
      {
        status,
        labels: { alertname: name, severity: 'critical', instance: 'db-1:9100' },
        annotations: { summary: `${name} on db-1` },
        startsAt,
        endsAt: endsAt ?? '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus.example.com/graph',
        fingerprint: '0f1e2d3c4b5a6978',
      },
    ],
  };
}

describe('AWS chain: delivery once, in order, through an outage, and dead letters that redrive', () => {
  let chain: Chain;
  /** Every answer the webhook gave, in order. */
  let told: Told[];
  /** How the webhook answers a request (status), given the event and fingerprint. */
  let answer: (event: string, fingerprint: string) => number;
  let delayMs: number;
  let replyBody: string;

  beforeAll(async () => {
    chain = await startChain();
  }, PACKAGING_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await chain.close();
  });
  beforeEach(() => {
    scenario += 1;
    told = [];
    answer = () => 200;
    delayMs = 0;
    replyBody = '';
    chain.webhook.respondWith((request) => {
      const body = JSON.parse(request.body) as { event: string; incident: { fingerprint: string } };
      const status = answer(body.event, body.incident.fingerprint);
      told.push({ event: body.event, fingerprint: body.incident.fingerprint, deliveryId: String(request.headers['x-tocsin-delivery-id']), status });
      return { status, delayMs, body: replyBody };
    });
  });
  afterEach(() => {
    const logs = chain.allLogText();
    expect(logs).not.toContain(INGEST_TOKEN);
    expect(logs).not.toContain(SLACK_PATH);
  });

  const now = (): string => new Date(chain.clock.now()).toISOString();
  const post = async (payload: unknown): Promise<string> => {
    const reply = await chain.alertmanager(payload);
    expect(reply.statusCode).toBe(202);
    return (reply.json['fingerprints'] as string[])[0]!;
  };
  const deliveredTo = (fingerprint: string): string[] => told.filter((entry) => entry.fingerprint === fingerprint && entry.status < 300).map((entry) => entry.event);

  it('a firing and its resolve queued together: the webhook never shows the firing after the resolve', async () => {
    const name = `OrderBlip${String(scenario)}`;
    const start = now();
    // The firing's first send fails, as a chat service's hiccup would.
    let failedOnce = false;
    answer = (event) => {
      if (event === 'opened' && !failedOnce) {
        failedOnce = true;
        return 500;
      }
      return 200;
    };
    const fingerprint = await post(alertOf('firing', name, start));
    chain.advance(1_000);
    await post(alertOf('resolved', name, start, now()));
    await chain.settle();

    const events = deliveredTo(fingerprint);
    expect(events.at(-1)).toBe('resolved');
    expect(events.slice(events.indexOf('resolved'))).toEqual(['resolved']);
    expect(chain.sqs.queue(QUEUES.deliveries).messages).toEqual([]);
    expect(chain.sqs.queue(QUEUES.deliveriesDlq).messages).toEqual([]);
  });

  it('two copies of one delivery job processed at the same time are sent once', async () => {
    const incident: Incident = {
      ...normalize(fixture('cloudwatch', 'lambda-sns-single-metric-alarm.json'), { receivedAt: new Date(), source: 'cloudwatch' }).incidents[0]!,
      fingerprint: `cloudwatch:${String(scenario).padStart(4, '0')}${'c0ffee'.repeat(10)}`,
    };
    const job = JSON.stringify({ event: 'opened', incident, channel: 'audit', transitionId: `v1.${String(chain.clock.now())}`, attempt: 1, receivedAt: now() });
    // SQS at least once: the same job twice, in one batch, while the webhook takes its time.
    delayMs = 300;
    chain.sqs.send(QUEUES.deliveries, job);
    chain.sqs.send(QUEUES.deliveries, job);
    await chain.settle();

    expect(deliveredTo(incident.fingerprint)).toEqual(['opened']);
    expect(told.filter((entry) => entry.fingerprint === incident.fingerprint)).toHaveLength(1);
    expect(chain.sqs.queue(QUEUES.deliveries).messages).toEqual([]);
    expect(chain.sqs.queue(QUEUES.deliveriesDlq).messages).toEqual([]);
  });

  it('a webhook down for an hour gets its notice when it is back, once; nothing is dead-lettered', async () => {
    const name = `Outage${String(scenario)}`;
    const backAt = chain.clock.now() + 61 * 60_000;
    answer = () => (chain.clock.now() < backAt ? 503 : 200);
    const fingerprint = await post(alertOf('firing', name, now()));
    await chain.settle();

    const attempts = told.filter((entry) => entry.fingerprint === fingerprint);
    expect(attempts.length).toBeGreaterThan(5);
    expect(deliveredTo(fingerprint)).toEqual(['opened']);
    expect(new Set(attempts.map((entry) => entry.deliveryId)).size).toBe(1);
    expect(chain.clock.now()).toBeGreaterThanOrEqual(backAt);
    expect(chain.sqs.queue(QUEUES.deliveriesDlq).messages).toEqual([]);
    expect(chain.sqs.queue(QUEUES.deliveries).messages).toEqual([]);
  });

  it('a dead letter keeps the job as sent, with the reason and attempts; the standard redrive delivers it', async () => {
    const name = `Redrive${String(scenario)}`;
    answer = () => 404;
    const fingerprint = await post(alertOf('firing', name, now()));
    await chain.settle();

    const letters = chain.sqs.queue(QUEUES.deliveriesDlq).messages;
    expect(letters).toHaveLength(1);
    const letter = letters[0]!;
    expect(JSON.parse(letter.body)).toMatchObject({ event: 'opened', channel: 'audit', incident: { fingerprint }, attempt: 1 });
    expect(letter.messageAttributes['TocsinReason']).toMatchObject({ DataType: 'String', StringValue: expect.stringMatching(/^HTTP 404/) as string });
    expect(letter.messageAttributes['TocsinAttempts']).toEqual({ DataType: 'Number', StringValue: '1' });

    // The receiver is fixed; the operator redrives the DLQ to the deliveries queue.
    answer = () => 200;
    chain.redrive(QUEUES.deliveriesDlq, QUEUES.deliveries);
    await chain.settle();
    expect(deliveredTo(fingerprint)).toEqual(['opened']);
    expect(chain.sqs.queue(QUEUES.deliveriesDlq).messages).toEqual([]);
    expect(chain.sqs.queue(QUEUES.deliveries).messages).toEqual([]);
  });

  it('malformed messages on either queue are dead-lettered as they came, with why', async () => {
    chain.sqs.send(QUEUES.deliveries, '{"event":"opened","channel":"audit"}');
    chain.sqs.send(QUEUES.incidents, 'not json at all');
    await chain.settle();

    const [delivery] = chain.sqs.queue(QUEUES.deliveriesDlq).messages;
    expect(delivery?.body).toBe('{"event":"opened","channel":"audit"}');
    expect(delivery?.messageAttributes['TocsinReason']?.StringValue).toMatch(/^invalid delivery job message: /);
    const [incident] = chain.sqs.queue(QUEUES.incidentsDlq).messages;
    expect(incident?.body).toBe('not json at all');
    expect(incident?.messageAttributes['TocsinReason']?.StringValue).toBe('incident message body is not JSON');
    // Taken off the DLQs for the next scenario.
    chain.sqs.queue(QUEUES.deliveriesDlq).messages.splice(0);
    chain.sqs.queue(QUEUES.incidentsDlq).messages.splice(0);
  });

  it('a receiver refusing with characters SQS does not take: the dead letter still lands, its reason cleaned', async () => {
    const name = `OddReason${String(scenario)}`;
    answer = () => 400;
    replyBody = 'refused \uFFFF\u0001\uD800 here';
    const fingerprint = await post(alertOf('firing', name, now()));
    await chain.settle();

    const letters = chain.sqs.queue(QUEUES.deliveriesDlq).messages.filter((message) => message.body.includes(fingerprint));
    expect(letters).toHaveLength(1);
    expect(letters[0]!.messageAttributes['TocsinReason']?.StringValue).toMatch(/^HTTP 400.*refused \uFFFD\uFFFD\uFFFD here/);
    expect(chain.sqs.queue(QUEUES.deliveries).messages).toEqual([]);
    chain.sqs.queue(QUEUES.deliveriesDlq).messages.splice(0);
  });
});
