// Shared shape of benchmark results: `npm run bench` prints them as a table and writes
// bench/results.json. Each bench module exports `run(): Promise<BenchResult[]>`.
export interface BenchResult {
  readonly group: string;
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly note?: string;
}

/** Runs `fn` repeatedly for about `ms` milliseconds (after a warm-up) and returns operations per second. */
export async function opsPerSecond(fn: () => unknown, ms = 1_000): Promise<number> {
  const warmUntil = performance.now() + Math.min(200, ms / 5);
  while (performance.now() < warmUntil) await fn();
  let count = 0;
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    await fn();
    count++;
  }
  return count / ((performance.now() - start) / 1000);
}
