// dispatchIncident with the real in-memory dedup store and a real router.
import { describe, expect, it } from 'vitest';
import type { RouteConfig } from '../../shared/config/index.ts';
import { DEFAULT_DEDUP_SETTINGS, MemoryIncidentStore } from '../../shared/dedup/index.ts';
import type { Incident } from '../../shared/incident.ts';
import { dispatchIncident } from '../../shared/pipeline/dispatch.ts';
import { createRouter } from '../../shared/routing/index.ts';

const firing: Incident = {
  schemaVersion: 1,
  fingerprint: 'fp-disk-full',
  status: 'firing',
  severity: 'warning',
  title: 'DiskFull on db-1',
  source: { kind: 'alertmanager', cloud: 'other', rule: 'DiskFull' },
  startsAt: '2026-11-25T10:00:00Z',
  labels: { team: 'storage' },
  links: [],
};
const resolved: Incident = { ...firing, status: 'resolved', endsAt: '2026-11-25T10:20:00Z' };

const routes: RouteConfig[] = [
  { match: { labels: { team: 'storage' } }, channels: ['ops-chat', 'audit'], continue: true, severity: 'critical' },
  { channels: ['audit', 'mail'], continue: false },
];
const at = (minute: number): Date => new Date(Date.UTC(2026, 10, 25, 10, minute));

describe('dispatchIncident', () => {
  it('makes one attempt-1 job per routed channel for a new incident, carrying the transition', async () => {
    const store = new MemoryIncidentStore({ settings: DEFAULT_DEDUP_SETTINGS });
    const { decision, routing, jobs } = await dispatchIncident(firing, { store, router: createRouter({ routes }), now: at(1) });
    expect(decision.action).toBe('opened');
    if (decision.action === 'suppressed') throw new Error('unreachable');
    expect(routing).toEqual({ severity: 'critical', channels: ['ops-chat', 'audit', 'mail'] });
    expect(jobs.map((job) => [job.channel, job.event, job.transitionId, job.attempt])).toEqual([
      ['ops-chat', 'opened', decision.transitionId, 1],
      ['audit', 'opened', decision.transitionId, 1],
      ['mail', 'opened', decision.transitionId, 1],
    ]);
  });

  it("applies the route's severity override to the jobs' incident only, keeping the fingerprint", async () => {
    const store = new MemoryIncidentStore({ settings: DEFAULT_DEDUP_SETTINGS });
    const { jobs } = await dispatchIncident(firing, { store, router: createRouter({ routes }), now: at(1) });
    expect(jobs[0]!.incident).toEqual({ ...firing, severity: 'critical' });
    expect(jobs[0]!.incident.fingerprint).toBe(firing.fingerprint);
    expect(firing.severity).toBe('warning');
    expect(store.list()[0]!.incident.severity).toBe('warning');
  });

  it('makes no jobs (and does not route) when dedup suppresses the incident', async () => {
    const store = new MemoryIncidentStore({ settings: DEFAULT_DEDUP_SETTINGS });
    const router = createRouter({ routes });
    await dispatchIncident(firing, { store, router, now: at(1) });
    const again = await dispatchIncident(firing, { store, router, now: at(2) });
    expect(again).toEqual({ decision: { action: 'suppressed', reason: 'duplicate' }, jobs: [] });
  });

  it('tells the resolve as a new transition', async () => {
    const store = new MemoryIncidentStore({ settings: DEFAULT_DEDUP_SETTINGS });
    const router = createRouter({ routes });
    const opened = await dispatchIncident(firing, { store, router, now: at(1) });
    const closed = await dispatchIncident(resolved, { store, router, now: at(21) });
    expect(closed.jobs.map((job) => [job.channel, job.event, job.incident.status])).toEqual([
      ['ops-chat', 'resolved', 'resolved'],
      ['audit', 'resolved', 'resolved'],
      ['mail', 'resolved', 'resolved'],
    ]);
    expect(closed.jobs[0]!.transitionId).not.toBe(opened.jobs[0]!.transitionId);
  });

  it('gives a resolve that does not know its start (CloudWatch OK) the episode start from the store', async () => {
    const store = new MemoryIncidentStore({ settings: DEFAULT_DEDUP_SETTINGS });
    const router = createRouter({ routes });
    await dispatchIncident(firing, { store, router, now: at(1) });
    const okNotice: Incident = { ...resolved, startsAt: '2026-11-25T10:20:00Z', endsAt: '2026-11-25T10:20:00Z' };
    const closed = await dispatchIncident(okNotice, { store, router, now: at(21) });
    expect(closed.jobs.map((job) => [job.event, job.incident.startsAt, job.incident.endsAt])).toEqual(
      closed.jobs.map(() => ['resolved', firing.startsAt, '2026-11-25T10:20:00Z']),
    );
    expect(closed.jobs.length).toBeGreaterThan(0);
  });

  it('gives a flapping notice on a CloudWatch OK the episode start too, so it shows no 0s and threads with the opened mail', async () => {
    const store = new MemoryIncidentStore({ settings: DEFAULT_DEDUP_SETTINGS });
    const router = createRouter({ routes });
    // CloudWatch-like: each notice starts when its own state change happened.
    const alarm = (minute: number): Incident => ({ ...firing, startsAt: at(minute).toISOString() });
    const ok = (minute: number): Incident => ({ ...resolved, startsAt: at(minute).toISOString(), endsAt: at(minute).toISOString() });
    const events: string[] = [];
    let last: Awaited<ReturnType<typeof dispatchIncident>> | undefined;
    // More than flap.changes (4) status changes within the window: the fifth change is told as flapping.
    for (const [minute, incident] of [[1, alarm(1)], [2, ok(2)], [3, alarm(3)], [4, ok(4)], [5, alarm(5)], [6, ok(6)]] as const) {
      last = await dispatchIncident(incident, { store, router, now: at(minute) });
      events.push(last.decision.action);
    }
    expect(events).toEqual(['opened', 'resolved', 'opened', 'resolved', 'opened', 'flapping']);
    expect(last!.jobs.map((job) => [job.event, job.incident.status, job.incident.startsAt, job.incident.endsAt])).toEqual(
      last!.jobs.map(() => ['flapping', 'resolved', at(5).toISOString(), at(6).toISOString()]),
    );
  });

  it('re-makes the last notice’s jobs, same transition, for a redelivered message whose jobs may be lost', async () => {
    const store = new MemoryIncidentStore({ settings: DEFAULT_DEDUP_SETTINGS });
    const router = createRouter({ routes });
    const first = await dispatchIncident(firing, { store, router, now: at(1) });
    // The first attempt wrote the record, then (say) crashed before queueing its jobs.
    const again = await dispatchIncident(firing, { store, router, now: at(2), redelivered: true });
    expect(again.decision).toEqual({ action: 'suppressed', reason: 'duplicate' });
    expect(again.jobs.map((job) => [job.event, job.channel, job.transitionId])).toEqual(first.jobs.map((job) => ['opened', job.channel, job.transitionId]));
    // A plain duplicate (not a redelivery) still makes nothing.
    expect((await dispatchIncident(firing, { store, router, now: at(3) })).jobs).toEqual([]);
  });

  it('does not re-make jobs on redelivery when the stored state moved on', async () => {
    const store = new MemoryIncidentStore({ settings: DEFAULT_DEDUP_SETTINGS });
    const router = createRouter({ routes });
    await dispatchIncident(firing, { store, router, now: at(1) });
    await dispatchIncident(resolved, { store, router, now: at(21) });
    const late = await dispatchIncident(firing, { store, router, now: at(22), redelivered: true });
    expect(late.decision).toEqual({ action: 'suppressed', reason: 'stale' });
    expect(late.jobs).toEqual([]);
  });

  it('makes no jobs when no route matches, though dedup recorded the incident', async () => {
    const store = new MemoryIncidentStore({ settings: DEFAULT_DEDUP_SETTINGS });
    const router = createRouter({ routes: [{ match: { cloud: ['azure'] }, channels: ['ops-chat'], continue: false }] });
    const result = await dispatchIncident(firing, { store, router, now: at(1) });
    expect(result.decision.action).toBe('opened');
    expect(result.routing).toEqual({ severity: 'warning', channels: [] });
    expect(result.jobs).toEqual([]);
    expect(store.list()).toHaveLength(1);
  });
});

describe('incidentPageUrl', () => {
  it('points at the incident row of the page, whatever the base URL ends with', async () => {
    const { incidentPageUrl } = await import('../../shared/pipeline/dispatch.ts');
    expect(incidentPageUrl('https://tocsin.example.com', 'cloudwatch:ab12')).toBe('https://tocsin.example.com/#incident-cloudwatch:ab12');
    expect(incidentPageUrl('https://ops.example.com/tocsin/', 'alertmanager:ff')).toBe('https://ops.example.com/tocsin/#incident-alertmanager:ff');
    expect(incidentPageUrl('https://tocsin.example.com', 'odd fp#1')).toBe('https://tocsin.example.com/#incident-odd%20fp%231');
  });
});
