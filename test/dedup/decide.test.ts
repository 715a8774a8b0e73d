// Every row of the contract's dedup rules, on the pure decision.
import { describe, expect, it } from 'vitest';
import { decide, DEFAULT_DEDUP_SETTINGS, type DedupSettings, type IncidentRecord } from '../../shared/dedup/index.ts';
import type { Incident } from '../../shared/incident.ts';

const settings: DedupSettings = { renotifyAfterMs: 60 * 60_000, flap: { changes: 3, windowMs: 10 * 60_000 }, notifyUnknownResolve: false, resolvedTtlSeconds: 3_600 };

function incident(status: 'firing' | 'resolved', startsAt: string, endsAt?: string): Incident {
  return {
    schemaVersion: 1,
    fingerprint: 'alertmanager:0123456789abcdef0123456789abcdef',
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

const T0 = '2026-11-25T10:00:00.000Z';
const at = (minutes: number): Date => new Date(Date.parse(T0) + minutes * 60_000);
const iso = (minutes: number): string => at(minutes).toISOString();
const firing = (startMinute = 0): Incident => incident('firing', iso(startMinute));
const resolved = (startMinute: number, endMinute: number): Incident => incident('resolved', iso(startMinute), iso(endMinute));

/** Applies events in order, returning each decision's action/reason and the final record. */
function run(events: readonly (readonly [Incident, number])[], with_: DedupSettings = settings) {
  let record: IncidentRecord | undefined;
  const outcomes: string[] = [];
  for (const [event, minute] of events) {
    const { decision, next } = decide(record, event, at(minute), with_);
    outcomes.push(decision.action === 'suppressed' ? `suppressed:${decision.reason}` : decision.action);
    if (next) record = next;
  }
  return { outcomes, record: record! };
}

describe('dedup decision', () => {
  it('a new firing alert opens, with a transition id and no TTL', () => {
    const { decision, next } = decide(undefined, firing(), at(0), settings);
    expect(decision).toEqual({ action: 'opened', transitionId: 'v1' });
    expect(next).toMatchObject({ status: 'firing', version: 1, occurrences: 1, firstSeen: iso(0), lastSeen: iso(0), lastNotifiedAt: iso(0), episodeStartedAt: iso(0), flapping: false });
    expect(next?.expiresAt).toBeUndefined();
  });

  it('firing while firing is a counted duplicate', () => {
    const { outcomes, record } = run([[firing(), 0], [firing(), 1], [firing(), 2]]);
    expect(outcomes).toEqual(['opened', 'suppressed:duplicate', 'suppressed:duplicate']);
    expect(record).toMatchObject({ occurrences: 3, version: 3, lastSeen: iso(2), firstSeen: iso(0), lastNotifiedAt: iso(0) });
  });

  it('re-notifies once the interval has passed since the last notice, then waits again', () => {
    const { outcomes, record } = run([[firing(), 0], [firing(), 59], [firing(), 60], [firing(), 61], [firing(), 120]]);
    expect(outcomes).toEqual(['opened', 'suppressed:duplicate', 'renotified', 'suppressed:duplicate', 'renotified']);
    expect(record.lastNotifiedAt).toBe(iso(120));
  });

  it('never re-notifies with renotifyAfter 0', () => {
    const { outcomes } = run([[firing(), 0], [firing(), 600]], { ...settings, renotifyAfterMs: 0 });
    expect(outcomes).toEqual(['opened', 'suppressed:duplicate']);
  });

  it('resolved while firing resolves and sets the TTL; the record keeps the episode start', () => {
    const { outcomes, record } = run([[firing(), 0], [resolved(0, 20), 20]]);
    expect(outcomes).toEqual(['opened', 'resolved']);
    expect(record).toMatchObject({ status: 'resolved', transitionId: 'v2', episodeStartedAt: iso(0), expiresAt: Math.floor(at(20).getTime() / 1000) + 3_600 });
  });

  it('resolved while resolved is a duplicate', () => {
    const { outcomes } = run([[firing(), 0], [resolved(0, 20), 20], [resolved(0, 20), 21]]);
    expect(outcomes).toEqual(['opened', 'resolved', 'suppressed:duplicate']);
  });

  it('a resolve for a fingerprint never seen is suppressed, or told when configured', () => {
    expect(run([[resolved(0, 5), 5]]).outcomes).toEqual(['suppressed:unknown-resolve']);
    expect(run([[resolved(0, 5), 5]], { ...settings, notifyUnknownResolve: true }).outcomes).toEqual(['resolved']);
  });

  it('firing after resolved opens a new episode', () => {
    const { outcomes, record } = run([[firing(0), 0], [resolved(0, 10), 10], [firing(30), 30]]);
    expect(outcomes).toEqual(['opened', 'resolved', 'opened']);
    expect(record).toMatchObject({ status: 'firing', episodeStartedAt: iso(30), transitionId: 'v3' });
    expect(record.expiresAt).toBeUndefined();
  });

  it('out of order: a resolve that arrives before its firing does not leave the incident open', () => {
    const { outcomes, record } = run([[resolved(0, 10), 11], [firing(0), 12]]);
    expect(outcomes).toEqual(['suppressed:unknown-resolve', 'suppressed:stale']);
    expect(record.status).toBe('resolved');
  });

  it('an event older than the last applied one is stale and changes nothing', () => {
    const { decision, next } = decide(run([[firing(0), 0], [resolved(0, 30), 30]]).record, resolved(0, 25), at(31), settings);
    expect(decision).toEqual({ action: 'suppressed', reason: 'stale' });
    expect(next).toBeUndefined();
  });

  it('a fingerprint that flips more than N times in the window: one flapping notice, then quiet until stable', () => {
    const events: [Incident, number][] = [
      [firing(0), 0],
      [resolved(0, 1), 1], // change 1
      [firing(2), 2], // change 2
      [resolved(2, 3), 3], // change 3
      [firing(4), 4], // change 4 > 3: flapping
      [resolved(4, 5), 5],
      [firing(6), 6],
      [firing(6), 7],
    ];
    const { outcomes, record } = run(events);
    expect(outcomes).toEqual(['opened', 'resolved', 'opened', 'resolved', 'flapping', 'suppressed:flapping', 'suppressed:flapping', 'suppressed:duplicate']);
    expect(record.flapping).toBe(true);
    // Stable for a whole window: the next change is told normally again.
    const { decision, next } = decide(record, resolved(6, 20), at(20), settings);
    expect(decision).toEqual({ action: 'resolved', transitionId: `v${String(record.version + 1)}` });
    expect(next?.flapping).toBe(false);
  });

  it('changes spread wider than the window are not flapping', () => {
    const events: [Incident, number][] = [];
    for (let index = 0; index < 8; index += 1) events.push([index % 2 === 0 ? firing(index * 15) : resolved((index - 1) * 15, index * 15), index * 15]);
    expect(run(events).outcomes).toEqual(['opened', 'resolved', 'opened', 'resolved', 'opened', 'resolved', 'opened', 'resolved']);
  });

  it('uses the contract defaults when none are given', () => {
    expect(DEFAULT_DEDUP_SETTINGS).toEqual({ renotifyAfterMs: 14_400_000, flap: { changes: 4, windowMs: 1_800_000 }, notifyUnknownResolve: false, resolvedTtlSeconds: 604_800 });
  });
});
