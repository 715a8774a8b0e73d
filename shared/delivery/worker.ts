// The delivery worker: runs one delivery job and says what the queue should do next. It owns
// what the channels deliberately do not (after Alertmanager's notify pipeline): telling each
// notice once and in order (claims, job.ts), retry with backoff, giving up, dead-lettering
// with a reason. It never throws for a delivery problem; the queue adapter turns the outcome
// into a delete, a delayed re-send or a dead letter.
//
// Claim before send: the line (incident × channel) is claimed with a lease before anything is
// sent, so concurrent copies of a job send once and a later transition waits while an earlier
// one is being sent; an older notice arriving after a later one was told is dropped
// (superseded), so a channel never ends showing a state that is over.
import type { RegisteredChannel, SendResult } from '../channels/channel.ts';
import { channelByType } from '../channels/index.ts';
import { transitionOrderOf } from '../dedup/decide.ts';
import type { MessageRefs } from '../message-refs/port.ts';
import { backoffDelay, type BackoffSettings } from './backoff.ts';
import { deliveryIdOf, jobFingerprint, type DeliveryClaim, type DeliveryClaims, type DeliveryJob, type DeliveryKey } from './job.ts';
import {
  blockTargets,
  capNoticeText,
  DEFAULT_RATE_LIMIT_SETTINGS,
  DEFAULT_THROTTLE_WAIT_MS,
  effectiveLimit,
  FREE_THROTTLED_ANSWERS,
  nextUtcMidnight,
  rateKeyOf,
  takeDailyCap,
  takeSlot,
  type RateLimit,
  type RateLimitSettings,
  type RateLimitStore,
} from './rate-limit.ts';

export type DeliveryOutcome =
  | { readonly kind: 'already-delivered' }
  /** A later transition of the incident was already told on this channel; this notice is dropped. */
  | { readonly kind: 'superseded'; readonly toldTransitionId: string }
  | {
      readonly kind: 'delivered';
      /**
       * Set when the send worked but recording it did not (after a few tries) or the lease had
       * run out: a copy of the job arriving once the lease is over could send again. Never a
       * reason to send again now, which would surely be a duplicate.
       */
      readonly recordError?: string | undefined;
    }
  /** Another worker is sending on this line: try again after `delayMs`, not counted as a failure. */
  | { readonly kind: 'busy'; readonly delayMs: number }
  /**
   * Over the channel target's rate limit, or the destination said "too many requests": try
   * `job` (which keeps its reserved slot) again after `delayMs`, not counted as a failure.
   */
  | { readonly kind: 'rate-limited'; readonly delayMs: number; readonly job: DeliveryJob; readonly reason: string }
  /** The channel's daily cap is reached and the notice is told on the route's other channels: done here. */
  | { readonly kind: 'capped'; readonly reason: string }
  | { readonly kind: 'retry'; readonly delayMs: number; readonly reason: string }
  | { readonly kind: 'dead-letter'; readonly reason: string };

export interface DeliveryWorkerDeps {
  readonly claims: DeliveryClaims;
  /** The config's channels by name (`ops-chat` → `{ type: 'slack', ... }`). */
  readonly channelConfigs: Readonly<Record<string, { readonly type: string }>>;
  /** Channels the config names but cannot send to (a secret key not set), with why: retried, then dead-lettered. */
  readonly unavailableChannels?: Readonly<Record<string, string>> | undefined;
  readonly sendTimeoutMs: number;
  /** Tries per job, the first included; a retryable failure on the last one is dead-lettered. */
  readonly maxAttempts: number;
  /** Retry delays (the config's `defaults.backoff`); backoff.ts's defaults when absent. */
  readonly backoff?: BackoffSettings | undefined;
  /**
   * How long a claim holds the line: longer than a send can take. Lambda passes the time left in
   * the invocation; the default is the send timeout plus a minute.
   */
  readonly leaseMs?: number | undefined;
  readonly now?: () => Date;
  /** For backoff jitter; tests pass a fixed one. */
  readonly random?: () => number;
  /** Where channels that edit their messages keep each incident's message ref; none by default. */
  readonly messageRefs?: MessageRefs | undefined;
  /** Where channel types come from; defaults to the registry (shared/channels/index.ts). */
  readonly channelByType?: (type: string) => RegisteredChannel | undefined;
  /** Rate limits per channel target and daily caps; without them every notice goes at once. */
  readonly rateLimits?: { readonly store: RateLimitStore; readonly settings?: RateLimitSettings | undefined } | undefined;
}

/** Tries at recording a completed delivery before it is reported unrecorded. */
const COMPLETE_TRIES = 3;
const LEASE_MARGIN_MS = 60_000;
/** A busy line is looked at again no sooner than this. */
const MIN_BUSY_DELAY_MS = 1_000;

export function deliveryKeyOf(job: DeliveryJob): DeliveryKey {
  return { fingerprint: jobFingerprint(job), transitionId: job.transitionId, channel: job.channel };
}

export async function runDeliveryJob(job: DeliveryJob, deps: DeliveryWorkerDeps): Promise<DeliveryOutcome> {
  // Retryable: the missing secret key may be added before the attempts run out.
  const unavailable = deps.unavailableChannels?.[job.channel];
  if (unavailable !== undefined) return failed(job, deps, { ok: false, retryable: true, reason: `channel "${job.channel}" is unavailable: ${unavailable}` });
  // The config may have changed since dispatch queued the job: no retry can fix that.
  const target = Object.hasOwn(deps.channelConfigs, job.channel) ? deps.channelConfigs[job.channel] : undefined;
  if (target === undefined) return { kind: 'dead-letter', reason: `unknown channel "${job.channel}"` };
  const channel = (deps.channelByType ?? channelByType)(target.type);
  if (channel === undefined) {
    return { kind: 'dead-letter', reason: `channel "${job.channel}" has unknown type "${target.type}"` };
  }
  const now = deps.now ?? (() => new Date());

  const limits = limitsOf(job, target, channel, deps);
  if (limits?.rate !== undefined && limits.keys.length > 0) {
    try {
      const slot = await takeSlot(limits.store, limits.keys, limits.rate, now().getTime(), job.rateSlotAtMs);
      if (slot.kind === 'wait') {
        return {
          kind: 'rate-limited',
          delayMs: slot.slotMs - now().getTime(),
          job: { ...job, rateSlotAtMs: slot.slotMs },
          reason: `over the rate limit of ${job.channel} (${describeRate(limits.rate)})`,
        };
      }
    } catch (error) {
      return failed(job, deps, { ok: false, retryable: true, reason: `rate limit state unavailable (${errorName(error)})` });
    }
  }

  const key = deliveryKeyOf(job);
  let claim: DeliveryClaim;
  try {
    const claimed = await deps.claims.claim(key, transitionOrderOf(job.transitionId), deps.leaseMs ?? deps.sendTimeoutMs + LEASE_MARGIN_MS, now());
    switch (claimed.status) {
      case 'already-delivered':
        return { kind: 'already-delivered' };
      case 'superseded':
        return { kind: 'superseded', toldTransitionId: claimed.toldTransitionId };
      case 'busy':
        return { kind: 'busy', delayMs: Math.max(MIN_BUSY_DELAY_MS, claimed.leaseUntilMs - now().getTime()) };
      case 'claimed':
        claim = claimed.claim;
    }
  } catch (error) {
    return failed(job, deps, { ok: false, retryable: true, reason: `delivery claim failed (${errorName(error)})` });
  }

  // A resolve is told wherever its firing was (the contract): never held by the cap, nor counted.
  if (limits?.dailyCap !== undefined && job.event !== 'resolved') {
    const capped = await applyDailyCap(job, target, channel, claim, { ...limits, dailyCap: limits.dailyCap }, deps);
    if (capped !== undefined) return capped;
  }

  let result: SendResult;
  try {
    if (job.digest !== undefined) {
      // A digest is a message of its own: no incident's message ref is edited or threaded under.
      result = channel.deliverDigest
        ? await channel.deliverDigest(job.digest, target, { timeoutMs: deps.sendTimeoutMs, deliveryId: deliveryIdOf(key) })
        : { ok: false, retryable: false, reason: `${channel.type} channels cannot send digests` };
    } else {
      const refs = deps.messageRefs;
      const refKey = { fingerprint: job.incident.fingerprint, channel: job.channel };
      const messageRef = refs && { get: () => refs.get(refKey), put: (ref: string) => refs.put(refKey, ref) };
      result = await channel.deliver(job.event, job.incident, target, { timeoutMs: deps.sendTimeoutMs, deliveryId: deliveryIdOf(key), messageRef }, job.state);
    }
  } catch (error) {
    // Channels return failures rather than throw; a throw is a bug or an SDK surprise. Its
    // message may hold a URL or token, so only the error's name goes into the reason.
    result = { ok: false, retryable: true, reason: `${channel.type} channel threw ${errorName(error)}` };
  }
  if (!result.ok) {
    // Not released (the store is down): the lease runs out by itself, and the retry waits for it.
    await deps.claims.release(claim).catch(() => undefined);
    const throttled = job.throttled ?? 0;
    if (result.throttled === true && throttled < FREE_THROTTLED_ANSWERS) {
      // The destination's own limit: wait what it asked (bounded), hold back every other notice
      // to it as long, and do not count it as a failed attempt.
      const waitMs = Math.max(1, Math.min(result.retryAfterMs ?? DEFAULT_THROTTLE_WAIT_MS, maxWaitOf(deps)));
      if (limits !== undefined && limits.keys.length > 0) {
        await blockTargets(limits.store, limits.keys, now().getTime() + waitMs, now().getTime()).catch(() => undefined);
      }
      return {
        kind: 'rate-limited',
        delayMs: waitMs,
        job: { ...job, rateSlotAtMs: undefined, throttled: throttled + 1 },
        reason: `${job.channel} answered too many requests (${result.reason}); waiting ${String(Math.ceil(waitMs / 1000))} s`,
      };
    }
    return failed(job, deps, result);
  }

  let lastError: unknown;
  for (let attempt = 1; attempt <= COMPLETE_TRIES; attempt += 1) {
    try {
      const held = await deps.claims.complete(claim, now());
      return held ? { kind: 'delivered' } : { kind: 'delivered', recordError: 'the claim had run out before the send finished; another worker may have sent it too' };
    } catch (error) {
      lastError = error;
    }
  }
  return { kind: 'delivered', recordError: `could not record the delivery (${errorName(lastError)})` };
}

function failed(
  job: DeliveryJob,
  deps: DeliveryWorkerDeps,
  result: Extract<SendResult, { ok: false }>,
): Extract<DeliveryOutcome, { kind: 'retry' | 'dead-letter' }> {
  if (!result.retryable) return { kind: 'dead-letter', reason: result.reason };
  if (job.attempt >= deps.maxAttempts) {
    return { kind: 'dead-letter', reason: `gave up after ${job.attempt} attempts: ${result.reason}` };
  }
  const delayMs = backoffDelay(job.attempt, {
    ...deps.backoff,
    // Bounded: a Retry-After of years must not become a timer that overflows or a job lost for good.
    retryAfterMs: result.retryAfterMs === undefined ? undefined : Math.min(result.retryAfterMs, maxWaitOf(deps)),
    ...(deps.random ? { random: deps.random } : {}),
  });
  return { kind: 'retry', delayMs, reason: result.reason };
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

interface Limits {
  readonly store: RateLimitStore;
  /** The stored keys of the channel's targets (webhook, Slack channel, phone numbers). */
  readonly keys: readonly string[];
  readonly rate?: RateLimit | undefined;
  readonly dailyCap?: number | undefined;
}

/** The job's channel's rate limits and targets; undefined when it has none or no store is given. */
function limitsOf(job: DeliveryJob, target: { readonly type: string }, channel: RegisteredChannel, deps: DeliveryWorkerDeps): Limits | undefined {
  const store = deps.rateLimits?.store;
  if (store === undefined) return undefined;
  const limit = effectiveLimit(job.channel, channel.rateTargets?.defaults, deps.rateLimits?.settings ?? DEFAULT_RATE_LIMIT_SETTINGS);
  const targets = channel.rateTargets?.targets(target) ?? [];
  // A channel with no targets of its own (email) is limited as a whole.
  const keys = (targets.length > 0 ? targets : [`channel:${job.channel}`]).map((raw) => rateKeyOf(target.type, raw));
  return { store, keys, rate: limit?.rate, dailyCap: limit?.dailyCap };
}

function maxWaitOf(deps: DeliveryWorkerDeps): number {
  return (deps.rateLimits?.settings ?? DEFAULT_RATE_LIMIT_SETTINGS).maxWaitMs;
}

function describeRate(rate: RateLimit): string {
  const per = rate.perMs % 3_600_000 === 0 ? `${String(rate.perMs / 3_600_000)} h` : rate.perMs % 60_000 === 0 ? `${String(rate.perMs / 60_000)} min` : `${String(rate.perMs / 1000)} s`;
  return `${String(rate.limit)} per ${per}`;
}

/**
 * Counts the notice against the channel's daily cap. Past it: the first notice over sends the
 * day's "cap reached" text; the notice itself is told on the route's other channels (done here),
 * or, when the route has none, waits for the next UTC day. Undefined: within the cap, send it.
 */
async function applyDailyCap(
  job: DeliveryJob,
  target: { readonly type: string },
  channel: RegisteredChannel,
  claim: DeliveryClaim,
  limits: Limits & { readonly dailyCap: number },
  deps: DeliveryWorkerDeps,
): Promise<DeliveryOutcome | undefined> {
  const now = deps.now ?? (() => new Date());
  let decision;
  try {
    decision = await takeDailyCap(limits.store, job.channel, limits.dailyCap, now().getTime());
  } catch (error) {
    await deps.claims.release(claim).catch(() => undefined);
    return failed(job, deps, { ok: false, retryable: true, reason: `daily cap state unavailable (${errorName(error)})` });
  }
  if (decision.kind === 'within') return undefined;
  const others = (job.alsoTo ?? []).filter((name) => name !== job.channel);
  let notice = '';
  if (decision.notify && channel.deliverText !== undefined) {
    const sent = await channel
      .deliverText(capNoticeText(limits.dailyCap, others), target, { timeoutMs: deps.sendTimeoutMs, deliveryId: `${deliveryIdOf(deliveryKeyOf(job))}-cap` })
      .catch((error: unknown): SendResult => ({ ok: false, retryable: true, reason: `threw ${errorName(error)}` }));
    notice = sent.ok ? '; the cap notice was sent' : `; the cap notice failed (${sent.reason})`;
  }
  const reason = `daily cap of ${String(limits.dailyCap)} on ${job.channel} reached`;
  if (others.length > 0) {
    // Told elsewhere: the line moves on, so a later resolve is not held behind this notice.
    await deps.claims.complete(claim, now()).catch(() => false);
    return { kind: 'capped', reason: `${reason}; told on ${others.join(', ')}${notice}` };
  }
  await deps.claims.release(claim).catch(() => undefined);
  const tomorrow = nextUtcMidnight(now().getTime());
  return { kind: 'rate-limited', delayMs: tomorrow - now().getTime(), job: { ...job, rateSlotAtMs: tomorrow }, reason: `${reason}; no other channel on its route, so it waits for the next day (UTC)${notice}` };
}
