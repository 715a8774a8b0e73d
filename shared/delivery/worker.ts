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
import { deliveryIdOf, type DeliveryClaim, type DeliveryClaims, type DeliveryJob, type DeliveryKey } from './job.ts';

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
}

/** Tries at recording a completed delivery before it is reported unrecorded. */
const COMPLETE_TRIES = 3;
const LEASE_MARGIN_MS = 60_000;
/** A busy line is looked at again no sooner than this. */
const MIN_BUSY_DELAY_MS = 1_000;

export function deliveryKeyOf(job: DeliveryJob): DeliveryKey {
  return { fingerprint: job.incident.fingerprint, transitionId: job.transitionId, channel: job.channel };
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

  let result: SendResult;
  try {
    const refs = deps.messageRefs;
    const refKey = { fingerprint: job.incident.fingerprint, channel: job.channel };
    const messageRef = refs && { get: () => refs.get(refKey), put: (ref: string) => refs.put(refKey, ref) };
    result = await channel.deliver(job.event, job.incident, target, { timeoutMs: deps.sendTimeoutMs, deliveryId: deliveryIdOf(key), messageRef }, job.state);
  } catch (error) {
    // Channels return failures rather than throw; a throw is a bug or an SDK surprise. Its
    // message may hold a URL or token, so only the error's name goes into the reason.
    result = { ok: false, retryable: true, reason: `${channel.type} channel threw ${errorName(error)}` };
  }
  if (!result.ok) {
    // Not released (the store is down): the lease runs out by itself, and the retry waits for it.
    await deps.claims.release(claim).catch(() => undefined);
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
    retryAfterMs: result.retryAfterMs,
    ...(deps.random ? { random: deps.random } : {}),
  });
  return { kind: 'retry', delayMs, reason: result.reason };
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
