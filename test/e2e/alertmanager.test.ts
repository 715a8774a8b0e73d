// End to end: Debian's Alertmanager → the local pipeline → a webhook channel whose receiver is
// a recording HTTP server. Alertmanager re-sends the group every few seconds; the receiver must
// see exactly one `opened` and, after the alert ends, exactly one `resolved`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLocal } from '../../functions/local/start.ts';
import { startAlertmanager, type RunningAlertmanager } from '../helpers/alertmanager.ts';
import type { HttpRecorder } from '../helpers/http-recorder.ts';
import { startLocalHarness, type LocalHarness } from '../helpers/local-harness.ts';

interface WebhookBody {
  readonly event: string;
  readonly incident: { readonly fingerprint: string; readonly status: string; readonly title: string; readonly severity: string; readonly labels: Record<string, string> };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function metric(url: string, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{`) && candidate.includes(labels));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('Alertmanager → local pipeline → webhook', () => {
  let harness: LocalHarness;
  let recorder: HttpRecorder;
  let local: RunningLocal;
  let alertmanager: RunningAlertmanager;

  beforeAll(async () => {
    harness = await startLocalHarness({ dataPrefix: 'tocsin-e2e-data-' });
    ({ receiver: recorder, local } = harness);
    alertmanager = await startAlertmanager(`${local.url}/v1/ingest/alertmanager`);
  }, 30_000);

  afterAll(async () => {
    await alertmanager.stop();
    await harness.stop();
  });

  const bodies = (): WebhookBody[] => recorder.requests.map((request) => JSON.parse(request.body) as WebhookBody);

  it('tells opened once despite repeats, then resolved once', async () => {
    const startsAt = new Date(Date.now() - 60_000).toISOString();
    const alert = {
      labels: { alertname: 'DiskAlmostFull', instance: 'db-1:9100', severity: 'critical', team: 'storage' },
      annotations: { summary: 'Disk /var is 97% full on db-1' },
      startsAt,
      generatorURL: 'http://prometheus.example.com/graph?g0.expr=disk_used_ratio%3E0.95',
    };
    await alertmanager.postAlerts([{ ...alert, endsAt: new Date(Date.now() + 3_600_000).toISOString() }]);

    await until(() => recorder.requests.length >= 1, 20_000, 'the opened notification');
    // Let Alertmanager repeat the group (repeat_interval 2s) and prove Tocsin saw the repeats.
    await until(async () => (await metric(local.url, 'tocsin_suppressed_total', 'reason="duplicate"')) >= 2, 20_000, 'two suppressed repeats');
    expect(await metric(local.url, 'tocsin_received_total', 'endpoint="/v1/ingest/alertmanager"')).toBeGreaterThanOrEqual(3);

    const opened = bodies();
    expect(opened).toHaveLength(1);
    expect(opened[0]!.event).toBe('opened');
    expect(opened[0]!.incident).toMatchObject({ status: 'firing', severity: 'critical', labels: { alertname: 'DiskAlmostFull', instance: 'db-1:9100', team: 'storage' } });
    expect(opened[0]!.incident.title).toContain('DiskAlmostFull');

    // End the alert: Alertmanager sends the group once more with status resolved.
    await alertmanager.postAlerts([{ ...alert, endsAt: new Date().toISOString() }]);
    await until(() => bodies().some((body) => body.event === 'resolved'), 20_000, 'the resolved notification');
    await sleep(2_500); // room for any (wrong) extra notification to arrive

    const events = bodies().map((body) => body.event);
    expect(events).toEqual(['opened', 'resolved']);
    const [first, second] = bodies();
    expect(second!.incident.fingerprint).toBe(first!.incident.fingerprint);
    expect(second!.incident.status).toBe('resolved');
  }, 60_000);
});
