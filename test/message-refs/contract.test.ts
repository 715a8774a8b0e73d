// One behaviour suite for every message-refs adapter: in-process, SQLite (the local pipeline's
// database, a real file) and DynamoDB on dynalite (plain and document client).
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDatabase } from '../../shared/local/database.ts';
import { DynamoDbMessageRefs } from '../../shared/message-refs/dynamodb.ts';
import { MemoryMessageRefs, type MessageRefs, type MessageRefsOptions } from '../../shared/message-refs/port.ts';
import { SqliteMessageRefs } from '../../shared/message-refs/sqlite.ts';
import { startDynalite, type RunningDynalite } from '../helpers/dynalite.ts';

const TABLE = 'tocsin-state';
let dynalite: RunningDynalite;
let dir: string;
let sqlite: LocalDatabase;
beforeAll(async () => {
  dynalite = await startDynalite();
  await dynalite.createTable(TABLE);
  dir = await mkdtemp(join(tmpdir(), 'tocsin-message-refs-'));
  sqlite = LocalDatabase.open({ file: join(dir, 'tocsin.db') });
});
afterAll(async () => {
  await dynalite.close();
  sqlite.close();
  await rm(dir, { recursive: true, force: true });
});

let unique = 0;
const fresh = (): string => `alertmanager:${String(Date.now())}${String((unique += 1))}`;

class Clock {
  ms = Date.parse('2026-12-01T00:00:00Z');
  readonly now = (): Date => new Date(this.ms);
}

const adapters: [string, (options: MessageRefsOptions) => MessageRefs][] = [
  ['in-process', (options) => new MemoryMessageRefs(options)],
  ['SQLite (local database)', (options) => new SqliteMessageRefs(sqlite, options)],
  ['DynamoDB (dynalite)', (options) => new DynamoDbMessageRefs({ client: dynalite.client, tableName: TABLE, ...options })],
  ['DynamoDB (dynalite, document client)', (options) => new DynamoDbMessageRefs({ client: DynamoDBDocumentClient.from(dynalite.client), tableName: TABLE, ...options })],
];

describe.each(adapters)('%s message refs', (_name, make) => {
  it('has no ref for an incident and channel it never saw', async () => {
    await expect(make({}).get({ fingerprint: fresh(), channel: 'ops-chat' })).resolves.toBeUndefined();
  });

  it('keeps one ref per incident and channel; the last put wins', async () => {
    const refs = make({});
    const fingerprint = fresh();
    await refs.put({ fingerprint, channel: 'ops-chat' }, 'C0123:1700000000.000100');
    await refs.put({ fingerprint, channel: 'team-chat' }, 'C0456:1700000000.000200');
    await expect(refs.get({ fingerprint, channel: 'ops-chat' })).resolves.toBe('C0123:1700000000.000100');
    await expect(refs.get({ fingerprint, channel: 'team-chat' })).resolves.toBe('C0456:1700000000.000200');
    await expect(refs.get({ fingerprint: fresh(), channel: 'ops-chat' })).resolves.toBeUndefined();
    await refs.put({ fingerprint, channel: 'ops-chat' }, 'C0123:1700000999.000300');
    await expect(refs.get({ fingerprint, channel: 'ops-chat' })).resolves.toBe('C0123:1700000999.000300');
  });

  it('forgets a ref after its time to live, and a new put restarts it', async () => {
    const clock = new Clock();
    const refs = make({ now: clock.now, ttlSeconds: 60 });
    const key = { fingerprint: fresh(), channel: 'ops-chat' };
    await refs.put(key, 'C1:1.1');
    clock.ms += 59_000;
    await expect(refs.get(key)).resolves.toBe('C1:1.1');
    await refs.put(key, 'C1:2.2');
    clock.ms += 59_000;
    await expect(refs.get(key)).resolves.toBe('C1:2.2');
    clock.ms += 1_000;
    await expect(refs.get(key)).resolves.toBeUndefined();
  });

  it('is shared by every instance on the same storage (another process, a restart)', async () => {
    const key = { fingerprint: fresh(), channel: 'ops-chat' };
    await make({}).put(key, 'C9:9.9');
    const other = make({});
    // The in-process adapter is per instance by design; the durable ones are not.
    await expect(other.get(key)).resolves.toBe(_name === 'in-process' ? undefined : 'C9:9.9');
  });
});

describe('storage layout', () => {
  it('DynamoDB: one item per incident and channel on the state table, with the TTL attribute', async () => {
    const now = new Date('2026-12-01T00:00:00Z');
    const refs = new DynamoDbMessageRefs({ client: dynalite.client, tableName: TABLE, now: () => now, ttlSeconds: 100 });
    const fingerprint = fresh();
    await refs.put({ fingerprint, channel: 'ops-chat' }, 'C1:1.1');
    const { Item } = await dynalite.client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `message#${fingerprint}#ops-chat` } } }));
    expect(Item).toEqual({
      pk: { S: `message#${fingerprint}#ops-chat` },
      fingerprint: { S: fingerprint },
      channel: { S: 'ops-chat' },
      ref: { S: 'C1:1.1' },
      updatedAt: { S: now.toISOString() },
      expiresAt: { N: String(now.getTime() / 1000 + 100) },
    });
  });

  it('SQLite: survives closing and reopening the database, and sweep() deletes expired refs', async () => {
    const file = join(dir, 'reopen.db');
    const clock = new Clock();
    const key = { fingerprint: fresh(), channel: 'ops-chat' };
    const first = LocalDatabase.open({ file });
    await new SqliteMessageRefs(first, { now: clock.now, ttlSeconds: 60 }).put(key, 'C1:1.1');
    first.close();
    const second = LocalDatabase.open({ file });
    try {
      const refs = new SqliteMessageRefs(second, { now: clock.now, ttlSeconds: 60 });
      await expect(refs.get(key)).resolves.toBe('C1:1.1');
      clock.ms += 60_000;
      expect(refs.sweep()).toBe(1);
      expect(second.get('SELECT count(*) AS n FROM message_refs')).toEqual({ n: 0 });
    } finally {
      second.close();
    }
  });
});
