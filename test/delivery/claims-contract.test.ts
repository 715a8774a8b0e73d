// One behaviour suite for every DeliveryClaims adapter: in-process, SQLite (the local database,
// a real file) and DynamoDB on dynalite (as dynalite answers, and as real DynamoDB answers a
// failed conditional write, with the stored item). The rule: per incident and channel, each
// transition is told once, never after a later one, and never by two workers at once; a lease
// that runs out lets another worker through.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transitionIdOf, transitionOrderOf } from '../../shared/dedup/decide.ts';
import { MemoryDeliveryClaims } from '../../shared/delivery/claims.ts';
import { DynamoDbDeliveryClaims } from '../../shared/delivery/claims-dynamodb.ts';
import { SqliteDeliveryClaims } from '../../shared/delivery/claims-sqlite.ts';
import type { ClaimResult, DeliveryClaim, DeliveryClaims, DeliveryKey } from '../../shared/delivery/job.ts';
import { LocalDatabase } from '../../shared/local/database.ts';
import { at, freshFingerprint } from '../dedup/fixtures.ts';
import { countCommands, dynamoClient, emulateReturnValuesOnConditionCheckFailure, startDynalite, type RunningDynalite } from '../helpers/dynalite.ts';

const TABLE = 'tocsin-claims';
const LEASE_MS = 30_000;

let dynalite: RunningDynalite;
let sqliteDir: string;
let sqlite: LocalDatabase;
beforeAll(async () => {
  dynalite = await startDynalite();
  await dynalite.createTable(TABLE);
  sqliteDir = await mkdtemp(join(tmpdir(), 'tocsin-claims-'));
  sqlite = LocalDatabase.open({ file: join(sqliteDir, 'tocsin.db') });
});
afterAll(async () => {
  await dynalite.close();
  sqlite.close();
  await rm(sqliteDir, { recursive: true, force: true });
});

function realDynamoDbClaims(): DynamoDbDeliveryClaims {
  const client = dynamoClient(dynalite.endpoint);
  emulateReturnValuesOnConditionCheckFailure(client, dynalite.endpoint);
  return new DynamoDbDeliveryClaims({ client, tableName: TABLE });
}

const adapters: [string, () => DeliveryClaims][] = [
  ['in-process', () => new MemoryDeliveryClaims()],
  ['SQLite (local database)', () => new SqliteDeliveryClaims(sqlite)],
  ['DynamoDB (dynalite)', () => new DynamoDbDeliveryClaims({ client: dynalite.client, tableName: TABLE })],
  ['DynamoDB (dynalite, failed writes return the item)', realDynamoDbClaims],
];

/** The key and order of the `version`th transition of an incident, at minute `minute`. */
function transition(fingerprint: string, version: number, minute: number, channel = 'ops-chat'): { key: DeliveryKey; order: string } {
  const transitionId = transitionIdOf(version, at(minute).getTime());
  return { key: { fingerprint, channel, transitionId }, order: transitionOrderOf(transitionId) };
}

function claimed(result: ClaimResult): DeliveryClaim {
  if (result.status !== 'claimed') throw new Error(`expected a claim, got ${result.status}`);
  return result.claim;
}

describe.each(adapters)('%s delivery claims', (_name, makeClaims) => {
  it('claims once, tells a copy that came while sending to wait, and a copy after completion that it was delivered', async () => {
    const claims = makeClaims();
    const opened = transition(freshFingerprint(), 1, 0);
    const claim = claimed(await claims.claim(opened.key, opened.order, LEASE_MS, at(1)));
    expect(await claims.claim(opened.key, opened.order, LEASE_MS, at(1))).toEqual({ status: 'busy', leaseUntilMs: at(1).getTime() + LEASE_MS });
    expect(await claims.complete(claim, at(1))).toBe(true);
    expect(await claims.claim(opened.key, opened.order, LEASE_MS, at(2))).toEqual({ status: 'already-delivered' });
  });

  it('drops an older transition once a later one was told, and keeps channels apart', async () => {
    const claims = makeClaims();
    const fp = freshFingerprint();
    const opened = transition(fp, 1, 0);
    const resolved = transition(fp, 2, 3);
    await claims.complete(claimed(await claims.claim(resolved.key, resolved.order, LEASE_MS, at(4))), at(4));
    expect(await claims.claim(opened.key, opened.order, LEASE_MS, at(5))).toEqual({ status: 'superseded', toldTransitionId: resolved.key.transitionId });
    // Another channel has its own line.
    const mirror = transition(fp, 1, 0, 'mirror');
    expect((await claims.claim(mirror.key, mirror.order, LEASE_MS, at(5))).status).toBe('claimed');
  });

  it('makes a later transition wait while an earlier one is being sent, then lets it through', async () => {
    const claims = makeClaims();
    const fp = freshFingerprint();
    const opened = transition(fp, 1, 0);
    const resolved = transition(fp, 2, 1);
    const sending = claimed(await claims.claim(opened.key, opened.order, LEASE_MS, at(1)));
    expect((await claims.claim(resolved.key, resolved.order, LEASE_MS, at(1))).status).toBe('busy');
    await claims.complete(sending, at(1));
    const next = claimed(await claims.claim(resolved.key, resolved.order, LEASE_MS, at(1)));
    expect(await claims.complete(next, at(1))).toBe(true);
    expect(await claims.claim(opened.key, opened.order, LEASE_MS, at(2))).toMatchObject({ status: 'superseded' });
  });

  it('lets the redelivered job through once a crashed sender’s lease has run out; the late completion moves the cursor forward only', async () => {
    const claims = makeClaims();
    const opened = transition(freshFingerprint(), 1, 0);
    const crashed = claimed(await claims.claim(opened.key, opened.order, LEASE_MS, at(1)));
    const leaseEnd = new Date(at(1).getTime() + LEASE_MS);
    expect((await claims.claim(opened.key, opened.order, LEASE_MS, new Date(leaseEnd.getTime() - 1))).status).toBe('busy');
    const redelivered = claimed(await claims.claim(opened.key, opened.order, LEASE_MS, leaseEnd));
    expect(redelivered.token).not.toBe(crashed.token);
    // The first sender was only slow: its completion no longer holds the line.
    expect(await claims.complete(crashed, leaseEnd)).toBe(false);
    expect(await claims.complete(redelivered, leaseEnd)).toBe(true);
    expect(await claims.claim(opened.key, opened.order, LEASE_MS, at(5))).toEqual({ status: 'already-delivered' });
  });

  it('frees the line at once when a failed send releases its claim, and not for a stale token', async () => {
    const claims = makeClaims();
    const opened = transition(freshFingerprint(), 1, 0);
    const first = claimed(await claims.claim(opened.key, opened.order, LEASE_MS, at(1)));
    await claims.release(first);
    const second = claimed(await claims.claim(opened.key, opened.order, LEASE_MS, at(1)));
    await claims.release(first);
    expect((await claims.claim(opened.key, opened.order, LEASE_MS, at(1))).status).toBe('busy');
    await claims.release(second);
    expect((await claims.claim(opened.key, opened.order, LEASE_MS, at(1))).status).toBe('claimed');
  });

  it('gives one claim to many concurrent copies of a job', async () => {
    const claims = makeClaims();
    const opened = transition(freshFingerprint(), 1, 0);
    const results = await Promise.all(Array.from({ length: 8 }, () => claims.claim(opened.key, opened.order, LEASE_MS, at(1))));
    expect(results.filter((result) => result.status === 'claimed')).toHaveLength(1);
    expect(results.filter((result) => result.status === 'busy')).toHaveLength(7);
  });
});

describe('transition order', () => {
  it('follows the version within a record and puts a restarted record (TTL) after the one before', () => {
    expect(transitionOrderOf(transitionIdOf(2, 1_000)) > transitionOrderOf(transitionIdOf(1, 1_000))).toBe(true);
    expect(transitionOrderOf(transitionIdOf(10, 1_000)) > transitionOrderOf(transitionIdOf(9, 1_000))).toBe(true);
    expect(transitionOrderOf(transitionIdOf(1, 2_000)) > transitionOrderOf(transitionIdOf(7, 1_000))).toBe(true);
    expect(() => transitionOrderOf('t-1')).toThrow(/not a transition id/);
  });
});

describe('DynamoDB claims: calls per delivery', () => {
  it('one conditional write to claim and one to complete; a refused claim costs no read on real DynamoDB', async () => {
    const client = dynamoClient(dynalite.endpoint);
    const counts = countCommands(client);
    emulateReturnValuesOnConditionCheckFailure(client, dynalite.endpoint);
    const claims = new DynamoDbDeliveryClaims({ client, tableName: TABLE });
    const opened = transition(freshFingerprint(), 1, 0);
    await claims.complete(claimed(await claims.claim(opened.key, opened.order, LEASE_MS, at(1))), at(1));
    expect(counts.snapshot()).toEqual({ UpdateItemCommand: 2 });
    counts.reset();
    expect((await claims.claim(opened.key, opened.order, LEASE_MS, at(2))).status).toBe('already-delivered');
    expect(counts.snapshot()).toEqual({ UpdateItemCommand: 1 });
  });
});
