// Retry delays: exponential backoff with full jitter (AWS Architecture Blog, "Exponential
// Backoff and Jitter"): a random delay between 0 and min(cap, base × 2^(attempt−1)). Jitter
// spreads retries from many jobs that failed together; the cap keeps a long outage from
// pushing retries hours out. A destination's Retry-After is a floor, never shortened.

export interface BackoffOptions {
  /** Ceiling of the first retry's delay. Default 1 s. */
  readonly baseMs?: number;
  /** No delay ceiling grows past this. Default 5 minutes. */
  readonly capMs?: number;
  /** What the destination asked for (Retry-After); the delay is never shorter. */
  readonly retryAfterMs?: number | undefined;
  /** Uniform in [0, 1); pass a fixed function for deterministic delays. */
  readonly random?: () => number;
}

export const DEFAULT_BACKOFF_BASE_MS = 1_000;
export const DEFAULT_BACKOFF_CAP_MS = 5 * 60_000;

/** Delay before the retry that follows failed attempt number `attempt` (1 = the first try). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? DEFAULT_BACKOFF_BASE_MS;
  const cap = options.capMs ?? DEFAULT_BACKOFF_CAP_MS;
  const random = options.random ?? Math.random;
  // Exponent clamped: 2^1024 is Infinity, and the cap is reached long before.
  const ceiling = Math.min(cap, base * 2 ** Math.min(Math.max(attempt - 1, 0), 52));
  const jittered = Math.floor(random() * ceiling);
  return Math.max(jittered, Math.ceil(options.retryAfterMs ?? 0));
}
