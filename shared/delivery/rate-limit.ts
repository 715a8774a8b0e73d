// Rate limits per channel target (a webhook URL, a Slack channel, a phone number): how fast
// notices may go to one destination, and for SMS how many a day. Shared by the local pipeline
// (SQLite) and AWS deliver (the DynamoDB state table) through the RateLimitStore port.
//
// Reservations, not polling: a notice over the limit reserves the next free slot of its target
// (GCRA, the "generic cell rate algorithm": one timestamp per target, the theoretical arrival
// time of the next message) and waits until then; it is not counted as a failed attempt. Each
// waiting notice holds its own slot, so a storm of 300 notices wakes 300 times, once each, at
// the rate the destination accepts: no herd that wakes together and mostly waits again.
//
// A destination's own rate-limit answer (429 with Retry-After, Slack's `ratelimited`) blocks
// the target until then (bounded by maxWait), and every notice whose slot falls in the block
// reserves a new one after it, so the destination is not asked again before it said so.
import { hash } from 'node:crypto';

/** At most `limit` messages per `perMs` on average, `burst` of them at once after a quiet spell. */
export interface RateLimit {
  readonly limit: number;
  readonly perMs: number;
  readonly burst: number;
}

/** What a channel's destination accepts. */
export interface ChannelRateLimit {
  /** Per target (webhook, Slack channel, phone number); none: unlimited. */
  readonly rate?: RateLimit | undefined;
  /** Notices per UTC day on the whole channel (SMS); past it they go to the route's other channels. */
  readonly dailyCap?: number | undefined;
}

/** A channel module's default limits and what it limits them on. */
export interface ChannelRateTargets<Config> {
  readonly defaults: ChannelRateLimit;
  /** What the destination limits on, as raw strings (URLs, numbers); hashed before they are stored. */
  targets(config: Config): readonly string[];
}

/** The config's `rateLimits` section, resolved. */
export interface RateLimitSettings {
  /** Longest a destination's Retry-After is honoured (a longer one is cut to this). */
  readonly maxWaitMs: number;
  /** Per channel name: its limits instead of its type's defaults, or `off`. */
  readonly channels: Readonly<Record<string, ChannelRateLimit | 'off'>>;
}

export const DEFAULT_MAX_WAIT_MS = 15 * 60_000;
export const DEFAULT_RATE_LIMIT_SETTINGS: RateLimitSettings = { maxWaitMs: DEFAULT_MAX_WAIT_MS, channels: {} };

/**
 * A destination that keeps answering "too many requests" is waited out this many times per
 * notice without counting an attempt; after that each such answer counts like any failure, so a
 * receiver that always says 429 ends in the dead-letter queue with the reason, not in a loop.
 */
export const FREE_THROTTLED_ANSWERS = 20;

/** Waiting for a destination that said "too many requests" without saying how long. */
export const DEFAULT_THROTTLE_WAIT_MS = 5_000;

/** A reserved slot this close is sent now: waking a job for a few ms costs more than it saves. */
export const SLOT_TOLERANCE_MS = 20;

/**
 * A held slot this far in the past is not honoured: the job is a redriven dead letter or was
 * kept from its slot for long, and a batch of those must not all go at once.
 */
export const STALE_SLOT_MS = 5 * 60_000;

/** What the store keeps per target (rate) or per channel (daily cap). */
export interface RateState {
  /** GCRA's theoretical arrival time of the next message (epoch ms). */
  readonly tatMs?: number | undefined;
  /** The destination said "too many requests": nothing goes before this (epoch ms). */
  readonly blockedUntilMs?: number | undefined;
  /** The UTC day (`YYYY-MM-DD`) `sent` counts. */
  readonly day?: string | undefined;
  readonly sent?: number | undefined;
  /** The day's "cap reached" notice was sent. */
  readonly capNoticeSent?: boolean | undefined;
}

/**
 * Where rate state lives. `update` reads one key's state, passes it to `change` and writes what
 * it returns, atomically (a store with optimistic writes may call `change` more than once; it is
 * pure). `expiresAtMs`: when the state may be forgotten.
 */
export interface RateLimitStore {
  update<T>(key: string, change: (state: RateState | undefined) => { readonly state: RateState; readonly result: T }, expiresAtMs: number): Promise<T>;
}

/** The stored key of a target: the channel type and a hash, never the URL or number itself. */
export function rateKeyOf(type: string, target: string): string {
  return `rate#${type}#${hash('sha256', target, 'hex').slice(0, 32)}`;
}

export function dailyCapKeyOf(channel: string): string {
  return `cap#${channel}`;
}

/** The UTC day of an instant, `YYYY-MM-DD`. */
export function utcDayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function nextUtcMidnight(ms: number): number {
  const day = new Date(ms);
  return Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate() + 1);
}

/** A channel's effective limits: the config's override, else its type's defaults; undefined when off. */
export function effectiveLimit(channel: string, defaults: ChannelRateLimit | undefined, settings: RateLimitSettings): ChannelRateLimit | undefined {
  const override = Object.hasOwn(settings.channels, channel) ? settings.channels[channel] : undefined;
  if (override === 'off') return undefined;
  return override ?? defaults;
}

function intervalOf(rate: RateLimit): number {
  return rate.perMs / rate.limit;
}

/**
 * GCRA with scheduling: the slot of one more message at `nowMs`, and the state after reserving
 * it. The first `burst` messages after a quiet spell go at once, then one per interval.
 */
export function reserveSlot(state: RateState | undefined, rate: RateLimit, nowMs: number): { readonly state: RateState; readonly slotMs: number } {
  const interval = intervalOf(rate);
  const tolerance = (Math.max(1, rate.burst) - 1) * interval;
  const start = Math.max(state?.tatMs ?? nowMs, nowMs, state?.blockedUntilMs ?? 0);
  const slotMs = Math.max(nowMs, start - tolerance, state?.blockedUntilMs ?? 0);
  return { state: { ...state, tatMs: start + interval }, slotMs: Math.ceil(slotMs) };
}

/** The target answered "too many requests": nothing is sent to it before `untilMs`. */
export function blockUntil(state: RateState | undefined, untilMs: number): RateState {
  return { ...state, blockedUntilMs: Math.max(untilMs, state?.blockedUntilMs ?? 0), tatMs: Math.max(untilMs, state?.tatMs ?? 0) };
}

/** How long state must be kept: past the last reservation and block, plus a day for the cap. */
function expiryOf(nowMs: number, horizonMs: number): number {
  return Math.max(nowMs, horizonMs) + 2 * 24 * 3_600_000;
}

export type SlotDecision =
  /** Send now. */
  | { readonly kind: 'go' }
  /** Wait until `slotMs`: the slot is reserved; the job keeps it (rateSlotAtMs). */
  | { readonly kind: 'wait'; readonly slotMs: number };

/**
 * Whether a notice to these targets may go now. A notice that holds a slot (`heldSlotMs`) goes at
 * its slot, unless a block set after it was reserved covers it; then it reserves again.
 */
export async function takeSlot(
  store: RateLimitStore,
  keys: readonly string[],
  rate: RateLimit,
  nowMs: number,
  heldSlotMs: number | undefined,
): Promise<SlotDecision> {
  if (heldSlotMs !== undefined && heldSlotMs > nowMs + SLOT_TOLERANCE_MS) return { kind: 'wait', slotMs: heldSlotMs };
  const held = heldSlotMs !== undefined && heldSlotMs >= nowMs - STALE_SLOT_MS ? heldSlotMs : undefined;
  let latest = nowMs;
  for (const key of keys) {
    const slotMs = await store.update(
      key,
      (state) => {
        // The held slot stands unless the destination blocked the target since.
        if (held !== undefined && (state?.blockedUntilMs ?? 0) <= nowMs) return { state: state ?? {}, result: nowMs };
        const reserved = reserveSlot(state, rate, nowMs);
        return { state: reserved.state, result: reserved.slotMs };
      },
      expiryOf(nowMs, nowMs + rate.perMs),
    );
    latest = Math.max(latest, slotMs);
  }
  return latest > nowMs + SLOT_TOLERANCE_MS ? { kind: 'wait', slotMs: latest } : { kind: 'go' };
}

/** Blocks every target until `untilMs` (a destination's rate-limit answer). */
export async function blockTargets(store: RateLimitStore, keys: readonly string[], untilMs: number, nowMs: number): Promise<void> {
  for (const key of keys) {
    await store.update(key, (state) => ({ state: blockUntil(state, untilMs), result: undefined }), expiryOf(nowMs, untilMs));
  }
}

export type CapDecision =
  | { readonly kind: 'within' }
  /** The day's cap is reached; `notify`: this notice is the first over it and tells so. */
  | { readonly kind: 'capped'; readonly notify: boolean };

/** Counts one notice against the channel's daily cap, if it is within it. */
export function countAgainstCap(state: RateState | undefined, cap: number, nowMs: number): { readonly state: RateState; readonly result: CapDecision } {
  const day = utcDayOf(nowMs);
  const today = state?.day === day ? state : { ...state, day, sent: 0, capNoticeSent: false };
  const sent = today.sent ?? 0;
  if (sent < cap) return { state: { ...today, sent: sent + 1 }, result: { kind: 'within' } };
  if (today.capNoticeSent === true) return { state: today, result: { kind: 'capped', notify: false } };
  return { state: { ...today, capNoticeSent: true }, result: { kind: 'capped', notify: true } };
}

export function takeDailyCap(store: RateLimitStore, channel: string, cap: number, nowMs: number): Promise<CapDecision> {
  return store.update(dailyCapKeyOf(channel), (state) => countAgainstCap(state, cap, nowMs), expiryOf(nowMs, nextUtcMidnight(nowMs)));
}

/** The text of the day's "cap reached" SMS. */
export function capNoticeText(cap: number, otherChannels: readonly string[]): string {
  const where = otherChannels.length > 0 ? `go to ${otherChannels.join(', ')}` : 'wait until tomorrow (UTC)';
  return `Tocsin: daily SMS cap ${String(cap)} reached; further alerts today ${where}`;
}

/** A store in memory: tests and single-process tools. */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly states = new Map<string, RateState>();

  update<T>(key: string, change: (state: RateState | undefined) => { readonly state: RateState; readonly result: T }): Promise<T> {
    const { state, result } = change(this.states.get(key));
    this.states.set(key, state);
    return Promise.resolve(result);
  }
}
