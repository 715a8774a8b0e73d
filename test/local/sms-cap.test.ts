// The SMS daily cap on the local pipeline (real database file, real webhook receiver, SNS
// Publish served by the SMS tests' stand-in, aws-sdk-client-mock): past the cap one text says
// so, the rest are told on the route's other channels (never dropped), a resolve still goes
// wherever its firing went, the count survives a restart, and a route with nothing but SMS
// keeps its notices for the next UTC day.
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../shared/config/load.ts';
import type { Incident } from '../../shared/incident.ts';
import { LocalDatabase } from '../../shared/local/database.ts';
import { LocalPipeline } from '../../shared/local/pipeline.ts';
import { startRecorder, type HttpRecorder } from '../helpers/http-recorder.ts';

const CAP = 3;
const NUMBER = '+15555550100';

const incident = (n: number): Incident => ({
  schemaVersion: 1,
  fingerprint: `alertmanager:${n.toString(16).padStart(32, '0')}`,
  status: 'firing',
  severity: 'critical',
  title: `DiskFull on db-${String(n)}`,
  source: { kind: 'alertmanager', cloud: 'other', rule: 'DiskFull' },
  startsAt: '2026-12-02T08:00:00.000Z',
  labels: { alertname: 'DiskFull', instance: `db-${String(n)}` },
  links: [],
});

describe('SMS daily cap', () => {
  let dir: string;
  let receiver: HttpRecorder;
  let sns: ReturnType<typeof mockClient>;
  let clock: Date;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tocsin-sms-cap-'));
    receiver = await startRecorder();
  });
  afterAll(async () => {
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    sns = mockClient(SNSClient);
    sns.on(PublishCommand).resolves({ MessageId: 'sms-1' });
    receiver.requests.length = 0;
    clock = new Date('2026-12-02T10:00:00Z');
  });
  afterEach(() => {
    sns.restore();
  });

  const texts = (): string[] => sns.commandCalls(PublishCommand).map((call) => call.args[0].input.Message ?? '');
  const hooked = (): string[] =>
    receiver.requests.filter((request) => request.path === '/hook').map((request) => (JSON.parse(request.body) as { incident: Incident }).incident.title);

  function open(file: string, routes: unknown[]): { pipeline: LocalPipeline; database: LocalDatabase } {
    const database = LocalDatabase.open({ file: join(dir, file) });
    const config = validateConfig({
      channels: {
        pager: { type: 'sms', phoneNumbers: [NUMBER], region: 'eu-west-1' },
        hook: { type: 'webhook', url: `${receiver.url}/hook` },
      },
      routes,
      rateLimits: { channels: { pager: { limit: 100, per: '1h', burst: 100, dailyCap: CAP } } },
    });
    const pipeline = new LocalPipeline({ config, database, now: () => clock, scheduler: false });
    pipeline.start();
    return { pipeline, database };
  }

  async function fire(pipeline: LocalPipeline, from: number, count: number): Promise<void> {
    for (let n = from; n < from + count; n += 1) {
      await pipeline.accept({ incidents: [incident(n)], receivedAt: clock, path: '/v1/ingest/alertmanager', body: new Uint8Array() });
      // One at a time, so the texts go in the order the alerts came.
      expect(await pipeline.drain(10_000)).toBe(true);
    }
  }

  it('sends one "cap reached" text, tells the rest on the route\'s other channels, and keeps counting after a restart', async () => {
    let { pipeline, database } = open('capped.db', [{ channels: ['pager', 'hook'] }]);
    try {
      await fire(pipeline, 1, 5);
      expect(texts()).toEqual([
        '[CRIT] FIRING: DiskFull on db-1',
        '[CRIT] FIRING: DiskFull on db-2',
        '[CRIT] FIRING: DiskFull on db-3',
        `Tocsin: daily SMS cap ${String(CAP)} reached; further alerts today go to hook`,
      ]);
      expect(sns.commandCalls(PublishCommand).every((call) => call.args[0].input.PhoneNumber === NUMBER)).toBe(true);
      // Every alert reached the other channel; none was dropped or dead-lettered.
      expect(hooked()).toEqual([1, 2, 3, 4, 5].map((n) => `DiskFull on db-${String(n)}`));
      expect(pipeline.deadLetters(10)).toEqual([]);
      const outcomes = (n: number) =>
        (pipeline.incident(incident(n).fingerprint)?.history ?? []).flatMap((entry) => (entry.kind === 'delivery' && entry.channel === 'pager' ? [entry.outcome] : []));
      expect(outcomes(3)).toEqual(['delivered']);
      expect(outcomes(4)).toEqual(['capped']);
      expect(outcomes(5)).toEqual(['capped']);

      // A resolve is told wherever its firing was: db-1's goes by SMS, cap or no cap.
      await pipeline.accept({
        incidents: [{ ...incident(1), status: 'resolved', endsAt: '2026-12-02T09:00:00.000Z' }],
        receivedAt: clock,
        path: '/v1/ingest/alertmanager',
        body: new Uint8Array(),
      });
      expect(await pipeline.drain(10_000)).toBe(true);
      expect(texts()).toHaveLength(CAP + 2);
      expect(texts().at(-1)).toMatch(/^\[OK\] RESOLVED after 1h: DiskFull on db-1/);
    } finally {
      await pipeline.stop(1_000);
      database.close();
    }

    // The day's count is in the database: after a restart the cap holds, and is not announced again.
    ({ pipeline, database } = open('capped.db', [{ channels: ['pager', 'hook'] }]));
    try {
      await fire(pipeline, 6, 1);
      expect(texts()).toHaveLength(CAP + 2);
      expect(hooked()).toContain('DiskFull on db-6');

      // A new UTC day starts a new count.
      clock = new Date('2026-12-03T00:00:01Z');
      await fire(pipeline, 7, 1);
      expect(texts().at(-1)).toBe('[CRIT] FIRING: DiskFull on db-7');
    } finally {
      await pipeline.stop(1_000);
      database.close();
    }
  });

  it('keeps the notices of a route with nothing but SMS for the next UTC day', async () => {
    const { pipeline, database } = open('sms-only.db', [{ channels: ['pager'] }]);
    try {
      for (let n = 1; n <= CAP + 2; n += 1) {
        await pipeline.accept({ incidents: [incident(n)], receivedAt: clock, path: '/v1/ingest/alertmanager', body: new Uint8Array() });
      }
      await expect.poll(() => pipeline.depths().deliveriesDelayed, { timeout: 10_000 }).toBe(2);
      expect(texts()).toHaveLength(CAP + 1);
      expect(texts().at(-1)).toBe(`Tocsin: daily SMS cap ${String(CAP)} reached; further alerts today wait until tomorrow (UTC)`);
      expect(pipeline.deadLetters(10)).toEqual([]);

      // Past midnight UTC the two held notices go out (a new alert wakes the pipeline at once).
      clock = new Date('2026-12-03T00:00:05Z');
      await pipeline.accept({ incidents: [incident(99)], receivedAt: clock, path: '/v1/ingest/alertmanager', body: new Uint8Array() });
      expect(await pipeline.drain(10_000)).toBe(true);
      expect(texts()).toHaveLength(CAP + 1 + 3);
      expect(pipeline.deadLetters(10)).toEqual([]);
    } finally {
      await pipeline.stop(1_000);
      database.close();
    }
  });
});
