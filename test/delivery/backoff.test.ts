import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../shared/delivery/backoff.ts';

describe('backoffDelay', () => {
  it('doubles the ceiling per attempt from the 1 s base (random just below 1 shows the ceiling)', () => {
    const top = (): number => 0.999999;
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, { random: top }))).toEqual([999, 1999, 3999, 7999, 15999]);
  });

  it('scales the ceiling by the random draw (full jitter)', () => {
    expect(backoffDelay(3, { random: () => 0.5 })).toBe(2000);
    expect(backoffDelay(3, { random: () => 0 })).toBe(0);
    expect(backoffDelay(1, { random: () => 0.25, baseMs: 200 })).toBe(50);
  });

  it('stops growing at the cap (5 minutes by default), even for huge attempt numbers', () => {
    expect(backoffDelay(30, { random: () => 0.5 })).toBe(150_000);
    expect(backoffDelay(5_000, { random: () => 0.5 })).toBe(150_000);
    expect(backoffDelay(10, { random: () => 0.5, capMs: 10_000 })).toBe(5_000);
  });

  it('never retries before the destination said it may (Retry-After)', () => {
    expect(backoffDelay(1, { random: () => 0.5, retryAfterMs: 7_000 })).toBe(7_000);
    expect(backoffDelay(8, { random: () => 0.5, retryAfterMs: 7_000 })).toBe(64_000);
    expect(backoffDelay(1, { random: () => 0.5, retryAfterMs: 30 * 60_000 })).toBe(30 * 60_000);
  });

  it('is deterministic for a given random function', () => {
    const sequence = (): (() => number) => {
      const draws = [0.1, 0.7, 0.3];
      let index = 0;
      return () => draws[index++ % draws.length]!;
    };
    const first = sequence();
    const second = sequence();
    const run = (random: () => number): number[] => [1, 2, 3].map((attempt) => backoffDelay(attempt, { random }));
    expect(run(first)).toEqual([100, 1400, 1200]);
    expect(run(second)).toEqual([100, 1400, 1200]);
  });

  it('stays within [max(retryAfter, 0), max(retryAfter, min(cap, base·2^(n−1)))] (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.option(fc.integer({ min: 0, max: 3_600_000 }), { nil: undefined }),
        (attempt, draw, retryAfterMs) => {
          const delay = backoffDelay(attempt, { random: () => draw, retryAfterMs });
          const ceiling = Math.min(300_000, 1_000 * 2 ** Math.min(attempt - 1, 52));
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(retryAfterMs ?? 0);
          expect(delay).toBeLessThanOrEqual(Math.max(retryAfterMs ?? 0, ceiling));
        },
      ),
    );
  });
});
