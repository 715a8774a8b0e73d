// The deliveries queue follows the config's retry window: maxReceiveCount, retention and the
// limit deliver is told, and a config the queue cannot honour stops the synth with a clear error.
// Bundling is skipped (pipeline.test.ts covers it).
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { deliveryQueueSettings, EXTRA_RECEIVES } from '../../infra/delivery-window.ts';
import { TocsinPipeline } from '../../infra/tocsin-pipeline.ts';
import { logicalId, resource, testApp } from './template.ts';

const BASE = { channels: { log: { type: 'console' } }, routes: [{ channels: ['log'] }] };

function build(defaults: Record<string, unknown> | undefined) {
  const app = testApp({ bundle: false });
  const stack = new Stack(app, 'Window');
  const pipeline = new TocsinPipeline(stack, 'Pipeline', { config: { ...BASE, ...(defaults ? { defaults } : {}) } });
  const template = Template.fromStack(stack);
  const queue = resource(template, logicalId(stack, pipeline.deliveriesQueue)).Properties;
  const incidents = resource(template, logicalId(stack, pipeline.incidentsQueue)).Properties;
  const env = (name: 'deliver' | 'dispatch'): Record<string, unknown> =>
    (resource(template, logicalId(stack, pipeline.functions[name])).Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
  return { queue, incidents, env, stack, pipeline };
}

describe('the deliveries queue follows the retry window', () => {
  it('by default: 12 attempts over 66 min to 2 h 12 min; redrive after 17 receives; kept 4 days', () => {
    const { queue, incidents, env, stack, pipeline } = build(undefined);
    expect(queue['RedrivePolicy']).toMatchObject({ maxReceiveCount: 12 + EXTRA_RECEIVES });
    expect(queue['MessageRetentionPeriod']).toBe(4 * 86_400);
    expect(queue['VisibilityTimeout']).toBe(180);
    expect(env('deliver')['DELIVERIES_MAX_RECEIVE_COUNT']).toBe(String(12 + EXTRA_RECEIVES));
    expect(pipeline.deliverySettings.window).toEqual({ minMs: 3_975_000, maxMs: 7_950_000 });
    // The incidents queue keeps its fixed limit, and dispatch dead-letters with reasons.
    expect(incidents['RedrivePolicy']).toMatchObject({ maxReceiveCount: 5 });
    expect(env('dispatch')).toMatchObject({ INCIDENTS_DLQ_URL: { Ref: logicalId(stack, pipeline.incidentsDeadLetterQueue) }, INCIDENTS_MAX_RECEIVE_COUNT: '5' });
  }, 180_000);

  it('a longer window keeps the message longer: 25 attempts up to 12 h apart (7.7 days) are kept a day more', () => {
    const settings = deliveryQueueSettings({ defaults: { maxAttempts: 25, backoff: { initial: '1m', max: '12h' } } }, 'c');
    expect(settings.maxReceiveCount).toBe(30);
    expect(settings.window.maxMs).toBe(666_180_000);
    expect(settings.retentionMs).toBe(666_180_000 + 86_400_000);
  });

  it('refuses a backoff longer than SQS can hold a message invisible (12 h)', () => {
    expect(() => build({ backoff: { max: '13h' } })).toThrow(
      'the config: defaults.backoff.max is 13h; on AWS a retry waits in the deliveries queue (ChangeMessageVisibility), which holds a message for at most 12 hours: set it to 12h or less',
    );
  });

  it('refuses a window longer than SQS keeps a message (14 days)', () => {
    expect(() => build({ maxAttempts: 40, backoff: { initial: '12h', max: '12h' } })).toThrow(
      /^the config: defaults\.maxAttempts 40 with defaults\.backoff\.max 12h retries for up to 468h; .* more than the 14 days SQS keeps a message: lower one of them$/,
    );
  });

  it('names a malformed setting by its path', () => {
    expect(() => build({ backoff: { initial: 'soon' } })).toThrow(/^the config: defaults: backoff\.initial: expected a duration/);
    expect(() => build({ backoff: { initial: '1h', max: '1m' } })).toThrow(/initial must not be longer than max/);
  });
});
