import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../shared/config/duration.ts';

describe('parseDuration', () => {
  it('reads each unit', () => {
    expect(['250ms', '90s', '30m', '4h', '7d', '2w'].map(parseDuration)).toEqual([
      250, 90_000, 1_800_000, 14_400_000, 604_800_000, 1_209_600_000,
    ]);
  });

  it('adds up compound durations', () => {
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1d2h3m4s5ms')).toBe(93_784_005);
  });

  it('takes 0 with or without quotes', () => {
    expect(parseDuration(0)).toBe(0);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('0s')).toBe(0);
  });

  it('refuses numbers without a unit, words, negatives, fractions and spaces', () => {
    for (const bad of [10, '10', '4 hours', '-1h', '1.5h', '4h ', '', 'h', '4H', null, undefined, true]) {
      expect(parseDuration(bad)).toBeUndefined();
    }
  });
});
