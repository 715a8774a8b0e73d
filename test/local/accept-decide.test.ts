// Deciding at accept time: with nothing waiting on the incidents queue, an accepted request's
// incidents are decided in the request's own transaction (record written, jobs queued) before the
// 202; when something is waiting, or deciding throws, they wait on the queue as before, so arrival
// order and "accepted means kept" both hold. Real database file, real webhook receiver.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../shared/config/load.ts';
import type { Incident } from '../../shared/incident.ts';
import { LocalDatabase } from '../../shared/local/database.ts';
import { LocalPipeline } from '../../shared/local/pipeline.ts';
import { startRecorder, type HttpRecorder } from '../helpers/http-recorder.ts';

const FINGERPRINT = 'alertmanager:fedcba9876543210fedcba9876543210';

const incident = (status: 'firing' | 'resolved', at: string): Incident => ({
  schemaVersion: 1,
  fingerprint: FINGERPRINT,
  status,
  severity: 'error',
  title: 'QueueBacklog on orders',
  source: { kind: 'alertmanager', cloud: 'other', rule: 'QueueBacklog' },
  startsAt: '2026-12-02T09:00:00.000Z',
  ...(status === 'resolved' ? { endsAt: at } : {}),
  labels: { alertname: 'QueueBacklog' },
  links: [],
});

describe('deciding at accept time', () => {
  let dir: string;
  let receiver: HttpRecorder;
  let pipeline: LocalPipeline | undefined;
  let database: LocalDatabase | undefined;
  let run = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tocsin-accept-'));
    receiver = await startRecorder();
  });
  afterEach(async () => {
    await pipeline?.stop(1_000);
    database?.close();
    pipeline = undefined;
    database = undefined;
    receiver.requests.length = 0;
  });
  afterAll(async () => {
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  });

  const open = (): LocalPipeline => {
    run += 1;
    database = LocalDatabase.open({ file: join(dir, `tocsin-${String(run)}.db`) });
    const config = validateConfig({ channels: { hook: { type: 'webhook', url: `${receiver.url}/hook` } }, routes: [{ channels: ['hook'] }] });
    pipeline = new LocalPipeline({ config, database });
    pipeline.start();
    return pipeline;
  };
  const events = (): string[] => receiver.requests.filter((request) => request.path === '/hook').map((request) => (JSON.parse(request.body) as { event: string }).event);
  const accept = (local: LocalPipeline, status: 'firing' | 'resolved', at: string): Promise<void> =>
    local.accept({ incidents: [incident(status, at)], receivedAt: new Date(at), path: '/v1/ingest/alertmanager', body: new TextEncoder().encode('{}') });

  it('decides in the request’s own transaction: the record and its job exist when accept resolves, nothing passes through the incidents queue', async () => {
    const local = open();
    const rowsBefore = local.database.rowWrites();
    await accept(local, 'firing', new Date().toISOString());
    expect(local.store.get(FINGERPRINT)?.status).toBe('firing');
    expect(local.depths().incidents).toBe(0);
    const history = local.incident(FINGERPRINT)?.history.map((entry) => entry.kind);
    expect(history).toEqual(['received', 'decision']);
    expect(await local.drain(10_000)).toBe(true);
    expect(events()).toEqual(['opened']);
    // payload, received, record, decision, job; then the job's removal and its delivery entry.
    expect(local.database.rowWrites() - rowsBefore).toBeLessThanOrEqual(9);
  });

  it('when deciding throws, the request is still kept: the incident waits on the queue and dispatch tells it once', async () => {
    const local = open();
    const applySync = local.store.applySync.bind(local.store);
    let failures = 1;
    local.store.applySync = (...args) => {
      if (failures > 0) {
        failures -= 1;
        throw new Error('injected: the record could not be read');
      }
      return applySync(...args);
    };
    await accept(local, 'firing', new Date().toISOString());
    expect(await local.drain(10_000)).toBe(true);
    expect(events()).toEqual(['opened']);
    expect(local.deadLetters(10)).toEqual([]);
  });

  it('keeps arrival order: while an earlier incident waits on the queue, a later one queues behind it', async () => {
    const local = open();
    const applySync = local.store.applySync.bind(local.store);
    // The firing fails at accept and at its first dispatch: it waits out a retry delay (about a second).
    let failures = 2;
    local.store.applySync = (...args) => {
      if (failures > 0) {
        failures -= 1;
        throw new Error('injected: the record could not be read');
      }
      return applySync(...args);
    };
    const firedAt = Date.now();
    await accept(local, 'firing', new Date(firedAt).toISOString());
    await expect.poll(() => failures, { timeout: 5_000 }).toBe(0);
    expect(local.depths().incidents).toBe(1);
    // The resolve must not be decided before its firing.
    await accept(local, 'resolved', new Date(firedAt + 10).toISOString());
    expect(local.depths().incidents).toBe(2);
    expect(await local.drain(15_000)).toBe(true);
    expect(events()).toEqual(['opened', 'resolved']);
  });
});
