// Splunk Observability (SignalFx) end to end through the local server: `tocsin replay` sends the
// fixture folder to /v1/ingest/signalfx (the folder's route), each notification is accepted as a
// SignalFx incident, and the webhook channel is told of the alert that opened and of the one that
// was manually resolved; a clear for an alert never seen is not told (the default).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replay } from '../../functions/local/replay.ts';
import { startLocalHarness, type LocalHarness } from '../helpers/local-harness.ts';

interface WebhookBody {
  readonly event: string;
  readonly incident: { readonly title: string; readonly status: string; readonly source: { readonly kind: string } };
}

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'signalfx');

describe('SignalFx through the local server', () => {
  let harness: LocalHarness;

  beforeAll(async () => {
    harness = await startLocalHarness({ dataPrefix: 'tocsin-signalfx-data-' });
  });

  afterAll(async () => {
    await harness.stop();
  });

  it('accepts every fixture on /v1/ingest/signalfx and delivers the opened and resolved notices', async () => {
    const results = await replay(FIXTURES, { baseUrl: harness.local.url });
    expect(results.map((result) => [result.file.slice(FIXTURES.length + 1), result.path, result.status, result.message])).toEqual([
      ['default-payload-anomalous.json', '/v1/ingest/signalfx', 202, '1 incident(s)'],
      ['default-payload-manually-resolved.json', '/v1/ingest/signalfx', 202, '1 incident(s)'],
      ['docs-latency-anomalous.json', '/v1/ingest/signalfx', 202, '1 incident(s)'],
      ['docs-memory-ok.json', '/v1/ingest/signalfx', 202, '1 incident(s)'],
    ]);
    expect(await harness.local.pipeline.drain(10_000)).toBe(true);
    const delivered = harness.receiver.requests.map((request) => JSON.parse(request.body) as WebhookBody);
    expect(delivered.map(({ event, incident }) => [event, incident.source.kind, incident.status, incident.title]).sort()).toEqual([
      ['opened', 'signalfx', 'firing', 'Checkout hosts CPU: CPU above 85% for 5 minutes on checkout-3'],
      ['opened', 'signalfx', 'firing', 'My detector: My detector rule on myserver'],
      ['resolved', 'signalfx', 'resolved', 'Checkout hosts CPU: CPU above 85% for 5 minutes on checkout-3'],
    ]);
  });
});
