import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_DELIVERY_BACKOFF, retryWindow } from '../../shared/delivery/backoff.ts';

describe('backoffDelay', () => {
  it('doubles the ceiling per attempt from the 1 s default (random just below 1 shows the ceiling)', () => {
    const top = () => 0.999_999;
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, { random: top }))).toEqual([999, 1999, 3999, 7999, 15999]);
  });

  it('keeps half the ceiling and jitters the other half (equal jitter)', () => {
    expect(backoffDelay(3, { random: () => 0.5 })).toBe(3000);
    expect(backoffDelay(3, { random: () => 0 })).toBe(2000);
    expect(backoffDelay(1, { random: () => 0.5, initialMs: 200 })).toBe(150);
  });

  it('stops growing at the max (5 minutes by default)', () => {
    expect(backoffDelay(30, { random: () => 0 })).toBe(150_000);
    expect(backoffDelay(5_000, { random: () => 0 })).toBe(150_000);
    expect(backoffDelay(10, { random: () => 0, maxMs: 10_000 })).toBe(5_000);
  });

  it('never waits less than the Retry-After the destination asked for', () => {
    expect(backoffDelay(1, { random: () => 0.5, retryAfterMs: 7_000 })).toBe(7_000);
    expect(backoffDelay(8, { random: () => 0, retryAfterMs: 7_000 })).toBe(64_000);
    expect(backoffDelay(1, { random: () => 0.5, retryAfterMs: 30 * 60_000 })).toBe(30 * 60_000);
  });

  it('is deterministic for a given random function', () => {
    const sequence = (): (() => number) => {
      const draws = [0.1, 0.7, 0.3];
      let index = 0;
      return () => draws[index++ % draws.length]!;
    };
    const run = (random: () => number): number[] => [1, 2, 3].map((attempt) => backoffDelay(attempt, { random }));
    expect(run(sequence())).toEqual([550, 1700, 2600]);
    expect(run(sequence())).toEqual([550, 1700, 2600]);
  });

  it('stays within [max(retryAfter, ceiling/2), max(retryAfter, ceiling)] (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.option(fc.integer({ min: 0, max: 3_600_000 }), { nil: undefined }),
        (attempt, draw, retryAfterMs) => {
          const delay = backoffDelay(attempt, { random: () => draw, retryAfterMs });
          const ceiling = Math.min(300_000, 1_000 * 2 ** Math.min(attempt - 1, 52));
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(Math.max(retryAfterMs ?? 0, Math.floor(ceiling / 2)));
          expect(delay).toBeLessThanOrEqual(Math.max(retryAfterMs ?? 0, ceiling));
        },
      ),
    );
  });
});

describe('retryWindow', () => {
  it('is over an hour with the delivery defaults and 12 attempts (66 min to 2 h 12 min)', () => {
    const window = retryWindow(DEFAULT_DELIVERY_BACKOFF, 12);
    // 10+20+40+80+160+320+640+1280 s, then 3 × 1800 s
    expect(window.maxMs).toBe(7_950_000);
    expect(window.minMs).toBe(3_975_000);
    expect(retryWindow(DEFAULT_DELIVERY_BACKOFF, 1)).toEqual({ minMs: 0, maxMs: 0 });
  });
});
