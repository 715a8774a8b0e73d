// Retry delays: exponential backoff with equal jitter (AWS Architecture Blog, "Exponential
// Backoff and Jitter"): the ceiling is min(max, initial × 2^(attempt−1)), and the delay is half
// the ceiling plus a random share of the other half. Jitter spreads retries from many jobs that
// failed together; keeping half the ceiling makes the whole retry window predictable (at least
// retryWindow().minMs), which is what lets a delivery outlast a real outage. A destination's
// Retry-After is a floor, never shortened.

export interface BackoffSettings {
  /** Ceiling of the first retry's delay. */
  readonly initialMs: number;
  /** No delay ceiling grows past this. */
  readonly maxMs: number;
}

export interface BackoffOptions extends Partial<BackoffSettings> {
  /** What the destination asked for (Retry-After); the delay is never shorter. */
  readonly retryAfterMs?: number | undefined;
  /** Uniform in [0, 1); pass a fixed function for deterministic delays. */
  readonly random?: () => number;
}

/** backoffDelay()'s own defaults (local dispatch retries): 1 s, up to 5 minutes. */
export const DEFAULT_BACKOFF: BackoffSettings = { initialMs: 1_000, maxMs: 5 * 60_000 };

/** Delivery retries unless the config says otherwise (`defaults.backoff`): 10 s, up to 30 minutes. */
export const DEFAULT_DELIVERY_BACKOFF: BackoffSettings = { initialMs: 10_000, maxMs: 30 * 60_000 };

function ceilingOf(attempt: number, settings: BackoffSettings): number {
  // Exponent clamped: 2^1024 is Infinity, and the max is reached long before.
  return Math.min(settings.maxMs, settings.initialMs * 2 ** Math.min(Math.max(attempt - 1, 0), 52));
}

/** Delay before the retry that follows failed attempt number `attempt` (1 = the first try). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const ceiling = ceilingOf(attempt, { initialMs: options.initialMs ?? DEFAULT_BACKOFF.initialMs, maxMs: options.maxMs ?? DEFAULT_BACKOFF.maxMs });
  const random = options.random ?? Math.random;
  const jittered = Math.floor(ceiling / 2 + random() * (ceiling / 2));
  return Math.max(jittered, Math.ceil(options.retryAfterMs ?? 0));
}

/**
 * How long a delivery keeps being retried, from its first failure to its last attempt, for
 * `maxAttempts` tries: the sum of the delays between them, at the least (every draw 0) and at
 * the most (every draw just under 1). Sends and Retry-After floors come on top.
 */
export function retryWindow(settings: BackoffSettings, maxAttempts: number): { readonly minMs: number; readonly maxMs: number } {
  let maxMs = 0;
  for (let attempt = 1; attempt < maxAttempts; attempt += 1) maxMs += ceilingOf(attempt, settings);
  return { minMs: Math.floor(maxMs / 2), maxMs };
}
