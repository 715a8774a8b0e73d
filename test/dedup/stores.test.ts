// The same behaviour suite against both adapters: in-process and DynamoDB (dynalite on
// loopback). Then what only the DynamoDB store has to prove: its calls, races, TTL attribute.
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbIncidentStore, MemoryIncidentStore, type DedupSettings, type IncidentStore } from '../../shared/dedup/index.ts';
import type { Incident } from '../../shared/incident.ts';
import { dynamoClient, startDynalite, type RunningDynalite } from '../helpers/dynalite.ts';

const settings: DedupSettings = { renotifyAfterMs: 3_600_000, flap: { changes: 4, windowMs: 1_800_000 }, notifyUnknownResolve: false, resolvedTtlSeconds: 86_400 };
let counter = 0;

function incident(fingerprint: string, status: 'firing' | 'resolved', startsAt = '2026-11-25T10:00:00.000Z', endsAt?: string): Incident {
  return {
    schemaVersion: 1,
    fingerprint,
    status,
    severity: 'critical',
    title: 'Disk full on db-1',
    summary: 'Disk /var is 97% full',
    source: { kind: 'cloudwatch', cloud: 'aws', account: '111122223333', region: 'eu-west-1', rule: 'disk-full' },
    resource: { id: 'i-0abc', name: 'db-1' },
    startsAt,
    ...(status === 'resolved' ? { endsAt: endsAt ?? '2026-11-25T10:30:00.000Z' } : {}),
    labels: { dimension_InstanceId: 'i-0abc', ünïcode: 'ok ✓' },
    links: [{ title: 'Console', url: 'https://console.aws.amazon.com/cloudwatch/' }],
    metric: { name: 'disk_used', value: 97.5, threshold: 95 },
  };
}
const fresh = (): string => `cloudwatch:${String(++counter).padStart(32, '0')}`;
const now = new Date('2026-11-25T10:05:00.000Z');

let dynalite: RunningDynalite;
beforeAll(async () => {
  dynalite = await startDynalite();
  await dynalite.createTable('tocsin-state');
});
afterAll(async () => {
  await dynalite.close();
});

const adapters: [string, () => IncidentStore][] = [
  ['in-process', () => new MemoryIncidentStore({ settings })],
  ['DynamoDB (dynalite)', () => new DynamoDbIncidentStore({ client: dynalite.client, tableName: 'tocsin-state', settings })],
];

describe.each(adapters)('%s store', (_name, makeStore) => {
  it('opens, suppresses duplicates, resolves, and ignores stale events', async () => {
    const store = makeStore();
    const fp = fresh();
    const actions: string[] = [];
    for (const event of [incident(fp, 'firing'), incident(fp, 'firing'), incident(fp, 'resolved'), incident(fp, 'firing', '2026-11-25T09:00:00.000Z'), incident(fp, 'resolved')]) {
      const { decision } = await store.apply(event, now);
      actions.push(decision.action === 'suppressed' ? `suppressed:${decision.reason}` : decision.action);
    }
    expect(actions).toEqual(['opened', 'suppressed:duplicate', 'resolved', 'suppressed:stale', 'suppressed:duplicate']);
  });

  it('keeps counts, first and last seen, and the incident as sent', async () => {
    const store = makeStore();
    const fp = fresh();
    await store.apply(incident(fp, 'firing'), new Date('2026-11-25T10:01:00.000Z'));
    const { record } = await store.apply(incident(fp, 'firing'), new Date('2026-11-25T10:02:00.000Z'));
    expect(record).toMatchObject({ fingerprint: fp, occurrences: 2, firstSeen: '2026-11-25T10:01:00.000Z', lastSeen: '2026-11-25T10:02:00.000Z', lastNotifiedAt: '2026-11-25T10:01:00.000Z', status: 'firing', version: 2 });
    expect(record.incident).toEqual(incident(fp, 'firing'));
  });

  it('50 concurrent deliveries of the same firing alert produce exactly one opened', async () => {
    const store = makeStore();
    const fp = fresh();
    const results = await Promise.all(Array.from({ length: 50 }, () => store.apply(incident(fp, 'firing'), now)));
    const opened = results.filter((result) => result.decision.action === 'opened');
    expect(opened).toHaveLength(1);
    expect(results.filter((result) => result.decision.action === 'suppressed')).toHaveLength(49);
    const last = await store.apply(incident(fp, 'firing'), now);
    expect(last.record.occurrences).toBe(51);
  });

  it('marks a delivery once: the second mark reports it was already done', async () => {
    const store = makeStore();
    const key = { fingerprint: fresh(), transitionId: 'v1', channel: 'ops-chat' };
    expect(await store.isDelivered(key)).toBe(false);
    expect(await store.markDelivered(key)).toBe(true);
    expect(await store.markDelivered(key)).toBe(false);
    expect(await store.isDelivered(key)).toBe(true);
    expect(await store.isDelivered({ ...key, channel: 'team-mail' })).toBe(false);
  });
});

/** Counts the commands a client sends, by name, through the SDK's middleware stack. */
function countingClient(endpoint: string): { client: DynamoDBClient; counts: Map<string, number> } {
  const client = dynamoClient(endpoint);
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => (args) => {
      const name = String(context.commandName);
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return { client, counts };
}

describe('DynamoDB store on dynalite', () => {
  it('a second store instance (another container) continues from the stored state', async () => {
    const fp = fresh();
    await new DynamoDbIncidentStore({ client: dynalite.client, tableName: 'tocsin-state', settings }).apply(incident(fp, 'firing'), now);
    const other = new DynamoDbIncidentStore({ client: dynalite.client, tableName: 'tocsin-state', settings });
    expect((await other.apply(incident(fp, 'firing'), now)).decision).toEqual({ action: 'suppressed', reason: 'duplicate' });
  });

  it('writes exactly once and reads never per incoming incident in the common path', async () => {
    const { client, counts } = countingClient(dynalite.endpoint);
    const store = new DynamoDbIncidentStore({ client, tableName: 'tocsin-state', settings });
    const fp = fresh();
    await store.apply(incident(fp, 'firing'), now); // new alert
    await store.apply(incident(fp, 'firing'), now); // repeat, warm cache
    await store.apply(incident(fp, 'resolved'), now); // change
    expect(Object.fromEntries(counts)).toEqual({ UpdateItemCommand: 3 });
    client.destroy();
  });

  it('a lost race costs one extra write attempt (plus, on dynalite only, one read)', async () => {
    const fp = fresh();
    const first = countingClient(dynalite.endpoint);
    const second = countingClient(dynalite.endpoint);
    const a = new DynamoDbIncidentStore({ client: first.client, tableName: 'tocsin-state', settings });
    const b = new DynamoDbIncidentStore({ client: second.client, tableName: 'tocsin-state', settings });
    expect((await a.apply(incident(fp, 'firing'), now)).decision.action).toBe('opened');
    // b has never seen fp: its create fails the condition, it learns the record, and retries.
    expect((await b.apply(incident(fp, 'firing'), now)).decision).toEqual({ action: 'suppressed', reason: 'duplicate' });
    // Real DynamoDB returns the item with the failure (ReturnValuesOnConditionCheckFailure);
    // dynalite ignores that option, hence the GetItem here.
    expect(Object.fromEntries(second.counts)).toEqual({ UpdateItemCommand: 2, GetItemCommand: 1 });
    first.client.destroy();
    second.client.destroy();
  });

  it('50 concurrent deliveries spread over 5 containers (store instances): exactly one opened', async () => {
    const fp = fresh();
    const containers = Array.from({ length: 5 }, () => new DynamoDbIncidentStore({ client: dynamoClient(dynalite.endpoint), tableName: 'tocsin-state', settings }));
    const results = await Promise.all(Array.from({ length: 50 }, (_, index) => containers[index % 5]!.apply(incident(fp, 'firing'), now)));
    expect(results.filter((result) => result.decision.action === 'opened')).toHaveLength(1);
    expect(results.filter((result) => result.decision.action === 'suppressed')).toHaveLength(49);
  });

  it('two writers racing on a new fingerprint: exactly one opened', async () => {
    const fp = fresh();
    const writers = [0, 1].map(() => new DynamoDbIncidentStore({ client: dynamoClient(dynalite.endpoint), tableName: 'tocsin-state', settings }));
    const results = await Promise.all(writers.map((writer) => writer.apply(incident(fp, 'firing'), now)));
    expect(results.map((result) => result.decision.action).sort()).toEqual(['opened', 'suppressed']);
  });

  it('sets the TTL attribute on resolved records and removes it when the alert fires again', async () => {
    const store = new DynamoDbIncidentStore({ client: dynalite.client, tableName: 'tocsin-state', settings });
    const fp = fresh();
    const item = async () => (await dynalite.client.send(new GetItemCommand({ TableName: 'tocsin-state', Key: { pk: { S: fp } }, ConsistentRead: true }))).Item;
    await store.apply(incident(fp, 'firing'), now);
    expect((await item())?.['expiresAt']).toBeUndefined();
    await store.apply(incident(fp, 'resolved'), now);
    expect((await item())?.['expiresAt']).toEqual({ N: String(Math.floor(now.getTime() / 1000) + 86_400) });
    await store.apply(incident(fp, 'firing', '2026-11-25T11:00:00.000Z'), now);
    expect((await item())?.['expiresAt']).toBeUndefined();
    expect((await item())?.['version']).toEqual({ N: '3' });
  });

  it('delivery markers carry a TTL too', async () => {
    const store = new DynamoDbIncidentStore({ client: dynalite.client, tableName: 'tocsin-state', settings });
    const key = { fingerprint: fresh(), transitionId: 'v7', channel: 'audit' };
    await store.markDelivered(key);
    const marker = (await dynalite.client.send(new GetItemCommand({ TableName: 'tocsin-state', Key: { pk: { S: `delivery#${key.fingerprint}#v7#audit` } } }))).Item;
    expect(Number(marker?.['expiresAt']?.N)).toBeGreaterThan(Math.floor(Date.now() / 1000) + 86_000);
  });
});
