// Durations in the config file are written the way Prometheus and Go write them: `4h`, `30m`,
// `90s`, `250ms`, `7d`, compounds such as `1h30m`, or a bare `0`. A bare number other than 0
// is refused: without a unit nobody can tell seconds from milliseconds.

const UNIT_MS = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
} as const;

const DURATION = /^(?:\d+(?:ms|s|m|h|d|w))+$/;
const PART = /(\d+)(ms|s|m|h|d|w)/g;

/** Milliseconds for a duration such as `4h` or `1h30m`; undefined when it is not one. */
export function parseDuration(value: unknown): number | undefined {
  if (value === 0 || value === '0') return 0;
  if (typeof value !== 'string' || !DURATION.test(value)) return undefined;
  let total = 0;
  for (const [, amount, unit] of value.matchAll(PART)) {
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

export const DURATION_HINT = 'expected a duration such as 4h, 30m, 90s, 1h30m or 0';

/** A duration as the config writes it, in its largest whole unit (`2h`, `30m`, `90s`, `250ms`). */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${String(ms / UNIT_MS[unit])}${unit}`;
  }
  return `${String(ms)}ms`;
}
