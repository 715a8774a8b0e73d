// One behaviour suite, run against every store adapter: in-process, SQLite (the local
// pipeline's database, a real file), and DynamoDB on dynalite (through a plain client and
// through a document client). Each adapter must give exactly the
// decisions and records of the pure decide() folded over the same events.
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decide,
  DynamoDbIncidentStore,
  MemoryIncidentStore,
  type DedupSettings,
  type IncidentRecord,
  type IncidentStore,
  type StoreClockOptions,
} from '../../shared/dedup/index.ts';
import { SqliteIncidentStore } from '../../shared/dedup/sqlite-store.ts';
import { LocalDatabase } from '../../shared/local/database.ts';
import { startDynalite, type RunningDynalite } from '../helpers/dynalite.ts';
import { at, firingAt, freshFingerprint, label, resolvedAt } from './fixtures.ts';

const TABLE = 'tocsin-state';
const settings: DedupSettings = { renotifyAfterMs: 60 * 60_000, flap: { changes: 3, windowMs: 10 * 60_000 }, notifyUnknownResolve: false, resolvedTtlSeconds: 3_600 };

let dynalite: RunningDynalite;
let sqliteDir: string;
let sqlite: LocalDatabase;
beforeAll(async () => {
  dynalite = await startDynalite();
  await dynalite.createTable(TABLE);
  sqliteDir = await mkdtemp(join(tmpdir(), 'tocsin-contract-'));
  sqlite = LocalDatabase.open({ file: join(sqliteDir, 'tocsin.db') });
});
afterAll(async () => {
  await dynalite.close();
  sqlite.close();
  await rm(sqliteDir, { recursive: true, force: true });
});

type MakeStore = (options?: StoreClockOptions & { settings?: DedupSettings }) => IncidentStore;
const adapters: [string, MakeStore][] = [
  ['in-process', (options) => new MemoryIncidentStore({ settings, ...options })],
  ['SQLite (local database)', (options) => new SqliteIncidentStore(sqlite, { settings, ...options })],
  ['DynamoDB (dynalite)', (options) => new DynamoDbIncidentStore({ client: dynalite.client, tableName: TABLE, settings, ...options })],
  [
    'DynamoDB (dynalite, document client)',
    (options) => new DynamoDbIncidentStore({ client: DynamoDBDocumentClient.from(dynalite.client), tableName: TABLE, settings, ...options }),
  ],
];

describe.each(adapters)('%s store', (_name, makeStore) => {
  it('opens, suppresses the duplicate, resolves, ignores the stale event, suppresses the repeat resolve', async () => {
    const store = makeStore();
    const fp = freshFingerprint();
    const events = [firingAt(fp, 0), firingAt(fp, 0), resolvedAt(fp, 0, 30), firingAt(fp, 10), resolvedAt(fp, 0, 30)];
    const actions: string[] = [];
    for (const [index, event] of events.entries()) actions.push(label((await store.apply(event, at(31 + index))).decision));
    expect(actions).toEqual(['opened', 'suppressed:duplicate', 'resolved', 'suppressed:stale', 'suppressed:duplicate']);
  });

  it('keeps counts, first and last seen, the last notice and the incident as sent', async () => {
    const store = makeStore();
    const fp = freshFingerprint();
    const opened = await store.apply(firingAt(fp, 0), at(1));
    const { record } = await store.apply(firingAt(fp, 0), at(2));
    expect(record).toEqual({
      fingerprint: fp,
      version: 1,
      status: 'firing',
      incident: firingAt(fp, 0),
      episodeStartedAt: at(0).toISOString(),
      lastEventTime: at(0).toISOString(),
      occurrences: 2,
      firstSeen: at(1).toISOString(),
      lastSeen: at(2).toISOString(),
      lastNotifiedAt: at(1).toISOString(),
      transitionId: opened.decision.action === 'opened' ? opened.decision.transitionId : 'not opened',
      nextReminderAt: new Date(at(1).getTime() + settings.renotifyAfterMs).toISOString(),
      changes: [],
      flapping: false,
    });
    expect(record.incident.metric?.value).toBe(2 ** 60);
  });

  it('out of order: a resolve that arrives before its firing does not leave the incident open', async () => {
    const store = makeStore();
    const fp = freshFingerprint();
    expect(label((await store.apply(resolvedAt(fp, 0, 10), at(11))).decision)).toBe('suppressed:unknown-resolve');
    const late = await store.apply(firingAt(fp, 0), at(12));
    expect(label(late.decision)).toBe('suppressed:stale');
    expect(late.record.status).toBe('resolved');
  });

  it('clock skew: a far-future firing (year 9999) cannot make its resolve stale', async () => {
    const store = makeStore();
    const fp = freshFingerprint();
    const future = { ...firingAt(fp, 0), startsAt: '9999-12-31T23:59:59.000Z' };
    const opened = await store.apply(future, at(1), at(1));
    expect(label(opened.decision)).toBe('opened');
    expect(opened.record.lastEventTime).toBe(at(1).toISOString());
    // Repeats of the future-stamped firing are duplicates, not a new episode.
    expect(label((await store.apply(future, at(2), at(2))).decision)).toBe('suppressed:duplicate');
    const resolve = await store.apply({ ...future, status: 'resolved', endsAt: at(5).toISOString() }, at(5), at(5));
    expect(label(resolve.decision)).toBe('resolved');
    expect(resolve.record.status).toBe('resolved');
  });

  it('clock skew: an event time is bounded by the time received, not the time applied', async () => {
    const store = makeStore();
    const fp = freshFingerprint();
    // Received at minute 0, applied at minute 20: stamped minute 10, it orders at minute 0.
    const opened = await store.apply(firingAt(fp, 10), at(20), at(0));
    expect(opened.record.lastEventTime).toBe(at(0).toISOString());
    expect(label((await store.apply(resolvedAt(fp, 10, 5), at(21), at(21))).decision)).toBe('resolved');
  });

  it('re-notifies after the interval, then waits again', async () => {
    const store = makeStore();
    const fp = freshFingerprint();
    const actions: string[] = [];
    for (const minute of [0, 59, 60, 61, 120]) actions.push(label((await store.apply(firingAt(fp, 0), at(minute))).decision));
    expect(actions).toEqual(['opened', 'suppressed:duplicate', 'renotified', 'suppressed:duplicate', 'renotified']);
  });

  it('flapping: one notice, then changes are paused until a quiet window', async () => {
    const store = makeStore();
    const fp = freshFingerprint();
    const events = [firingAt(fp, 0), resolvedAt(fp, 0, 1), firingAt(fp, 2), resolvedAt(fp, 2, 3), firingAt(fp, 4), resolvedAt(fp, 4, 5), firingAt(fp, 6)];
    const actions: string[] = [];
    for (const [minute, event] of events.entries()) actions.push(label((await store.apply(event, at(minute))).decision));
    expect(actions).toEqual(['opened', 'resolved', 'opened', 'resolved', 'flapping', 'suppressed:flapping', 'suppressed:flapping']);
    expect(label((await store.apply(resolvedAt(fp, 6, 20), at(20))).decision)).toBe('resolved');
  });

  it('50 concurrent deliveries of the same firing alert produce exactly one opened, and all are counted', async () => {
    const store = makeStore();
    const fp = freshFingerprint();
    const results = await Promise.all(Array.from({ length: 50 }, () => store.apply(firingAt(fp, 0), at(1))));
    expect(results.filter((result) => result.decision.action === 'opened')).toHaveLength(1);
    expect(results.filter((result) => label(result.decision) === 'suppressed:duplicate')).toHaveLength(49);
    expect(Math.max(...results.map((result) => result.record.occurrences))).toBe(50);
    expect((await store.apply(firingAt(fp, 0), at(2))).record.occurrences).toBe(51);
  });

  it('a record past its TTL counts as absent: a late firing opens again, the version carries on', async () => {
    const store = makeStore();
    const fp = freshFingerprint();
    await store.apply(firingAt(fp, 0), at(0));
    await store.apply(resolvedAt(fp, 0, 10), at(10));
    expect(label((await store.apply(firingAt(fp, 5), at(69))).decision)).toBe('suppressed:stale');
    const reopened = await store.apply(firingAt(fp, 5), at(71));
    expect(reopened.decision).toEqual({ action: 'opened', transitionId: `v3.${String(at(5).getTime())}` });
    expect(reopened.record).toMatchObject({ version: 3, occurrences: 1, firstSeen: at(71).toISOString() });
    expect(reopened.record.expiresAt).toBeUndefined();
  });

  it('gives exactly the decisions and records of decide() over random event sequences', async () => {
    const event = fc.record({
      resolved: fc.boolean(),
      startMinute: fc.integer({ min: 0, max: 20 }),
      duration: fc.integer({ min: 0, max: 5 }),
      gap: fc.integer({ min: 0, max: 30 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 10 }), async (events) => {
        const store = makeStore();
        const fp = freshFingerprint();
        let model: IncidentRecord | undefined;
        let minute = 0;
        for (const { resolved, startMinute, duration, gap } of events) {
          minute += gap;
          const incident = resolved ? resolvedAt(fp, startMinute, startMinute + duration) : firingAt(fp, startMinute);
          const expected = decide(model, incident, at(minute), settings);
          model = expected.next ?? model;
          const actual = await store.apply(incident, at(minute));
          expect(actual.decision).toEqual(expected.decision);
          expect(actual.record).toEqual(model);
        }
      }),
      { numRuns: 25 },
    );
  });
});
