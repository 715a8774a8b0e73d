// What only the in-process store has: list(), and the JSON snapshot the local pipeline keeps
// across restarts.
import { describe, expect, it } from 'vitest';
import { MemoryIncidentStore, type DedupSettings } from '../../shared/dedup/index.ts';
import { at, firingAt, freshFingerprint, label, ManualClock, resolvedAt } from './fixtures.ts';

const settings: DedupSettings = { renotifyAfterMs: 60 * 60_000, flap: { changes: 4, windowMs: 30 * 60_000 }, notifyUnknownResolve: false, resolvedTtlSeconds: 3_600 };

describe('MemoryIncidentStore', () => {
  it('survives a restart through its JSON snapshot: records and counts', async () => {
    const clock = new ManualClock(at(5));
    const store = new MemoryIncidentStore({ settings, now: clock.now });
    const open = freshFingerprint();
    const closed = freshFingerprint();
    await store.apply(firingAt(open, 0), at(1));
    await store.apply(firingAt(closed, 0), at(2));
    await store.apply(resolvedAt(closed, 0, 3), at(3));

    const snapshot: unknown = JSON.parse(JSON.stringify(store.toJSON()));
    const restored = MemoryIncidentStore.fromJSON(snapshot, { settings, now: clock.now });
    expect(restored.list()).toEqual(store.list());
    expect(restored.list().map((record) => [record.fingerprint, record.status, record.occurrences])).toEqual([
      [open, 'firing', 1],
      [closed, 'resolved', 2],
    ]);
    const again = await restored.apply(firingAt(open, 0), at(6));
    expect(label(again.decision)).toBe('suppressed:duplicate');
    expect(again.record.occurrences).toBe(2);
  });

  it('drops expired records from list() and expired markers of an older snapshot from the snapshot', async () => {
    const clock = new ManualClock(at(10));
    const legacy = { version: 1, records: [], markers: [['delivery#x#v1.0#audit', Math.floor(at(11).getTime() / 1000)]] };
    const store = MemoryIncidentStore.fromJSON(legacy, { settings, now: clock.now });
    expect(store.toJSON().markers).toHaveLength(1);
    const firing = freshFingerprint();
    const resolved = freshFingerprint();
    await store.apply(firingAt(firing, 0), at(0));
    await store.apply(resolvedAt(resolved, 0, 10), at(10));
    expect(store.list().map((record) => record.fingerprint)).toEqual([firing, resolved]);
    expect(store.get(resolved)?.status).toBe('resolved');

    clock.advanceSeconds(3_600);
    expect(store.list().map((record) => record.fingerprint)).toEqual([firing]);
    expect(store.get(resolved)).toBeUndefined();
    expect(store.toJSON()).toMatchObject({ version: 1, markers: [] });
  });

  it('refuses a damaged snapshot, naming the field', () => {
    const fp = freshFingerprint();
    const damaged = { version: 1, records: [{ fingerprint: fp, version: 'two' }], markers: [] };
    expect(() => MemoryIncidentStore.fromJSON(damaged)).toThrow(/^invalid incident store snapshot: records\[0\]\.version: /);
    expect(() => MemoryIncidentStore.fromJSON({ version: 2, records: [], markers: [] })).toThrow(/^invalid incident store snapshot: version: /);
  });
});
