// How dedup behaves. The config loader fills these from `defaults:` (shared/config); the
// stores take them as they are.

export interface DedupSettings {
  /** A firing incident that keeps firing is told again after this long (0: never). */
  readonly renotifyAfterMs: number;
  /** More than `changes` status changes within `windowMs` is flapping. */
  readonly flap: { readonly changes: number; readonly windowMs: number };
  /** Tell a resolve for a fingerprint never seen (otherwise it is suppressed). */
  readonly notifyUnknownResolve: boolean;
  /** How long a resolved incident's record is kept (its TTL). */
  readonly resolvedTtlSeconds: number;
}

const HOUR_MS = 3_600_000;
const DAY_SECONDS = 86_400;

export const DEFAULT_DEDUP_SETTINGS: DedupSettings = {
  renotifyAfterMs: 4 * HOUR_MS,
  flap: { changes: 4, windowMs: 30 * 60_000 },
  notifyUnknownResolve: false,
  resolvedTtlSeconds: 7 * DAY_SECONDS,
};
