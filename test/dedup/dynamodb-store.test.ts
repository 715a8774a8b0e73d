// What only the DynamoDB store has to prove, on dynalite (real DynamoDB protocol on loopback):
// the table, the items it writes (TTL attribute, incident map), how many calls it makes per
// incoming incident, and races between writers in different containers (store instances, each
// with its own client and cache).
import { DescribeTableCommand, GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DedupConflictError, DynamoDbIncidentStore, type DedupSettings } from '../../shared/dedup/index.ts';
import { countCommands, dynamoClient, emulateReturnValuesOnConditionCheckFailure, startDynalite, type RunningDynalite } from '../helpers/dynalite.ts';
import { at, firingAt, freshFingerprint, label, resolvedAt } from './fixtures.ts';

const TABLE = 'tocsin-state';
const settings: DedupSettings = { renotifyAfterMs: 60 * 60_000, flap: { changes: 4, windowMs: 30 * 60_000 }, notifyUnknownResolve: false, resolvedTtlSeconds: 86_400 };

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

/** A store as one Lambda container has it: its own client (counted) and its own cache. */
function container(options: { allOld?: boolean; maxAttempts?: number; settings?: DedupSettings } = {}) {
  const client = dynamoClient(dynalite.endpoint);
  clients.push(client);
  const counts = countCommands(client);
  if (options.allOld) clients.push(emulateReturnValuesOnConditionCheckFailure(client, dynalite.endpoint));
  const store = new DynamoDbIncidentStore({
    client,
    tableName: TABLE,
    ...(options.settings === undefined ? {} : { settings: options.settings }),
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
  });
  return { store, counts };
}

/** The raw item as DynamoDB holds it (numbers read as JS numbers, as the store reads them). */
async function storedItem(pk: string): Promise<Record<string, unknown> | undefined> {
  const { Item } = await dynalite.client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: pk } }, ConsistentRead: true }));
  return Item ? unmarshall(Item, { wrapNumbers: (text) => Number(text) }) : undefined;
}

async function storedAttributeTypes(pk: string): Promise<Record<string, string[]>> {
  const { Item } = await dynalite.client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: pk } }, ConsistentRead: true }));
  return Object.fromEntries(Object.entries(Item ?? {}).map(([name, value]) => [name, Object.keys(value)]));
}

describe('DynamoDB store: table and items', () => {
  it('creates the table the store expects: pk string hash key, on demand, and the sparse due index', async () => {
    const { Table } = await dynalite.client.send(new DescribeTableCommand({ TableName: TABLE }));
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(Table?.AttributeDefinitions).toEqual([
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'dueShard', AttributeType: 'S' },
      { AttributeName: 'dueAt', AttributeType: 'N' },
    ]);
    expect(Table?.GlobalSecondaryIndexes?.map((index) => [index.IndexName, index.KeySchema, index.Projection?.ProjectionType])).toEqual([
      ['due', [{ AttributeName: 'dueShard', KeyType: 'HASH' }, { AttributeName: 'dueAt', KeyType: 'RANGE' }], 'KEYS_ONLY'],
    ]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('sets the TTL attribute on a resolved record (default 7 days) and removes it when the alert fires again', async () => {
    const { store } = container(); // no settings: the defaults
    const fp = freshFingerprint();
    await store.apply(firingAt(fp, 0), at(1));
    const opened = await storedItem(fp);
    expect(opened).toMatchObject({ pk: fp, status: 'firing', version: 1, occurrences: 1 });
    expect(opened).not.toHaveProperty('expiresAt');
    expect(opened?.['incident']).toEqual(firingAt(fp, 0));
    expect(await storedAttributeTypes(fp)).toMatchObject({ pk: ['S'], incident: ['M'], version: ['N'], changes: ['L'], flapping: ['BOOL'] });
    await store.apply(resolvedAt(fp, 0, 20), at(21));
    expect(await storedItem(fp)).toMatchObject({ status: 'resolved', version: 2, expiresAt: Math.floor(at(21).getTime() / 1000) + 604_800 });
    await store.apply(firingAt(fp, 40), at(41));
    const reopened = await storedItem(fp);
    expect(reopened).toMatchObject({ status: 'firing', version: 3, occurrences: 3 });
    expect(reopened).not.toHaveProperty('expiresAt');
  });
});

describe('DynamoDB store: calls per incoming incident', () => {
  it('common path: exactly one write and no read per incident (new alert, repeat, change)', async () => {
    const { store, counts } = container({ settings });
    const fp = freshFingerprint();
    expect(label((await store.apply(firingAt(fp, 0), at(1))).decision)).toBe('opened');
    expect(counts.snapshot()).toEqual({ UpdateItemCommand: 1 });
    expect(label((await store.apply(firingAt(fp, 0), at(2))).decision)).toBe('suppressed:duplicate');
    expect(counts.snapshot()).toEqual({ UpdateItemCommand: 2 });
    expect(label((await store.apply(resolvedAt(fp, 0, 3), at(3))).decision)).toBe('resolved');
    expect(counts.snapshot()).toEqual({ UpdateItemCommand: 3 });
  });

  it('a stale event the cached record already proves stale costs no call at all', async () => {
    const { store, counts } = container({ settings });
    const fp = freshFingerprint();
    await store.apply(resolvedAt(fp, 0, 10), at(10));
    counts.reset();
    expect(label((await store.apply(firingAt(fp, 0), at(11))).decision)).toBe('suppressed:stale');
    expect(counts.snapshot()).toEqual({});
  });

  for (const allOld of [true, false]) {
    const where = allOld ? 'as on DynamoDB (ReturnValuesOnConditionCheckFailure, emulated)' : 'on dynalite (which ignores ReturnValuesOnConditionCheckFailure)';
    it(`a lost race costs exactly one extra write attempt, ${where}`, async () => {
      const fp = freshFingerprint();
      const a = container({ allOld, settings });
      const b = container({ allOld, settings });
      // Cold cache: b assumes a new alert, its create fails, it learns the record and counts a repeat.
      expect(label((await a.store.apply(firingAt(fp, 0), at(1))).decision)).toBe('opened');
      expect(label((await b.store.apply(firingAt(fp, 0), at(2))).decision)).toBe('suppressed:duplicate');
      // Warm but behind: a resolves, b still believes firing; the new firing is an opening, not a repeat.
      expect(label((await a.store.apply(resolvedAt(fp, 0, 3), at(3))).decision)).toBe('resolved');
      expect(label((await b.store.apply(firingAt(fp, 4), at(4))).decision)).toBe('opened');
      // Each lost race: one failed UpdateItem, then one that succeeds. Reads only where the
      // failure does not carry the item (dynalite).
      expect(b.counts.snapshot()).toEqual(allOld ? { UpdateItemCommand: 4 } : { UpdateItemCommand: 4, GetItemCommand: 2 });
      expect(a.counts.snapshot()).toEqual({ UpdateItemCommand: 2 });
      expect(await storedItem(fp)).toMatchObject({ status: 'firing', version: 3, occurrences: 4 });
    });
  }

  it('gives up after maxAttempts lost races with DedupConflictError, leaving the record alone', async () => {
    const fp = freshFingerprint();
    await container({ settings }).store.apply(firingAt(fp, 0), at(1));
    const { store } = container({ settings, maxAttempts: 1 });
    await expect(store.apply(firingAt(fp, 0), at(2))).rejects.toBeInstanceOf(DedupConflictError);
    expect(await storedItem(fp)).toMatchObject({ version: 1, occurrences: 1 });
  });
});

describe('DynamoDB store: races between containers', () => {
  it('two writers, same fingerprint, same time: exactly one opened', async () => {
    const fp = freshFingerprint();
    const writers = [container({ settings }), container({ settings })];
    const results = await Promise.all(writers.map(({ store }) => store.apply(firingAt(fp, 0), at(1))));
    expect(results.map((result) => label(result.decision)).sort()).toEqual(['opened', 'suppressed:duplicate']);
    expect(await storedItem(fp)).toMatchObject({ version: 1, occurrences: 2 });
  });

  it('50 concurrent deliveries over 5 containers: exactly one opened, none lost, none failed', async () => {
    const fp = freshFingerprint();
    const containers = Array.from({ length: 5 }, () => container({ settings }));
    const results = await Promise.all(Array.from({ length: 50 }, (_, index) => containers[index % 5]!.store.apply(firingAt(fp, 0), at(1))));
    expect(results.filter((result) => result.decision.action === 'opened')).toHaveLength(1);
    expect(results.filter((result) => label(result.decision) === 'suppressed:duplicate')).toHaveLength(49);
    expect(await storedItem(fp)).toMatchObject({ version: 1, occurrences: 50 });
  });

  it('a resolve racing 20 repeats over 4 containers: resolved once, every applied repeat counted', async () => {
    const fp = freshFingerprint();
    const containers = Array.from({ length: 4 }, () => container({ settings }));
    await containers[0]!.store.apply(firingAt(fp, 0), at(1));
    // Warm every cache with the firing record.
    await Promise.all(containers.slice(1).map(({ store }) => store.apply(firingAt(fp, 0), at(1))));
    const repeats = Array.from({ length: 20 }, (_, index) => containers[index % 4]!.store.apply(firingAt(fp, 0), at(2)));
    const resolve = containers[1]!.store.apply(resolvedAt(fp, 0, 2), at(2));
    const results = await Promise.all([...repeats, resolve]);
    const labels = results.map((result) => label(result.decision));
    expect(labels.filter((name) => name === 'resolved')).toHaveLength(1);
    expect(labels.filter((name) => name !== 'resolved' && name !== 'suppressed:duplicate' && name !== 'suppressed:stale')).toEqual([]);
    const duplicates = labels.filter((name) => name === 'suppressed:duplicate').length;
    // Opened + 3 warm-ups + duplicates applied before the resolve + the resolve itself.
    expect(await storedItem(fp)).toMatchObject({ status: 'resolved', version: 2, occurrences: 1 + 3 + duplicates + 1 });
  });
});
