// The local database and its queues, on real SQLite files: group commit (one transaction for a
// turn's writes, a failing piece undone alone, a full database failing them all), the schema
// guard, and the deliveries queue's order per fingerprint and channel.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryJob } from '../../shared/delivery/job.ts';
import type { Incident } from '../../shared/incident.ts';
import { isDiskFull, LocalDatabase, LocalDatabaseError } from '../../shared/local/database.ts';
import { LocalQueues } from '../../shared/local/queues.ts';
import { SCHEMA_VERSION } from '../../shared/local/schema.ts';

let dir: string;
let count = 0;
const fresh = (options: { maxBytes?: number } = {}): LocalDatabase => {
  count += 1;
  return LocalDatabase.open({ file: join(dir, `db-${String(count)}`, 'tocsin.db'), ...options });
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tocsin-database-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const incident = (fingerprint: string): Incident => ({
  schemaVersion: 1,
  fingerprint,
  status: 'firing',
  severity: 'warning',
  title: `probe ${fingerprint}`,
  source: { kind: 'alertmanager', cloud: 'other', rule: 'Probe' },
  startsAt: '2026-11-25T10:00:00.000Z',
  labels: {},
  links: [],
});
const job = (fingerprint: string, channel: string, event: DeliveryJob['event'], transitionId: string): DeliveryJob => ({
  event,
  incident: incident(fingerprint),
  channel,
  transitionId,
  attempt: 1,
});

describe('group commit', () => {
  it('runs every piece queued in one turn in one transaction and resolves each with its result', async () => {
    const database = fresh();
    database.exec('CREATE TABLE t (n INTEGER)');
    const before = database.commits;
    const results = await Promise.all(Array.from({ length: 50 }, (_, n) => database.commit(() => Number(database.run('INSERT INTO t VALUES (?)', n).lastInsertRowid))));
    expect(database.commits - before).toBe(1);
    expect(results).toEqual(Array.from({ length: 50 }, (_, n) => n + 1));
    expect(database.get<{ n: number }>('SELECT count(*) AS n FROM t')?.n).toBe(50);
    database.close();
  });

  it('undoes a failing piece alone; the others are committed', async () => {
    const database = fresh();
    database.exec('CREATE TABLE t (n INTEGER NOT NULL)');
    const outcomes = await Promise.allSettled([
      database.commit(() => database.run('INSERT INTO t VALUES (1)')),
      database.commit(() => {
        database.run('INSERT INTO t VALUES (2)');
        database.run('INSERT INTO t VALUES (NULL)');
      }),
      database.commit(() => database.run('INSERT INTO t VALUES (3)')),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(database.all<{ n: number }>('SELECT n FROM t ORDER BY n').map((row) => row.n)).toEqual([1, 3]);
    database.close();
  });

  it('a failing piece is not run again, its fallback runs in its place, and its changes and the caches it touched are undone', async () => {
    const database = fresh();
    database.exec('CREATE TABLE t (n INTEGER NOT NULL)');
    let rollbacks = 0;
    database.onRollback(() => {
      rollbacks += 1;
    });
    const runs = { first: 0, failing: 0, last: 0 };
    const outcomes = await Promise.allSettled([
      database.commit(() => {
        runs.first += 1;
        return database.run('INSERT INTO t VALUES (1)').changes;
      }),
      database.commit(
        () => {
          runs.failing += 1;
          database.run('INSERT INTO t VALUES (2)');
          throw new Error('injected');
        },
        (error) => {
          database.run('INSERT INTO t VALUES (20)');
          return `recovered from ${error instanceof Error ? error.message : String(error)}`;
        },
      ),
      database.commit(() => {
        runs.last += 1;
        return database.run('INSERT INTO t VALUES (3)').changes;
      }),
    ]);
    expect(outcomes).toEqual([
      { status: 'fulfilled', value: 1 },
      { status: 'fulfilled', value: 'recovered from injected' },
      { status: 'fulfilled', value: 1 },
    ]);
    expect(database.all<{ n: number }>('SELECT n FROM t ORDER BY n').map((row) => row.n)).toEqual([1, 3, 20]);
    // The failing piece ran once; the one before it again after the rollback; the one after it once.
    expect(runs).toEqual({ first: 2, failing: 1, last: 1 });
    expect(rollbacks).toBeGreaterThan(0);
    database.close();
  });

  it('when the database is full a piece fails with a disk-full error and leaves nothing; those that fit are kept', async () => {
    const database = fresh({ maxBytes: 256 * 1024 });
    database.exec('CREATE TABLE t (b BLOB)');
    let failure: unknown;
    for (let round = 0; round < 500 && failure === undefined; round += 1) {
      const rows = database.get<{ n: number }>('SELECT count(*) AS n FROM t')?.n ?? 0;
      const outcomes = await Promise.allSettled([1, 2, 3].map(() => database.commit(() => database.run('INSERT INTO t VALUES (?)', Buffer.alloc(2048, 1)))));
      const kept = outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
      expect(database.get<{ n: number }>('SELECT count(*) AS n FROM t')?.n).toBe(rows + kept);
      failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected')?.reason;
    }
    expect(isDiskFull(failure)).toBe(true);
    database.close();
  });
});

describe('opening', () => {
  it('refuses a database written by a newer Tocsin, and leaves it alone', () => {
    const file = join(dir, 'newer', 'tocsin.db');
    fresh().close();
    const database = LocalDatabase.open({ file });
    database.close();
    const raw = new DatabaseSync(file);
    raw.exec('PRAGMA user_version = 99');
    raw.close();
    expect(() => LocalDatabase.open({ file })).toThrow(LocalDatabaseError);
    expect(() => LocalDatabase.open({ file })).toThrow(new RegExp(`was written by a newer Tocsin \\(schema 99, this one knows ${String(SCHEMA_VERSION)}\\); it was left untouched`));
  });

  it('upgrades a schema 2 database (before delivery cursors), keeping what it holds', async () => {
    const file = join(dir, 'schema1', 'tocsin.db');
    const database = LocalDatabase.open({ file });
    await database.commit(() => {
      new LocalQueues(database).enqueueIncidents([incident('fp-before-upgrade')], 1);
    });
    database.close();
    const raw = new DatabaseSync(file);
    raw.exec('DROP TABLE delivery_cursors; DROP TABLE silences; DROP TABLE record_timers; DROP TABLE rate_limits; DROP TABLE digest_groups; DROP TABLE digest_pending; PRAGMA user_version = 2');
    raw.close();
    const upgraded = LocalDatabase.open({ file });
    expect(upgraded.get<{ user_version: number }>('PRAGMA user_version')?.user_version).toBe(SCHEMA_VERSION);
    expect(upgraded.all<{ name: string }>("SELECT name FROM sqlite_master WHERE name = 'delivery_cursors'")).toEqual([{ name: 'delivery_cursors' }]);
    expect(new LocalQueues(upgraded).takeIncidents(10, 10).map((row) => row.incident.fingerprint)).toEqual(['fp-before-upgrade']);
    upgraded.close();
  });

  it('keeps what was committed across close and open', async () => {
    const file = join(dir, 'reopen', 'tocsin.db');
    const database = LocalDatabase.open({ file });
    await database.commit(() => {
      new LocalQueues(database).enqueueIncidents([incident('fp-kept')], 1);
    });
    database.close();
    const again = LocalDatabase.open({ file });
    expect(new LocalQueues(again).takeIncidents(10, 10).map((row) => row.incident.fingerprint)).toEqual(['fp-kept']);
    again.close();
  });
});

describe('the deliveries queue', () => {
  it('takes the jobs of one fingerprint and channel in order: a later one waits while an earlier one waits to retry', () => {
    const database = fresh();
    const queues = new LocalQueues(database);
    queues.enqueueDeliveries([job('fp-1', 'chat', 'opened', 't1'), job('fp-1', 'mail', 'opened', 't1')], 0, 0);
    queues.enqueueDeliveries([job('fp-1', 'chat', 'resolved', 't2')], 0, 0);
    const first = queues.takeDeliveries(0, 10, new Set());
    expect(first.map((row) => `${row.job.channel}:${row.job.event}`)).toEqual(['chat:opened', 'mail:opened']);
    // chat:opened fails and waits 10 s: chat:resolved must not overtake it.
    queues.retryDelivery(first[0]!.id, 10_000, 'HTTP 500', 0);
    queues.removeDelivery(first[1]!.id);
    expect(queues.takeDeliveries(5_000, 10, new Set())).toEqual([]);
    expect(queues.nextDeliveryDueAtMs(new Set())).toBe(10_000);
    const retried = queues.takeDeliveries(10_000, 10, new Set());
    expect(retried.map((row) => `${row.job.channel}:${row.job.event}:${String(row.attempt)}`)).toEqual(['chat:opened:2']);
    // While it is being sent (busy), the resolve still waits; once it is done, the resolve goes.
    expect(queues.takeDeliveries(10_000, 10, new Set([retried[0]!.id]))).toEqual([]);
    queues.removeDelivery(retried[0]!.id);
    expect(queues.takeDeliveries(10_000, 10, new Set()).map((row) => `${row.job.channel}:${row.job.event}`)).toEqual(['chat:resolved']);
    database.close();
  });

  it('a dead-lettered job no longer holds the line; a redrive puts it back, due now, attempts afresh', () => {
    const database = fresh();
    const queues = new LocalQueues(database);
    queues.enqueueDeliveries([job('fp-2', 'chat', 'opened', 't1'), job('fp-2', 'chat', 'resolved', 't2')], 0, 0);
    const [opened] = queues.takeDeliveries(0, 10, new Set());
    queues.deadLetterDelivery(opened!.id, 'HTTP 404: no such hook', 0);
    expect(queues.takeDeliveries(0, 10, new Set()).map((row) => row.job.event)).toEqual(['resolved']);
    expect(queues.deadLetters(10)).toEqual([expect.objectContaining({ queue: 'deliveries', channel: 'chat', event: 'opened', reason: 'HTTP 404: no such hook' })]);
    expect(queues.redriveDeliveries(50)).toBe(1);
    expect(queues.depths(50)).toMatchObject({ deliveriesReady: 2, deadLetters: 0 });
    database.close();
  });
});
