// The chain's virtual clock. The SQS stand-in reads it and moves only when the test advances it,
// so a visibility timeout or a retry delay expires exactly when a test says so, never by itself.
// The functions see the wall clock shifted by the same total advance (their `Date` is patched in
// the Lambda runtime), so caches, backoff windows and event times move forward with the queues.
export class VirtualClock {
  readonly #start: number;
  #advancedMs = 0;

  constructor(start = Date.now()) {
    this.#start = start;
  }

  /** Virtual milliseconds since the epoch (what SQS uses). */
  now(): number {
    return this.#start + this.#advancedMs;
  }

  /** How far the test has moved time forward: added to the functions' wall clock. */
  get offsetMs(): number {
    return this.#advancedMs;
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`cannot advance the clock by ${String(ms)} ms`);
    this.#advancedMs += ms;
  }
}
