// The local pipeline keeps the same rule as the cloud: per incident and channel, a notice older
// than one already told is dropped, never shown after it (the delivery claims' cursor in the
// local database). The queue keeps each line in order; a redriven dead letter is how an older
// notice comes back after a later one went out. Real database file, real webhook receiver.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../shared/config/load.ts';
import type { Incident } from '../../shared/incident.ts';
import { LocalDatabase } from '../../shared/local/database.ts';
import { LocalPipeline } from '../../shared/local/pipeline.ts';
import { startRecorder, type HttpRecorder } from '../helpers/http-recorder.ts';

const incident = (status: 'firing' | 'resolved'): Incident => ({
  schemaVersion: 1,
  fingerprint: 'alertmanager:0123456789abcdef0123456789abcdef',
  status,
  severity: 'critical',
  title: 'DiskFull on db-1',
  source: { kind: 'alertmanager', cloud: 'other', rule: 'DiskFull' },
  startsAt: '2026-12-02T08:00:00.000Z',
  ...(status === 'resolved' ? { endsAt: '2026-12-02T08:05:00.000Z' } : {}),
  labels: { alertname: 'DiskFull' },
  links: [],
});

describe('local delivery order', () => {
  let dir: string;
  let receiver: HttpRecorder;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tocsin-order-'));
    receiver = await startRecorder();
  });
  afterAll(async () => {
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('drops a redriven firing once its resolve was told on the channel', async () => {
    const database = LocalDatabase.open({ file: join(dir, 'tocsin.db') });
    const config = validateConfig({ channels: { hook: { type: 'webhook', url: `${receiver.url}/hook` } }, routes: [{ channels: ['hook'] }] });
    const pipeline = new LocalPipeline({ config, database });
    pipeline.start();
    const events = (): string[] => receiver.requests.filter((request) => request.path === '/hook').map((request) => (JSON.parse(request.body) as { event: string }).event);
    try {
      // The firing's notice is refused for good (a 404): a dead letter.
      receiver.respondWith(() => ({ status: 404, body: 'no such hook' }));
      await pipeline.accept({ incidents: [incident('firing')], receivedAt: new Date('2026-12-02T08:00:01Z'), path: '/v1/ingest', body: new Uint8Array() });
      expect(await pipeline.drain(10_000)).toBe(true);
      expect(pipeline.deadLetters(10)).toHaveLength(1);

      // The hook is fixed; the resolve goes out.
      receiver.respondWith(() => ({ status: 200 }));
      await pipeline.accept({ incidents: [incident('resolved')], receivedAt: new Date('2026-12-02T08:05:01Z'), path: '/v1/ingest', body: new Uint8Array() });
      expect(await pipeline.drain(10_000)).toBe(true);
      expect(events()).toEqual(['opened', 'resolved']);

      // Redriving the old firing must not leave the channel showing a firing alarm.
      expect(await pipeline.redrive()).toBe(1);
      expect(await pipeline.drain(10_000)).toBe(true);
      expect(events()).toEqual(['opened', 'resolved']);
      expect(pipeline.deadLetters(10)).toEqual([]);
      const history = pipeline.incident(incident('firing').fingerprint)?.history ?? [];
      expect(history.filter((entry) => entry.kind === 'delivery').map((entry) => (entry as { outcome: string }).outcome)).toEqual([
        'dead-letter',
        'delivered',
        'superseded',
      ]);
    } finally {
      await pipeline.stop(1_000);
      database.close();
    }
  });
});
