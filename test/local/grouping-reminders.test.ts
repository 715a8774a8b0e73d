// Reminders and resolves of grouped incidents (README, "Grouping into digests"): incidents opened
// together are reminded together, as STILL FIRING lines of one digest, and their resolves are
// batched the same way. The local pipeline on a real database file, a real webhook receiver,
// and a clock the test moves forward (the reminder is an hour away).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../shared/config/load.ts';
import type { Incident } from '../../shared/incident.ts';
import { LocalDatabase } from '../../shared/local/database.ts';
import { LocalPipeline } from '../../shared/local/pipeline.ts';
import { waitFor } from '../helpers/cli-process.ts';
import { startRecorder, type HttpRecorder } from '../helpers/http-recorder.ts';

const incident = (name: string, status: 'firing' | 'resolved', endsAt?: string): Incident => ({
  schemaVersion: 1,
  fingerprint: `alertmanager:${name}`,
  status,
  severity: 'error',
  title: `DiskFull on ${name}`,
  source: { kind: 'alertmanager', cloud: 'other', rule: 'DiskFull' },
  startsAt: '2026-12-02T09:00:00.000Z',
  ...(endsAt === undefined ? {} : { endsAt }),
  labels: { alertname: name.startsWith('other') ? 'Other' : 'DiskFull', instance: name },
  links: [],
});

interface DigestBody {
  readonly event: string;
  readonly digest: { readonly items: { readonly event: string; readonly incident: { readonly fingerprint: string } }[] };
}

describe('grouped incidents', () => {
  let dir: string;
  let receiver: HttpRecorder;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tocsin-grouping-reminders-'));
    receiver = await startRecorder();
  });
  afterAll(async () => {
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('are reminded together in one digest, and their resolves batched the same way', async () => {
    let offsetMs = 0;
    const now = (): Date => new Date(Date.now() + offsetMs);
    const database = LocalDatabase.open({ file: join(dir, 'tocsin.db') });
    const config = validateConfig({
      channels: { hook: { type: 'webhook', url: `${receiver.url}/hook` } },
      routes: [{ channels: ['hook'], groupBy: ['alertname'], groupWait: '200ms', groupInterval: '500ms' }],
      defaults: { renotifyAfter: '1h' },
    });
    const pipeline = new LocalPipeline({ config, database, now });
    pipeline.start();
    const accept = (incidents: Incident[]): Promise<void> =>
      pipeline.accept({ incidents, receivedAt: now(), path: '/v1/ingest/alertmanager', body: new Uint8Array() });
    const bodies = (): DigestBody[] => receiver.requests.map((request) => JSON.parse(request.body) as DigestBody);

    try {
      await accept(['a', 'b', 'c'].map((name) => incident(name, 'firing')));
      await waitFor(() => receiver.requests.length === 1, 5_000, 'the first digest');
      expect(bodies()[0]?.digest.items.map((item) => item.event)).toEqual(['opened', 'opened', 'opened']);

      // An hour later the three reminders fall due together: one digest of STILL FIRING lines.
      // (News from another group wakes the scheduler now instead of at its next minute.)
      offsetMs = 3_600_000 + 1_000;
      await accept([incident('other-1', 'firing')]);
      await waitFor(() => bodies().some((body) => body.digest.items.some((item) => item.event === 'renotified')), 10_000, 'the reminder digest');
      const reminders = bodies().find((body) => body.digest.items.some((item) => item.event === 'renotified'));
      expect(reminders?.digest.items.map((item) => [item.incident.fingerprint, item.event])).toEqual([
        ['alertmanager:a', 'renotified'],
        ['alertmanager:b', 'renotified'],
        ['alertmanager:c', 'renotified'],
      ]);

      // Two resolve, one stays: one digest with both resolves.
      const ended = now().toISOString();
      await accept([incident('a', 'resolved', ended), incident('b', 'resolved', ended)]);
      await waitFor(() => bodies().some((body) => body.digest.items.some((item) => item.event === 'resolved')), 10_000, 'the resolve digest');
      const resolves = bodies().filter((body) => body.digest.items.some((item) => item.event === 'resolved'));
      expect(resolves).toHaveLength(1);
      expect(resolves[0]?.digest.items.map((item) => [item.incident.fingerprint, item.event])).toEqual([
        ['alertmanager:a', 'resolved'],
        ['alertmanager:b', 'resolved'],
      ]);
      expect(pipeline.deadLetters(10)).toEqual([]);
    } finally {
      await pipeline.stop(1_000);
      database.close();
    }
  }, 30_000);
});
