// The on-call rules on the pure decision: silences and maintenance windows hold firings (the
// record keeps them, untold), a resolve is told whenever its firing was, an untold firing is
// told when the hold ends, reminders fall due on a timer (not only on repeats) and stop while
// acknowledged or held, and auto-resolve fires once.
import { describe, expect, it } from 'vitest';
import { acknowledge, decide, decideDue, type DecideContext, type DedupSettings, type Hold, type IncidentRecord } from '../../shared/dedup/decide.ts';
import { dueAtOf } from '../../shared/dedup/record.ts';
import type { Incident } from '../../shared/incident.ts';

const settings: DedupSettings = { renotifyAfterMs: 10 * 60_000, flap: { changes: 10, windowMs: 10 * 60_000 }, notifyUnknownResolve: false, resolvedTtlSeconds: 3_600 };
const T0 = Date.parse('2026-11-25T10:00:00.000Z');
const at = (minutes: number): Date => new Date(T0 + minutes * 60_000);
const iso = (minutes: number): string => at(minutes).toISOString();

function incident(status: 'firing' | 'resolved', start: number, end?: number): Incident {
  return {
    schemaVersion: 1,
    fingerprint: 'alertmanager:00000000000000000000000000000001',
    status,
    severity: 'error',
    title: 'HighErrorRate on api',
    source: { kind: 'alertmanager', cloud: 'other', rule: 'HighErrorRate' },
    startsAt: iso(start),
    ...(end === undefined ? {} : { endsAt: iso(end) }),
    labels: { alertname: 'HighErrorRate' },
    links: [],
  };
}

const silence = (untilMinute: number): Hold => ({ kind: 'silence', id: 'sil-1', until: iso(untilMinute) });

/** Applies [incident, minute, context] in order; returns the outcomes and the last record. */
function run(events: readonly (readonly [Incident, number, DecideContext?])[]): { outcomes: string[]; record: IncidentRecord } {
  let record: IncidentRecord | undefined;
  const outcomes: string[] = [];
  for (const [event, minute, context] of events) {
    const result = decide(record, event, at(minute), settings, at(minute), context ?? {});
    outcomes.push(result.decision.action === 'suppressed' ? `suppressed:${result.decision.reason}` : result.decision.action);
    if (result.next) record = result.next;
  }
  if (!record) throw new Error('no record');
  return { outcomes, record };
}

describe('holds (silences, maintenance windows)', () => {
  it('a held firing is recorded with its hold and not told; its resolve is not told either', () => {
    const { outcomes, record } = run([
      [incident('firing', 0), 1, { hold: silence(60) }],
      [incident('resolved', 0, 5), 6, { hold: silence(60) }],
    ]);
    expect(outcomes).toEqual(['suppressed:silenced', 'suppressed:silenced']);
    expect(record.status).toBe('resolved');
    expect(record.untold).toBeUndefined();
  });

  it('keeps the hold on the record while it fires', () => {
    const { record } = run([[incident('firing', 0), 1, { hold: silence(60) }]]);
    expect(record).toMatchObject({ status: 'firing', untold: true, held: silence(60) });
    expect(record.lastNotifiedAt).toBeUndefined();
    expect(dueAtOf(record)).toBe(at(60).getTime());
  });

  it('a resolve is told whenever its firing was, even while a silence matches', () => {
    const { outcomes } = run([
      [incident('firing', 0), 1],
      [incident('firing', 0), 2, { hold: silence(60) }],
      [incident('resolved', 0, 5), 6, { hold: silence(60) }],
    ]);
    expect(outcomes).toEqual(['opened', 'suppressed:duplicate', 'resolved']);
  });

  it('an untold firing is told at its next repeat once nothing holds it', () => {
    const { outcomes, record } = run([
      [incident('firing', 0), 1, { hold: silence(3) }],
      [incident('firing', 0), 2, { hold: silence(3) }],
      [incident('firing', 0), 4],
      [incident('resolved', 0, 5), 6],
    ]);
    expect(outcomes).toEqual(['suppressed:silenced', 'suppressed:silenced', 'opened', 'resolved']);
    expect(record.untold).toBeUndefined();
  });

  it('the scheduler tells an untold firing when its hold has ended (opened), and keeps it while held', () => {
    const { record } = run([[incident('firing', 0), 1, { hold: silence(3) }]]);
    const still = decideDue(record, at(3), settings, { hold: silence(30) });
    expect(still).toMatchObject({ write: 'state', decision: { action: 'suppressed', reason: 'silenced' } });
    if (still.write !== 'state') throw new Error('unreachable');
    expect(dueAtOf(still.next)).toBe(at(30).getTime());
    const told = decideDue(still.next, at(30), settings, {});
    expect(told).toMatchObject({ write: 'state', decision: { action: 'opened' } });
    if (told.write !== 'state') throw new Error('unreachable');
    expect(told.next.untold).toBeUndefined();
    expect(told.next.lastNotifiedAt).toBe(iso(30));
    // Told now, so its resolve is told.
    expect(decide(told.next, incident('resolved', 0, 31), at(31), settings).decision.action).toBe('resolved');
  });

  it('a new episode after a held one is told normally', () => {
    const { outcomes } = run([
      [incident('firing', 0), 1, { hold: silence(3) }],
      [incident('resolved', 0, 2), 2, { hold: silence(3) }],
      [incident('firing', 10), 10],
    ]);
    expect(outcomes).toEqual(['suppressed:silenced', 'suppressed:silenced', 'opened']);
  });
});

describe('reminders on a timer', () => {
  it('fall due renotifyAfter after the last notice without any repeat, then again', () => {
    const { record } = run([[incident('firing', 0), 0]]);
    expect(record.nextReminderAt).toBe(iso(10));
    expect(decideDue(record, at(10), settings)).toMatchObject({ decision: { action: 'renotified' }, next: { reminders: 1, nextReminderAt: iso(20), lastNotifiedAt: iso(10) } });
  });

  it('stop while acknowledged, and a new episode starts unacknowledged', () => {
    const { record } = run([[incident('firing', 0), 0]]);
    const acked = acknowledge(record, 'alice', at(1), settings);
    expect(acked.acknowledged).toEqual({ by: 'alice', at: iso(1) });
    expect(acked.nextReminderAt).toBeUndefined();
    expect(dueAtOf(acked)).toBeUndefined();
    expect(decide(acked, incident('firing', 0), at(15), settings).decision).toEqual({ action: 'suppressed', reason: 'acknowledged' });
    const resolved = decide(acked, incident('resolved', 0, 20), at(20), settings);
    if (!resolved.next) throw new Error('no record');
    const reopened = decide(resolved.next, incident('firing', 30), at(30), settings);
    expect(reopened.decision.action).toBe('opened');
    expect(reopened.next?.acknowledged).toBeUndefined();
  });

  it('are held back by a silence that matches a told firing', () => {
    const { record } = run([[incident('firing', 0), 0]]);
    const held = decideDue(record, at(10), settings, { hold: silence(40) });
    expect(held).toMatchObject({ decision: { action: 'suppressed', reason: 'silenced' } });
    if (held.write !== 'state') throw new Error('unreachable');
    expect(dueAtOf(held.next)).toBe(at(40).getTime());
    expect(decideDue(held.next, at(40), settings)).toMatchObject({ decision: { action: 'renotified' } });
  });
});

describe('auto-resolve', () => {
  it('resolves a firing incident not heard of for autoResolveAfter, says so, once', () => {
    const context = { autoResolveAfterMs: 30 * 60_000 };
    const { record } = run([
      [incident('firing', 0), 0, context],
      [incident('firing', 0), 5, context],
    ]);
    expect(record.autoResolveAt).toBe(iso(35));
    const due = decideDue(record, at(35), { ...settings, renotifyAfterMs: 0 }, context);
    expect(due).toMatchObject({ write: 'state', decision: { action: 'resolved' }, incident: { status: 'resolved', endsAt: iso(35) } });
    if (due.write !== 'state') throw new Error('unreachable');
    expect(due.incident.summary).toMatch(/^Auto-resolved: nothing heard from alertmanager for 30m/);
    expect(due.next.status).toBe('resolved');
    expect(dueAtOf(due.next)).toBeUndefined();
    expect(decideDue(due.next, at(40), settings, context)).toEqual({ write: 'none' });
    // A late repeat of the same firing is stale; a new firing opens a new episode.
    expect(decide(due.next, incident('firing', 0), at(41), settings).decision).toEqual({ action: 'suppressed', reason: 'stale' });
    expect(decide(due.next, incident('firing', 50), at(50), settings).decision.action).toBe('opened');
  });
});

describe('records written before reminders were scheduled', () => {
  it('get their reminder from the settings in force when the scheduler first looks at them', () => {
    const { record } = run([[incident('firing', 0), 0]]);
    const { nextReminderAt: _dropped, ...old } = record;
    expect(decideDue(old, at(30), settings)).toMatchObject({ decision: { action: 'renotified' }, next: { nextReminderAt: iso(40) } });
    const early = decideDue(old, at(5), settings);
    expect(early).toMatchObject({ write: 'state', next: { nextReminderAt: iso(10) } });
    if (early.write === 'state') expect(early.decision).toBeUndefined();
  });
});
