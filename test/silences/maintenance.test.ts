// Maintenance windows: weekly in a time zone (past midnight too, across a daylight-saving
// change), once, the instant a window closes, and config errors with their paths.
import { describe, expect, it } from 'vitest';
import type { Incident } from '../../shared/incident.ts';
import { closesAt, describeWindow, isOpen, maintenanceSchema, openWindowFor } from '../../shared/silences/maintenance.ts';
import { formatIssues } from '../../shared/zod-issues.ts';

const parse = (windows: unknown) => maintenanceSchema.parse(windows);
const at = (iso: string): number => Date.parse(iso);

const incident = (labels: Record<string, string>): Incident => ({
  schemaVersion: 1,
  fingerprint: 'cloudwatch:00000000000000000000000000000001',
  status: 'firing',
  severity: 'error',
  title: 'db-cpu on orders-db',
  source: { kind: 'cloudwatch', cloud: 'aws', account: '123456789012', rule: 'db-cpu' },
  startsAt: '2026-12-05T20:00:00Z',
  labels,
  links: [],
});

describe('maintenance windows', () => {
  const [patching, migration] = parse([
    { name: 'patching', match: ['cloud=aws', 'env=prod'], weekly: { days: ['sat'], from: '22:00', to: '02:00', timeZone: 'Europe/Berlin' } },
    { name: 'migration', match: ['rule=~db-.*'], once: { from: '2026-12-05T20:00:00Z', to: '2026-12-05T23:00:00Z' } },
  ]);

  it('weekly, past midnight, in its own time zone', () => {
    // Saturday 2026-12-05, Berlin is UTC+1 in winter.
    expect(isOpen(patching!, at('2026-12-05T20:59:00Z'))).toBe(false);
    expect(isOpen(patching!, at('2026-12-05T21:00:00Z'))).toBe(true);
    expect(isOpen(patching!, at('2026-12-06T00:59:00Z'))).toBe(true);
    expect(isOpen(patching!, at('2026-12-06T01:00:00Z'))).toBe(false);
    // Sunday evening is not listed.
    expect(isOpen(patching!, at('2026-12-06T21:30:00Z'))).toBe(false);
    expect(closesAt(patching!, at('2026-12-05T23:30:00Z'))).toBe(at('2026-12-06T01:00:00Z'));
    expect(closesAt(patching!, at('2026-12-05T12:00:00Z'))).toBeUndefined();
  });

  it('follows daylight saving: the same local hours in summer are an hour earlier in UTC', () => {
    expect(isOpen(patching!, at('2026-07-04T20:00:00Z'))).toBe(true);
    expect(isOpen(patching!, at('2026-07-04T19:59:00Z'))).toBe(false);
  });

  it('once, from its start to (not including) its end', () => {
    expect(isOpen(migration!, at('2026-12-05T19:59:59Z'))).toBe(false);
    expect(isOpen(migration!, at('2026-12-05T20:00:00Z'))).toBe(true);
    expect(isOpen(migration!, at('2026-12-05T23:00:00Z'))).toBe(false);
    expect(closesAt(migration!, at('2026-12-05T21:00:00Z'))).toBe(at('2026-12-05T23:00:00Z'));
  });

  it('holds only what its matchers match, while it is open', () => {
    const windows = [patching!, migration!];
    expect(openWindowFor(windows, incident({ env: 'prod' }), at('2026-12-05T22:00:00Z'))?.name).toBe('patching');
    expect(openWindowFor(windows, incident({ env: 'dev' }), at('2026-12-05T22:00:00Z'))?.name).toBe('migration');
    expect(openWindowFor(windows, incident({ env: 'dev' }), at('2026-12-05T23:30:00Z'))).toBeUndefined();
  });

  it('describes itself for the banner', () => {
    expect(describeWindow(patching!, at('2026-12-05T23:30:00Z'))).toBe('patching: cloud=aws, env=prod; sat 22:00–02:00 Europe/Berlin (open now, until 2026-12-06T01:00:00.000Z)');
    expect(describeWindow(migration!, at('2026-12-01T00:00:00Z'))).toBe('migration: rule=~"db-.*"; once 2026-12-05T20:00:00.000Z – 2026-12-05T23:00:00.000Z');
  });

  it('refuses mistakes with the path and what to write', () => {
    const problems = (windows: unknown): string => {
      const result = maintenanceSchema.safeParse(windows);
      return result.success ? '' : formatIssues(result.error);
    };
    expect(problems([{ name: 'x', match: ['env'], once: { from: '2026-12-05T20:00:00Z', to: '2026-12-05T21:00:00Z' } }])).toContain('[0].match[0]: "env" is not a matcher');
    expect(problems([{ name: 'x', match: ['env=prod'], weekly: { days: ['saturday'], from: '22:00', to: '02:00' } }])).toContain('[0].weekly.days[0]');
    expect(problems([{ name: 'x', match: ['env=prod'], weekly: { days: ['sat'], from: '25:00', to: '02:00' } }])).toContain('a time of day like 22:00');
    expect(problems([{ name: 'x', match: ['env=prod'], weekly: { days: ['sat'], from: '22:00', to: '02:00', timeZone: 'Mars/Olympus' } }])).toContain('not a time zone');
    expect(problems([{ name: 'x', match: ['env=prod'], once: { from: '2026-12-05T21:00:00Z', to: '2026-12-05T20:00:00Z' } }])).toContain('to must be after from');
    expect(problems([{ name: 'x', match: ['env=prod'] }])).toContain('give either weekly or once');
    expect(problems([{ name: 'x', match: [] , once: { from: '2026-12-05T20:00:00Z', to: '2026-12-05T21:00:00Z' } }])).toContain('give at least one matcher');
  });
});
