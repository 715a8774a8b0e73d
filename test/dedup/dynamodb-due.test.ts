// The scheduler's side of the DynamoDB store, on dynalite: a firing record with a timer is in
// the sparse `due` index (and only while it has one), the query returns only what is due, and
// two scheduler runs looking at one due record make one reminder between them.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbIncidentStore, type DedupSettings } from '../../shared/dedup/index.ts';
import { dynamoClient, startDynalite, type RunningDynalite } from '../helpers/dynalite.ts';
import { at, firingAt, freshFingerprint, resolvedAt } from './fixtures.ts';

const TABLE = 'tocsin-due';
const settings: DedupSettings = { renotifyAfterMs: 10 * 60_000, flap: { changes: 4, windowMs: 30 * 60_000 }, notifyUnknownResolve: false, resolvedTtlSeconds: 86_400 };

let dynalite: RunningDynalite;
const clients: DynamoDBClient[] = [];
beforeAll(async () => {
  dynalite = await startDynalite();
  await dynalite.createTable(TABLE);
});
afterAll(async () => {
  for (const client of clients) client.destroy();
  await dynalite.close();
});

function container(): DynamoDbIncidentStore {
  const client = dynamoClient(dynalite.endpoint);
  clients.push(client);
  return new DynamoDbIncidentStore({ client, tableName: TABLE, settings });
}

describe('DynamoDB: the due index and scheduled reminders', () => {
  it('lists only the records due, and drops a record from the index once resolved', async () => {
    const store = container();
    const early = freshFingerprint();
    const late = freshFingerprint();
    const gone = freshFingerprint();
    await store.apply(firingAt(early, 0), at(0));
    await store.apply(firingAt(late, 5), at(5));
    await store.apply(firingAt(gone, 0), at(0));
    await store.apply(resolvedAt(gone, 0, 1), at(1));
    const mine = (list: string[]): string[] => list.filter((fingerprint) => [early, late, gone].includes(fingerprint));
    expect(mine(await store.listDue(at(9).getTime(), 100))).toEqual([]);
    expect(mine(await store.listDue(at(10).getTime(), 100))).toEqual([early]);
    expect(mine(await store.listDue(at(15).getTime(), 100))).toEqual([early, late]);
  });

  it('two concurrent runs on one due record make one reminder; the next one is due renotifyAfter later', async () => {
    const [first, second] = [container(), container()];
    const fingerprint = freshFingerprint();
    await first.apply(firingAt(fingerprint, 0), at(0));
    const outcomes = await Promise.all([first.applyDue(fingerprint, at(10)), second.applyDue(fingerprint, at(10))]);
    const reminders = outcomes.filter((outcome) => outcome.kind === 'done' && outcome.decision?.action === 'renotified');
    expect(reminders).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome.kind === 'skipped')).toHaveLength(1);
    expect((await first.listDue(at(19).getTime(), 100)).includes(fingerprint)).toBe(false);
    expect((await first.listDue(at(20).getTime(), 100)).includes(fingerprint)).toBe(true);
    // Run again at the same time: nothing is due any more, nothing is told twice.
    const again = await second.applyDue(fingerprint, at(10));
    expect(again.kind === 'done' ? again.decision : undefined).toBeUndefined();
  });
});
