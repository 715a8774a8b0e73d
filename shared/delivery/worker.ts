// The delivery worker: runs one delivery job and says what the queue should do next. It owns
// what the channels deliberately do not (after Alertmanager's notify pipeline): the
// delivered-once marker, retry with backoff, giving up, dead-lettering with a reason.
// It never throws for a delivery problem; the queue adapter turns the outcome into a delete,
// a delayed re-send or a dead letter.
import type { RegisteredChannel, SendResult } from '../channels/channel.ts';
import { channelByType } from '../channels/index.ts';
import type { MessageRefs } from '../message-refs/port.ts';
import { backoffDelay } from './backoff.ts';
import { deliveryIdOf, type DeliveryJob, type DeliveryKey, type DeliveryMarkers } from './job.ts';

export type DeliveryOutcome =
  | { readonly kind: 'already-delivered' }
  | {
      readonly kind: 'delivered';
      /** Set when the send worked but recording it did not: a later duplicate job could send again. */
      readonly markerError?: string | undefined;
    }
  | { readonly kind: 'retry'; readonly delayMs: number; readonly reason: string }
  | { readonly kind: 'dead-letter'; readonly reason: string };

export interface DeliveryWorkerDeps {
  readonly markers: DeliveryMarkers;
  /** The config's channels by name (`ops-chat` → `{ type: 'slack', ... }`). */
  readonly channelConfigs: Readonly<Record<string, { readonly type: string }>>;
  /** Channels the config names but cannot send to (a secret key not set), with why: retried, then dead-lettered. */
  readonly unavailableChannels?: Readonly<Record<string, string>> | undefined;
  readonly sendTimeoutMs: number;
  /** Tries per job, the first included; a retryable failure on the last one is dead-lettered. */
  readonly maxAttempts: number;
  /** For backoff jitter; tests pass a fixed one. */
  readonly random?: () => number;
  /** Where channels that edit their messages keep each incident's message ref; none by default. */
  readonly messageRefs?: MessageRefs | undefined;
  /** Where channel types come from; defaults to the registry (shared/channels/index.ts). */
  readonly channelByType?: (type: string) => RegisteredChannel | undefined;
}

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

  const key = deliveryKeyOf(job);
  let delivered: boolean;
  try {
    delivered = await deps.markers.isDelivered(key);
  } catch (error) {
    return failed(job, deps, { ok: false, retryable: true, reason: `delivery marker check failed (${errorName(error)})` });
  }
  if (delivered) return { kind: 'already-delivered' };

  let result: SendResult;
  try {
    const refs = deps.messageRefs;
    const refKey = { fingerprint: job.incident.fingerprint, channel: job.channel };
    const messageRef = refs && { get: () => refs.get(refKey), put: (ref: string) => refs.put(refKey, ref) };
    result = await channel.deliver(job.event, job.incident, target, { timeoutMs: deps.sendTimeoutMs, deliveryId: deliveryIdOf(key), messageRef });
  } catch (error) {
    // Channels return failures rather than throw; a throw is a bug or an SDK surprise. Its
    // message may hold a URL or token, so only the error's name goes into the reason.
    result = { ok: false, retryable: true, reason: `${channel.type} channel threw ${errorName(error)}` };
  }
  if (!result.ok) return failed(job, deps, result);

  try {
    await deps.markers.markDelivered(key);
    return { kind: 'delivered' };
  } catch (error) {
    // It was sent: retrying now would send it twice, which is what the marker is there to stop.
    return { kind: 'delivered', markerError: `could not record the delivery (${errorName(error)})` };
  }
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
    retryAfterMs: result.retryAfterMs,
    ...(deps.random ? { random: deps.random } : {}),
  });
  return { kind: 'retry', delayMs, reason: result.reason };
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
