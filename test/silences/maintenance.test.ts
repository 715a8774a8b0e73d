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
    expect(problems([{ name: 'x', match: ['env=prod'] }])).toContain('give exactly one of weekly, cron or once');
    expect(problems([{ name: 'x', match: [] , once: { from: '2026-12-05T20:00:00Z', to: '2026-12-05T21:00:00Z' } }])).toContain('give at least one matcher');
  });
});

describe('cron maintenance windows', () => {
  const [nightly, monthly] = parse([
    // 02:30 Berlin time every weekday, for 45 minutes.
    { name: 'backup', match: ['env=prod'], cron: { schedule: '30 2 * * mon-fri', duration: '45m', timeZone: 'Europe/Berlin' } },
    // The first Sunday-or-1st (Vixie cron: both day fields restricted means either), 22:00 UTC, for 3h.
    { name: 'monthly', match: ['env=prod'], cron: { schedule: '0 22 1 * sun', duration: '3h' } },
  ]);

  it('opens at each start in its time zone for its duration', () => {
    // Friday 2026-12-04 02:30 Berlin = 01:30 UTC.
    expect(isOpen(nightly!, at('2026-12-04T01:29:00Z'))).toBe(false);
    expect(isOpen(nightly!, at('2026-12-04T01:30:00Z'))).toBe(true);
    expect(isOpen(nightly!, at('2026-12-04T02:14:59Z'))).toBe(true);
    expect(isOpen(nightly!, at('2026-12-04T02:15:00Z'))).toBe(false);
    expect(closesAt(nightly!, at('2026-12-04T01:40:00Z'))).toBe(at('2026-12-04T02:15:00Z'));
    // Saturday is not in mon-fri.
    expect(isOpen(nightly!, at('2026-12-05T01:40:00Z'))).toBe(false);
    // Summer: 02:30 Berlin is 00:30 UTC.
    expect(isOpen(nightly!, at('2026-07-03T00:31:00Z'))).toBe(true);
    expect(isOpen(nightly!, at('2026-07-03T01:31:00Z'))).toBe(false);
  });

  it('asks the same of any moment, in any order (the look-back is cached, never wrong)', () => {
    const moments = ['2026-12-04T01:45:00Z', '2026-12-03T01:45:00Z', '2026-12-04T01:29:00Z', '2026-12-04T01:31:00Z', '2026-12-10T01:31:00Z', '2026-12-10T03:00:00Z'];
    expect(moments.map((moment) => isOpen(nightly!, at(moment)))).toEqual([true, true, false, true, true, false]);
  });

  it('combines restricted day fields as Vixie cron does (either day matches)', () => {
    // Tue 2026-12-01 is the 1st; Sun 2026-12-06 is a Sunday; Wed 2026-12-02 is neither.
    expect(isOpen(monthly!, at('2026-12-01T23:00:00Z'))).toBe(true);
    expect(isOpen(monthly!, at('2026-12-06T23:00:00Z'))).toBe(true);
    expect(isOpen(monthly!, at('2026-12-02T23:00:00Z'))).toBe(false);
  });

  it('describes itself for the banner', () => {
    expect(describeWindow(nightly!, at('2026-12-04T01:40:00Z'))).toBe(
      'backup: env=prod; cron "30 2 * * mon-fri" for 45m Europe/Berlin (open now, until 2026-12-04T02:15:00.000Z)',
    );
  });

  it('refuses a schedule or duration it cannot use, naming the field', () => {
    const problems = (cron: unknown): string => {
      const result = maintenanceSchema.safeParse([{ name: 'x', match: ['env=prod'], cron }]);
      return result.success ? '' : formatIssues(result.error);
    };
    expect(problems({ schedule: '30 2 * *', duration: '1h' })).toContain('[0].cron.schedule: expected 5 fields (minute hour day-of-month month day-of-week), got 4');
    expect(problems({ schedule: '30 25 * * *', duration: '1h' })).toContain('hour: 25 is out of range 0-23');
    expect(problems({ schedule: '30 2 * * funday', duration: '1h' })).toContain('day of week: "funday" is not a number or a name (sun, mon');
    expect(problems({ schedule: '*/0 2 * * *', duration: '1h' })).toContain('minute: step "0" must be a whole number above 0');
    expect(problems({ schedule: '30 5-2 * * *', duration: '1h' })).toContain('hour: range 5-2 runs backwards');
    expect(problems({ schedule: '30 2 * * *', duration: '0' })).toContain('[0].cron.duration');
    expect(problems({ schedule: '30 2 * * *', duration: '8d' })).toContain('at most 1w');
    expect(problems({ schedule: '30 2 * * *', duration: '1h', timeZone: 'Mars/Olympus' })).toContain('not a time zone');
    expect(problems({ schedule: '0 */6 1,15 jan-mar,oct 1-5/2', duration: '2h' })).toBe('');
  });
});

describe('a cron window that starts again before it ends', () => {
  it('stays open across its starts and says it closes no later than a week ahead', () => {
    const [always] = parse([{ name: 'always', match: ['env=prod'], cron: { schedule: '* * * * *', duration: '1h' } }]);
    const now = at('2026-12-04T10:00:30Z');
    expect(isOpen(always!, now)).toBe(true);
    expect(closesAt(always!, now)).toBe(now + 7 * 24 * 3_600_000);
    // Cached: the next look inside the same period costs nothing.
    expect(closesAt(always!, now + 60_000)).toBe(now + 7 * 24 * 3_600_000);
    // Every other hour for 90 minutes: a period closes before the next starts.
    const [chained] = parse([{ name: 'chained', match: ['env=prod'], cron: { schedule: '0 */2 * * *', duration: '90m' } }]);
    expect(closesAt(chained!, at('2026-12-04T10:30:00Z'))).toBe(at('2026-12-04T11:30:00Z'));
  });
});
