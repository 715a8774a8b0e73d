// The rate limiter: GCRA reservations (evenly spaced slots, bursts after a quiet spell), blocks
// from a destination's 429, the daily cap, and the RateLimitStore contract on every store: in
// memory, the local SQLite database, and the DynamoDB state table (dynalite) under concurrent
// updates, where no two reservations may get the same slot.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  blockTargets,
  capNoticeText,
  countAgainstCap,
  effectiveLimit,
  MemoryRateLimitStore,
  nextUtcMidnight,
  rateKeyOf,
  reserveSlot,
  takeDailyCap,
  takeSlot,
  type RateLimitStore,
  type RateState,
} from '../../shared/delivery/rate-limit.ts';
import { DynamoDbRateLimitStore } from '../../shared/delivery/rate-limit-dynamodb.ts';
import { SqliteRateLimitStore } from '../../shared/delivery/rate-limit-sqlite.ts';
import { LocalDatabase } from '../../shared/local/database.ts';
import { startDynalite, type RunningDynalite } from '../helpers/dynalite.ts';

const T0 = Date.parse('2026-12-02T09:00:00Z');
const ONE_PER_SECOND = { limit: 1, perMs: 1_000, burst: 1 };

describe('GCRA reservations', () => {
  it('spaces slots one interval apart, the first at once', () => {
    let state: RateState | undefined;
    const slots: number[] = [];
    for (let n = 0; n < 4; n += 1) {
      const reserved = reserveSlot(state, ONE_PER_SECOND, T0);
      state = reserved.state;
      slots.push(reserved.slotMs - T0);
    }
    expect(slots).toEqual([0, 1_000, 2_000, 3_000]);
  });

  it('lets a burst through at once after a quiet spell, then one per interval', () => {
    const rate = { limit: 20, perMs: 3_600_000, burst: 5 };
    let state: RateState | undefined;
    const slots: number[] = [];
    for (let n = 0; n < 7; n += 1) {
      const reserved = reserveSlot(state, rate, T0);
      state = reserved.state;
      slots.push((reserved.slotMs - T0) / 60_000);
    }
    expect(slots).toEqual([0, 0, 0, 0, 0, 3, 6]);
    // Quiet for long enough, the burst is back.
    expect(reserveSlot(state, rate, T0 + 24 * 3_600_000).slotMs).toBe(T0 + 24 * 3_600_000);
  });

  it('puts nothing before a block, and reserves after it', () => {
    const blocked: RateState = { tatMs: T0, blockedUntilMs: T0 + 30_000 };
    expect(reserveSlot(blocked, ONE_PER_SECOND, T0 + 1_000).slotMs).toBe(T0 + 30_000);
  });
});

describe('takeSlot and blocks', () => {
  it('keeps a held slot, and moves it when a block came after it was reserved', async () => {
    const store = new MemoryRateLimitStore();
    const keys = [rateKeyOf('webhook', 'https://hooks.example/1')];
    expect(await takeSlot(store, keys, ONE_PER_SECOND, T0, undefined)).toEqual({ kind: 'go' });
    expect(await takeSlot(store, keys, ONE_PER_SECOND, T0, undefined)).toEqual({ kind: 'wait', slotMs: T0 + 1_000 });
    // Early: still waits for its own slot, reserving nothing more.
    expect(await takeSlot(store, keys, ONE_PER_SECOND, T0 + 500, T0 + 1_000)).toEqual({ kind: 'wait', slotMs: T0 + 1_000 });
    expect(await takeSlot(store, keys, ONE_PER_SECOND, T0 + 1_000, T0 + 1_000)).toEqual({ kind: 'go' });
    await blockTargets(store, keys, T0 + 10_000, T0 + 1_000);
    expect(await takeSlot(store, keys, ONE_PER_SECOND, T0 + 2_000, T0 + 2_000)).toEqual({ kind: 'wait', slotMs: T0 + 10_000 });
  });

  it('does not honour a slot long past (a redriven dead letter): it takes a new one', async () => {
    const store = new MemoryRateLimitStore();
    const keys = [rateKeyOf('webhook', 'https://hooks.example/2')];
    expect(await takeSlot(store, keys, ONE_PER_SECOND, T0, undefined)).toEqual({ kind: 'go' });
    expect(await takeSlot(store, keys, ONE_PER_SECOND, T0, T0 - 3_600_000)).toEqual({ kind: 'wait', slotMs: T0 + 1_000 });
  });

  it('waits for the slowest of several targets (an SMS channel with two numbers)', async () => {
    const store = new MemoryRateLimitStore();
    const [a, b] = [rateKeyOf('sms', '+15555550100'), rateKeyOf('sms', '+15555550101')];
    await takeSlot(store, [b], ONE_PER_SECOND, T0, undefined);
    expect(await takeSlot(store, [a, b], ONE_PER_SECOND, T0, undefined)).toEqual({ kind: 'wait', slotMs: T0 + 1_000 });
  });

  it('never stores the target itself', () => {
    expect(rateKeyOf('slack', 'https://hooks.slack.com/services/T0/B0/SECRET')).toMatch(/^rate#slack#[0-9a-f]{32}$/);
  });

  it('takes a channel override over the type default, and "off" as no limit', () => {
    const defaults = { rate: ONE_PER_SECOND };
    const settings = { maxWaitMs: 1, channels: { fast: { rate: { limit: 5, perMs: 1_000, burst: 1 } }, free: 'off' as const } };
    expect(effectiveLimit('chat', defaults, settings)).toBe(defaults);
    expect(effectiveLimit('fast', defaults, settings)?.rate?.limit).toBe(5);
    expect(effectiveLimit('free', defaults, settings)).toBeUndefined();
  });
});

describe('daily cap', () => {
  it('counts up to the cap, tells once, and starts over on the next UTC day', () => {
    let state: RateState | undefined;
    const decisions: string[] = [];
    for (let n = 0; n < 4; n += 1) {
      const counted = countAgainstCap(state, 2, T0);
      state = counted.state;
      decisions.push(counted.result.kind === 'capped' ? `capped${counted.result.notify ? '+notify' : ''}` : 'within');
    }
    expect(decisions).toEqual(['within', 'within', 'capped+notify', 'capped']);
    expect(countAgainstCap(state, 2, nextUtcMidnight(T0)).result).toEqual({ kind: 'within' });
    expect(nextUtcMidnight(T0)).toBe(Date.parse('2026-12-03T00:00:00Z'));
  });

  it('says where further alerts go', () => {
    expect(capNoticeText(50, ['ops-chat', 'email'])).toBe('Tocsin: daily SMS cap 50 reached; further alerts today go to ops-chat, email');
  });
});

function storeContract(name: string, make: () => RateLimitStore) {
  describe(`${name} store`, () => {
    it('reserves distinct slots under concurrent updates, and keeps the daily count', async () => {
      const store = make();
      const key = rateKeyOf('webhook', `https://hooks.example/${name}`);
      const slots = await Promise.all(
        Array.from({ length: 8 }, () => store.update(key, (state) => {
          const reserved = reserveSlot(state, ONE_PER_SECOND, T0);
          return { state: reserved.state, result: reserved.slotMs };
        }, T0 + 86_400_000)),
      );
      expect([...slots].sort((a, b) => a - b)).toEqual(Array.from({ length: 8 }, (_, n) => T0 + n * 1_000));
      const caps = await Promise.all(Array.from({ length: 4 }, () => takeDailyCap(store, `sms-${name}`, 2, T0)));
      expect(caps.filter((cap) => cap.kind === 'within')).toHaveLength(2);
      expect(caps.filter((cap) => cap.kind === 'capped' && cap.notify)).toHaveLength(1);
    });
  });
}

storeContract('memory', () => new MemoryRateLimitStore());

describe('on the local database', () => {
  let dir: string;
  let database: LocalDatabase;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tocsin-rate-'));
    database = LocalDatabase.open({ file: join(dir, 'tocsin.db') });
  });
  afterAll(async () => {
    database.close();
    await rm(dir, { recursive: true, force: true });
  });
  storeContract('sqlite', () => new SqliteRateLimitStore(database));

  it('keeps state across a reopen, and sweeps what expired', async () => {
    const file = join(dir, 'reopen.db');
    let db = LocalDatabase.open({ file });
    await new SqliteRateLimitStore(db).update('rate#x#1', () => ({ state: { tatMs: T0 + 5_000 }, result: undefined }), T0 + 60_000);
    db.close();
    db = LocalDatabase.open({ file });
    const store = new SqliteRateLimitStore(db);
    expect(await store.update('rate#x#1', (state) => ({ state: state ?? {}, result: state }), T0 + 60_000)).toEqual({ tatMs: T0 + 5_000 });
    expect(store.sweep(T0 + 59_999)).toBe(0);
    expect(store.sweep(T0 + 60_000)).toBe(1);
    db.close();
  });
});

describe('on the DynamoDB state table', () => {
  let dynalite: RunningDynalite;
  beforeAll(async () => {
    dynalite = await startDynalite();
    await dynalite.createTable('tocsin-rate');
  });
  afterAll(async () => {
    await dynalite.close();
  });
  storeContract('dynamodb', () => new DynamoDbRateLimitStore({ client: dynalite.client, tableName: 'tocsin-rate' }));
});
