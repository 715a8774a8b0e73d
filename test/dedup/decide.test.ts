// Every row of the contract's dedup rules, on the pure decision; then invariants over random
// event sequences (fast-check).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLOCK_SKEW_TOLERANCE_MS, decide, DEFAULT_DEDUP_SETTINGS, isExpired, type DedupResult, type DedupSettings, type IncidentRecord } from '../../shared/dedup/index.ts';
import type { Incident } from '../../shared/incident.ts';

const settings: DedupSettings = { renotifyAfterMs: 60 * 60_000, flap: { changes: 3, windowMs: 10 * 60_000 }, notifyUnknownResolve: false, resolvedTtlSeconds: 3_600 };
const FINGERPRINT = 'alertmanager:0123456789abcdef0123456789abcdef';

function incident(status: 'firing' | 'resolved', startsAt: string, endsAt?: string): Incident {
  return {
    schemaVersion: 1,
    fingerprint: FINGERPRINT,
    status,
    severity: 'error',
    title: 'HighErrorRate on api',
    source: { kind: 'alertmanager', cloud: 'other', rule: 'HighErrorRate' },
    startsAt,
    ...(endsAt ? { endsAt } : {}),
    labels: { alertname: 'HighErrorRate' },
    links: [],
  };
}

const T0 = Date.parse('2026-11-25T10:00:00.000Z');
const at = (minutes: number): Date => new Date(T0 + minutes * 60_000);
const iso = (minutes: number): string => at(minutes).toISOString();
const ms = (minutes: number): number => at(minutes).getTime();
const seconds = (minutes: number): number => Math.floor(ms(minutes) / 1000);
const firing = (startMinute = 0): Incident => incident('firing', iso(startMinute));
const resolved = (startMinute: number, endMinute: number): Incident => incident('resolved', iso(startMinute), iso(endMinute));

const label = (result: DedupResult): string =>
  result.decision.action === 'suppressed' ? `suppressed:${result.decision.reason}` : result.decision.action;

/** Applies events in order (each [incident, arrival minute]); returns every result and the final record. */
function run(events: readonly (readonly [Incident, number])[], with_: DedupSettings = settings) {
  let record: IncidentRecord | undefined;
  const results: DedupResult[] = [];
  for (const [event, minute] of events) {
    const result = decide(record, event, at(minute), with_);
    results.push(result);
    if (result.next) record = result.next;
  }
  return { outcomes: results.map(label), writes: results.map((result) => result.write), results, record: record! };
}

describe('dedup decision: the contract rows', () => {
  it('new + firing → opened, with a transition id, counts, times, and no TTL', () => {
    const result = decide(undefined, firing(0), at(1), settings);
    expect(result.decision).toEqual({ action: 'opened', transitionId: `v1.${String(ms(0))}` });
    expect(result.write).toBe('state');
    expect(result.next).toEqual({
      fingerprint: FINGERPRINT,
      version: 1,
      status: 'firing',
      incident: firing(0),
      episodeStartedAt: iso(0),
      lastEventTime: iso(0),
      occurrences: 1,
      firstSeen: iso(1),
      lastSeen: iso(1),
      lastNotifiedAt: iso(1),
      transitionId: `v1.${String(ms(0))}`,
      changes: [],
      flapping: false,
      expiresAt: undefined,
      nextReminderAt: new Date(ms(1) + settings.renotifyAfterMs).toISOString(),
    });
  });

  it('firing while firing → suppressed duplicate, counted with a touch that keeps the version', () => {
    const { outcomes, writes, record } = run([[firing(), 0], [firing(), 1], [firing(), 2]]);
    expect(outcomes).toEqual(['opened', 'suppressed:duplicate', 'suppressed:duplicate']);
    expect(writes).toEqual(['state', 'touch', 'touch']);
    expect(record).toMatchObject({ occurrences: 3, version: 1, lastSeen: iso(2), firstSeen: iso(0), lastNotifiedAt: iso(0) });
  });

  it('re-notifies once renotifyAfter has passed since the last notice, each time with a new transition id', () => {
    const { outcomes, results, record } = run([[firing(), 0], [firing(), 59], [firing(), 60], [firing(), 61], [firing(), 120]]);
    expect(outcomes).toEqual(['opened', 'suppressed:duplicate', 'renotified', 'suppressed:duplicate', 'renotified']);
    expect(results[2]!.decision).toEqual({ action: 'renotified', transitionId: `v2.${String(ms(0))}` });
    expect(results[4]!.decision).toEqual({ action: 'renotified', transitionId: `v3.${String(ms(0))}` });
    expect(record).toMatchObject({ lastNotifiedAt: iso(120), version: 3, occurrences: 5 });
  });

  it('never re-notifies with renotifyAfter 0', () => {
    expect(run([[firing(), 0], [firing(), 600]], { ...settings, renotifyAfterMs: 0 }).outcomes).toEqual(['opened', 'suppressed:duplicate']);
  });

  it('resolved while firing → resolved; the record gets its TTL and keeps the episode start', () => {
    const { outcomes, results, record } = run([[firing(0), 0], [resolved(0, 20), 21]]);
    expect(outcomes).toEqual(['opened', 'resolved']);
    expect(results[1]!.decision).toEqual({ action: 'resolved', transitionId: `v2.${String(ms(20))}` });
    expect(record).toMatchObject({ status: 'resolved', version: 2, episodeStartedAt: iso(0), lastEventTime: iso(20), lastNotifiedAt: iso(21), expiresAt: seconds(21) + 3_600 });
  });

  it('a resolve at the very instant the firing began still resolves it', () => {
    expect(run([[firing(5), 5], [resolved(5, 5), 6]]).outcomes).toEqual(['opened', 'resolved']);
  });

  it('resolved while resolved → suppressed duplicate; the TTL is pushed back', () => {
    const { outcomes, writes, record } = run([[firing(), 0], [resolved(0, 20), 20], [resolved(0, 20), 30]]);
    expect(outcomes).toEqual(['opened', 'resolved', 'suppressed:duplicate']);
    expect(writes).toEqual(['state', 'state', 'touch']);
    expect(record).toMatchObject({ version: 2, occurrences: 3, expiresAt: seconds(30) + 3_600 });
  });

  it('resolved for a fingerprint never seen → suppressed unknown-resolve, remembered as resolved', () => {
    const { outcomes, record } = run([[resolved(0, 5), 5]]);
    expect(outcomes).toEqual(['suppressed:unknown-resolve']);
    expect(record).toMatchObject({ status: 'resolved', version: 1, lastEventTime: iso(5), expiresAt: seconds(5) + 3_600 });
    expect(record.lastNotifiedAt).toBeUndefined();
    expect(record.transitionId).toBeUndefined();
  });

  it('…or → resolved when notifyUnknownResolve is set', () => {
    const result = decide(undefined, resolved(0, 5), at(5), { ...settings, notifyUnknownResolve: true });
    expect(result.decision).toEqual({ action: 'resolved', transitionId: `v1.${String(ms(5))}` });
    expect(result.next?.lastNotifiedAt).toBe(iso(5));
  });

  it('firing after resolved (newer start) → opened: a new episode, a new transition, no TTL', () => {
    const { outcomes, results, record } = run([[firing(0), 0], [resolved(0, 10), 10], [firing(30), 30]]);
    expect(outcomes).toEqual(['opened', 'resolved', 'opened']);
    expect(results[2]!.decision).toEqual({ action: 'opened', transitionId: `v3.${String(ms(30))}` });
    expect(record).toMatchObject({ status: 'firing', episodeStartedAt: iso(30), version: 3, expiresAt: undefined });
  });
});

describe('dedup decision: ordering', () => {
  it('out of order: a resolve that arrives before its firing does not leave the incident open', () => {
    const { outcomes, writes, record } = run([[resolved(0, 10), 11], [firing(0), 12]]);
    expect(outcomes).toEqual(['suppressed:unknown-resolve', 'suppressed:stale']);
    expect(writes).toEqual(['state', 'none']);
    expect(record.status).toBe('resolved');
  });

  it('a late firing that began at the resolve instant is stale too (a resolve orders after a firing)', () => {
    const { outcomes, record } = run([[resolved(10, 10), 11], [firing(10), 12]]);
    expect(outcomes).toEqual(['suppressed:unknown-resolve', 'suppressed:stale']);
    expect(record.status).toBe('resolved');
  });

  it('a delayed firing from before the resolve is stale after the incident resolved', () => {
    const { outcomes } = run([[firing(0), 0], [resolved(0, 30), 30], [firing(10), 31]]);
    expect(outcomes).toEqual(['opened', 'resolved', 'suppressed:stale']);
  });

  it('an event older than the last one applied changes nothing: no next record, no write', () => {
    const { record } = run([[firing(0), 0], [resolved(0, 30), 30]]);
    const result = decide(record, resolved(0, 25), at(31), settings);
    expect(result).toEqual({ decision: { action: 'suppressed', reason: 'stale' }, write: 'none' });
  });

  it('compares instants, not strings: the same start written with an offset is a duplicate', () => {
    const { outcomes, record } = run([[firing(0), 0], [incident('firing', '2026-11-25T11:00:00+01:00'), 1]]);
    expect(outcomes).toEqual(['opened', 'suppressed:duplicate']);
    expect(record.lastEventTime).toBe(iso(0));
  });
});

describe('dedup decision: clock skew', () => {
  const seconds_ = (n: number): number => n * 1000;
  const stamp = (epochMs: number): string => new Date(epochMs).toISOString();

  it('a far-future firing (year 9999) counts as received: its resolve is told, its record keeps the time received', () => {
    const future = incident('firing', '9999-12-31T23:59:59.000Z');
    const opened = decide(undefined, future, at(1), settings, at(1));
    expect(label(opened)).toBe('opened');
    expect(opened.next?.lastEventTime).toBe(iso(1));
    // Its transition id is taken on the ordering time too, so it stays the same on a redelivery.
    expect(opened.decision).toEqual({ action: 'opened', transitionId: `v1.${String(ms(1))}` });
    const resolve = decide(opened.next, incident('resolved', '9999-12-31T23:59:59.000Z', iso(5)), at(5), settings, at(5));
    expect(label(resolve)).toBe('resolved');
    expect(resolve.next?.status).toBe('resolved');
  });

  it('a sender clock an hour ahead: firing and resolve both stamped an hour ahead, the resolve is told', () => {
    const { outcomes, record } = run([
      [incident('firing', iso(60)), 0],
      [incident('resolved', iso(60), iso(62)), 2],
    ]);
    expect(outcomes).toEqual(['opened', 'resolved']);
    expect(record.status).toBe('resolved');
  });

  it('Alertmanager’s startsAt = endsAt (only endsAt posted): firing stamped at the future end, then its resolve', () => {
    const { outcomes } = run([
      [incident('firing', iso(30)), 0],
      [incident('resolved', iso(30), iso(30)), 30],
    ]);
    expect(outcomes).toEqual(['opened', 'resolved']);
  });

  it('within the tolerance an event keeps its own time; beyond it, the time received', () => {
    const received = at(0);
    const within = decide(undefined, incident('firing', stamp(ms(0) + CLOCK_SKEW_TOLERANCE_MS)), received, settings, received);
    expect(within.next?.lastEventTime).toBe(stamp(ms(0) + CLOCK_SKEW_TOLERANCE_MS));
    const beyond = decide(undefined, incident('firing', stamp(ms(0) + CLOCK_SKEW_TOLERANCE_MS + 1)), received, settings, received);
    expect(beyond.next?.lastEventTime).toBe(iso(0));
    expect(CLOCK_SKEW_TOLERANCE_MS).toBe(seconds_(5));
  });

  it('bounds by the time received, not the time decided: a queued future firing is clamped to its arrival', () => {
    // Received at minute 0, decided at minute 20 (a backlog): the firing stamped minute 10 lies
    // in the future of its arrival, so it orders at minute 0, and a resolve at minute 5 is told.
    const opened = decide(undefined, incident('firing', iso(10)), at(20), settings, at(0));
    expect(opened.next?.lastEventTime).toBe(iso(0));
    const resolve = decide(opened.next, incident('resolved', iso(10), iso(5)), at(21), settings, at(21));
    expect(label(resolve)).toBe('resolved');
  });

  it('past times are never moved: a delayed old firing after a resolve is still stale', () => {
    const { outcomes } = run([
      [resolved(0, 10), 11],
      [firing(0), 12],
    ]);
    expect(outcomes).toEqual(['suppressed:unknown-resolve', 'suppressed:stale']);
  });
});

describe('dedup decision: flapping', () => {
  const flapping: [Incident, number][] = [
    [firing(0), 0],
    [resolved(0, 1), 1], // change 1
    [firing(2), 2], // change 2
    [resolved(2, 3), 3], // change 3
    [firing(4), 4], // change 4 > 3: flapping
    [resolved(4, 5), 5], // paused
    [firing(6), 6], // paused
    [firing(6), 7], // a repeat while paused
  ];

  it('more than N changes in the window: one flapping notice, then changes are paused', () => {
    const { outcomes, results, record } = run(flapping);
    expect(outcomes).toEqual(['opened', 'resolved', 'opened', 'resolved', 'flapping', 'suppressed:flapping', 'suppressed:flapping', 'suppressed:duplicate']);
    expect(results[4]!.decision).toEqual({ action: 'flapping', transitionId: `v5.${String(ms(4))}` });
    expect(record).toMatchObject({ flapping: true, status: 'firing', lastNotifiedAt: iso(4), version: 7 });
    // Only the last flap.changes + 1 change times are kept.
    expect(record.changes).toEqual([iso(3), iso(4), iso(5), iso(6)]);
  });

  it('a re-notice due during the pause is suppressed as flapping', () => {
    const { record } = run(flapping);
    const result = decide(record, firing(6), at(64), { ...settings, flap: { changes: 3, windowMs: 120 * 60_000 } });
    expect(result.decision).toEqual({ action: 'suppressed', reason: 'flapping' });
  });

  it('stable for a whole window: the next change is told normally again', () => {
    const { record } = run(flapping);
    const result = decide(record, resolved(6, 20), at(20), settings);
    expect(result.decision).toEqual({ action: 'resolved', transitionId: `v8.${String(ms(20))}` });
    expect(result.next).toMatchObject({ flapping: false, changes: [iso(20)] });
  });

  it('a repeat after a quiet window ends the pause (a state write) without telling anyone', () => {
    const { record } = run(flapping);
    const result = decide(record, firing(6), at(17), settings);
    expect(result.decision).toEqual({ action: 'suppressed', reason: 'duplicate' });
    expect(result.write).toBe('state');
    expect(result.next).toMatchObject({ flapping: false, changes: [], version: 8 });
  });

  it('changes spread wider than the window are not flapping', () => {
    const events: [Incident, number][] = [];
    for (let index = 0; index < 8; index += 1) events.push([index % 2 === 0 ? firing(index * 15) : resolved((index - 1) * 15, index * 15), index * 15]);
    expect(run(events).outcomes).toEqual(['opened', 'resolved', 'opened', 'resolved', 'opened', 'resolved', 'opened', 'resolved']);
  });
});

describe('dedup decision: expiry and settings', () => {
  it('a record past its TTL counts as absent, and its version carries on', () => {
    const { record } = run([[firing(0), 0], [resolved(0, 10), 10]]);
    expect(record.expiresAt).toBe(seconds(10) + 3_600);
    // Before expiry a firing from before the resolve is stale; after it, it opens a new record.
    expect(label(decide(record, firing(5), at(69), settings))).toBe('suppressed:stale');
    const after = decide(record, firing(5), at(71), settings);
    expect(after.decision).toEqual({ action: 'opened', transitionId: `v3.${String(ms(5))}` });
    expect(after.next).toMatchObject({ version: 3, occurrences: 1, firstSeen: iso(71), changes: [], expiresAt: undefined });
  });

  it('is pure: the same inputs give the same decision and the same transition id', () => {
    const { record } = run([[firing(0), 0]]);
    expect(decide(record, resolved(0, 9), at(9), settings)).toEqual(decide(record, resolved(0, 9), at(9), settings));
  });

  it('uses the contract defaults', () => {
    expect(DEFAULT_DEDUP_SETTINGS).toEqual({ renotifyAfterMs: 14_400_000, flap: { changes: 4, windowMs: 1_800_000 }, notifyUnknownResolve: false, resolvedTtlSeconds: 604_800 });
  });
});

describe('dedup decision: invariants over random event sequences', () => {
  const event = fc.record({
    status: fc.constantFrom('firing' as const, 'resolved' as const),
    startMinute: fc.integer({ min: 0, max: 30 }),
    duration: fc.integer({ min: 0, max: 10 }),
    gap: fc.integer({ min: 0, max: 20 }),
  });

  it('stale leaves the record as it was, versions only grow by state writes, lastEventTime never goes back', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 30 }), (events) => {
        let record: IncidentRecord | undefined;
        let minute = 0;
        for (const { status, startMinute, duration, gap } of events) {
          minute += gap;
          const input = status === 'firing' ? firing(startMinute) : resolved(startMinute, startMinute + duration);
          const result = decide(record, input, at(minute), settings);
          if (result.write === 'none') {
            expect(result.decision).toEqual({ action: 'suppressed', reason: 'stale' });
            continue;
          }
          const { next } = result;
          // An expired record counts as absent (covered above); compare against live ones.
          if (record && !isExpired(record, at(minute))) {
            expect(Date.parse(next.lastEventTime)).toBeGreaterThanOrEqual(Date.parse(record.lastEventTime));
            expect(next.version).toBe(record.version + (result.write === 'state' ? 1 : 0));
            if (result.write === 'touch') {
              expect({ ...next, incident: record.incident, occurrences: record.occurrences, lastSeen: record.lastSeen, lastEventTime: record.lastEventTime, expiresAt: record.expiresAt }).toEqual(record);
            }
          }
          expect(next.status).toBe(input.status);
          expect(next.expiresAt === undefined).toBe(next.status === 'firing');
          if (result.decision.action !== 'suppressed') {
            expect(next.transitionId).toBe(result.decision.transitionId);
            expect(next.lastNotifiedAt).toBe(at(minute).toISOString());
          }
          expect(next.changes.length).toBeLessThanOrEqual(settings.flap.changes + 1);
          record = next;
        }
      }),
      { numRuns: 300 },
    );
  });
});
