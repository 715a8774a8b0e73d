// The five-field cron parser maintenance windows use: values, ranges, steps, lists, names,
// Sunday as 0 or 7, and the Vixie rule for the two day fields.
import { describe, expect, it } from 'vitest';
import { CronError, cronMatches, parseCron } from '../../shared/silences/cron.ts';

const sorted = (values: ReadonlySet<number>): number[] => [...values].sort((a, b) => a - b);

describe('parseCron', () => {
  it('reads values, ranges, steps, lists and names', () => {
    const fields = parseCron('*/15 9-17/4 1,15 jan-mar,DEC sat,7');
    expect(sorted(fields.minutes)).toEqual([0, 15, 30, 45]);
    expect(sorted(fields.hours)).toEqual([9, 13, 17]);
    expect(sorted(fields.daysOfMonth)).toEqual([1, 15]);
    expect(sorted(fields.months)).toEqual([1, 2, 3, 12]);
    expect(sorted(fields.daysOfWeek)).toEqual([0, 6]);
    expect(sorted(parseCron('5/20 * * * *').minutes)).toEqual([5, 25, 45]);
    expect(parseCron('  0   0 * *   * ').anyDayOfMonth).toBe(true);
  });

  it('names the field and the problem', () => {
    const error = (expression: string): string => {
      try {
        parseCron(expression);
        return '';
      } catch (caught) {
        expect(caught).toBeInstanceOf(CronError);
        return (caught as Error).message;
      }
    };
    expect(error('* * * * * *')).toBe('expected 5 fields (minute hour day-of-month month day-of-week), got 6: "* * * * * *"');
    expect(error('60 * * * *')).toBe('minute: 60 is out of range 0-59');
    expect(error('* * 0 * *')).toBe('day of month: 0 is out of range 1-31');
    expect(error('* * * 13 *')).toBe('month: 13 is out of range 1-12');
    expect(error('* * * * 8')).toBe('day of week: 8 is out of range 0-7');
    expect(error('1-2-3 * * * *')).toBe('minute: "1-2-3" is not a range like 1-5');
    expect(error('1/2/3 * * * *')).toBe('minute: "1/2/3" is not a value, range or step');
    expect(error(', * * * *')).toBe('minute: "" is not a value, range or step');
    expect(error('L * * * *')).toBe('minute: "L" is not a number');
  });
});

describe('cronMatches', () => {
  const wall = (minute: number, hour: number, dayOfMonth: number, month: number, dayOfWeek: number) => ({ minute, hour, dayOfMonth, month, dayOfWeek });

  it('matches when every field does; one restricted day field decides alone', () => {
    const weekdays = parseCron('30 2 * * mon-fri');
    expect(cronMatches(weekdays, wall(30, 2, 4, 12, 5))).toBe(true);
    expect(cronMatches(weekdays, wall(30, 2, 5, 12, 6))).toBe(false);
    expect(cronMatches(weekdays, wall(31, 2, 4, 12, 5))).toBe(false);
    const firsts = parseCron('0 0 1 * *');
    expect(cronMatches(firsts, wall(0, 0, 1, 7, 3))).toBe(true);
    expect(cronMatches(firsts, wall(0, 0, 2, 7, 3))).toBe(false);
  });

  it('takes either day when both day fields are restricted (Vixie cron)', () => {
    const either = parseCron('0 0 13 * fri');
    expect(cronMatches(either, wall(0, 0, 13, 3, 2))).toBe(true);
    expect(cronMatches(either, wall(0, 0, 6, 3, 5))).toBe(true);
    expect(cronMatches(either, wall(0, 0, 7, 3, 6))).toBe(false);
  });
});
