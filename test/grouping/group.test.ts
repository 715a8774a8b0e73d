// The grouping decisions (shared/grouping/group.ts): which group, when it is due, what a flush makes.
import { describe, expect, it } from 'vitest';
import { transitionOrderOf } from '../../shared/dedup/decide.ts';
import { assignGroup, DIGEST_MAX_ITEMS, dueAfterAdding, flushGroup, groupValueOf, type DigestItem, type RouteGrouping } from '../../shared/grouping/group.ts';
import { firing, resolved } from '../fixtures/channels/incidents.ts';

const GROUPING: RouteGrouping = { by: ['alertname'], waitMs: 2_000, intervalMs: 60_000 };

function item(fingerprint: string, overrides: Parameters<typeof firing>[1] = {}, event: DigestItem['event'] = 'opened'): DigestItem {
  return { event, transitionId: 'v1.1000', incident: firing('cloudwatch', { fingerprint, ...overrides }) };
}

describe('which group', () => {
  it('groups by label values and incident fields; a missing label is ""', () => {
    const incident = firing('cloudwatch', { labels: { alertname: 'HighCPU', source: 'lbl' } });
    expect(groupValueOf(incident, 'alertname')).toBe('HighCPU');
    expect(groupValueOf(incident, 'source')).toBe('cloudwatch');
    expect(groupValueOf(incident, 'label:source')).toBe('lbl');
    expect(groupValueOf(incident, 'account')).toBe('123456789012');
    expect(groupValueOf(incident, 'resource')).toBe('i-0abc123def4567890');
    expect(groupValueOf(incident, 'severity')).toBe('error');
    expect(groupValueOf(incident, 'team')).toBe('');
  });

  it('same values on the same route: same group id; another value or route: another', () => {
    const a = assignGroup(0, GROUPING, firing('cloudwatch', { fingerprint: 'a', labels: { alertname: 'X' } }));
    const b = assignGroup(0, GROUPING, firing('grafana', { fingerprint: 'b', labels: { alertname: 'X' } }));
    const c = assignGroup(0, GROUPING, firing('cloudwatch', { fingerprint: 'c', labels: { alertname: 'Y' } }));
    const d = assignGroup(1, GROUPING, firing('cloudwatch', { fingerprint: 'a', labels: { alertname: 'X' } }));
    expect(a.groupId).toBe(b.groupId);
    expect(a.groupId).toMatch(/^g[0-9a-f]{24}$/);
    expect(c.groupId).not.toBe(a.groupId);
    expect(d.groupId).not.toBe(a.groupId);
    expect(a.groupLabels).toEqual([{ key: 'alertname', value: 'X' }]);
  });
});

describe('when a group is due', () => {
  it('a new group waits groupWait', () => {
    expect(dueAfterAdding(undefined, 10_000, GROUPING)).toBe(12_000);
  });
  it('pending notices keep the due time', () => {
    expect(dueAfterAdding({ sequence: 0, dueAtMs: 12_000 }, 11_500, GROUPING)).toBe(12_000);
  });
  it('a change within groupInterval of the last digest waits for the interval', () => {
    expect(dueAfterAdding({ sequence: 1, lastFlushAtMs: 12_000 }, 20_000, GROUPING)).toBe(72_000);
  });
  it('after a quiet interval the group starts over with groupWait', () => {
    expect(dueAfterAdding({ sequence: 1, lastFlushAtMs: 12_000 }, 72_000, GROUPING)).toBe(74_000);
  });
});

describe('a flush', () => {
  const assignment = { groupId: 'gabc', groupLabels: [{ key: 'alertname', value: 'X' }] };

  it('tells the newest state of each incident, worst first, resolved last', () => {
    const pending = [
      item('w', { severity: 'warning' }),
      item('c', { severity: 'critical' }),
      { event: 'resolved' as const, transitionId: 'v2.2000', incident: resolved('cloudwatch', { fingerprint: 'r', severity: 'critical' }) },
      item('w2', { severity: 'warning' }),
      { event: 'resolved' as const, transitionId: 'v2.3000', incident: resolved('cloudwatch', { fingerprint: 'w2', severity: 'warning' }) },
    ];
    const { digests, next } = flushGroup(undefined, assignment, pending, 50_000);
    expect(digests).toHaveLength(1);
    expect(digests[0]?.items.map((entry) => [entry.incident.fingerprint, entry.event])).toEqual([
      ['c', 'opened'],
      ['w', 'opened'],
      ['r', 'resolved'],
      ['w2', 'resolved'],
    ]);
    expect(digests[0]?.sequence).toBe(1);
    expect(next).toEqual({ sequence: 1, lastFlushAtMs: 50_000, dueAtMs: undefined });
  });

  it('each digest orders after the one before, even if the clock went back', () => {
    const first = flushGroup(undefined, assignment, [item('a')], 50_000);
    const second = flushGroup(first.next, assignment, [item('b')], 40_000);
    const [one, two] = [first.digests[0]!, second.digests[0]!];
    expect(two.sequence).toBe(2);
    expect(transitionOrderOf(two.transitionId) > transitionOrderOf(one.transitionId)).toBe(true);
    // The same flush of the same state gives the same id (a redo after a crash tells it once).
    expect(flushGroup(first.next, assignment, [item('b')], 40_000).digests[0]?.transitionId).toBe(two.transitionId);
  });

  it(`splits more than ${String(DIGEST_MAX_ITEMS)} notices into digests in order`, () => {
    const pending = Array.from({ length: DIGEST_MAX_ITEMS + 3 }, (_, index) => item(`f${String(index).padStart(4, '0')}`));
    const { digests, next } = flushGroup(undefined, assignment, pending, 1_000);
    expect(digests.map((digest) => digest.items.length)).toEqual([DIGEST_MAX_ITEMS, 3]);
    expect(digests.map((digest) => digest.sequence)).toEqual([1, 2]);
    expect(next.sequence).toBe(2);
    expect(transitionOrderOf(digests[1]!.transitionId) > transitionOrderOf(digests[0]!.transitionId)).toBe(true);
  });

  it('nothing pending: no digest, the state stays', () => {
    expect(flushGroup({ sequence: 4, lastFlushAtMs: 9 }, assignment, [], 100)).toEqual({ digests: [], next: { sequence: 4, lastFlushAtMs: 9, dueAtMs: undefined } });
  });
});
