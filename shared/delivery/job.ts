// A delivery job: one notification for one channel. Dispatch creates one job per routed
// channel; the delivery worker runs it. Jobs carry the incident, never the raw payload,
// so queue messages stay small.
import { hash } from 'node:crypto';
import type { DeliveryEvent } from '../channels/channel.ts';
import type { Digest } from '../grouping/group.ts';
import type { NoticeState } from '../channels/notice.ts';
import type { Incident } from '../incident.ts';

export interface DeliveryJob {
  readonly event: DeliveryEvent;
  readonly incident: Incident;
  /** The channel's name in the config file (`ops-chat`), not its type. */
  readonly channel: string;
  /** Identifies the state change being told (from the dedup store); transitionOrderOf() orders it. */
  readonly transitionId: string;
  /** 1 for the first try; the queue adapter increments it on each retry. */
  readonly attempt: number;
  /** The other channels this notice goes to (its routes'), when there are any: where it is told when SMS is capped. */
  readonly alsoTo?: readonly string[] | undefined;
  /** A send slot reserved under the channel target's rate limit (epoch ms): the job waits for it, not counted as an attempt. */
  readonly rateSlotAtMs?: number | undefined;
  /** "Too many requests" answers waited out so far (not counted as attempts up to FREE_THROTTLED_ANSWERS). */
  readonly throttled?: number | undefined;
  /**
   * Set for a digest (shared/grouping): the job tells these notices in one message, and its line
   * in the queue, the claims and the history is the group's (jobFingerprint). `event` and
   * `incident` are then the digest's first (worst) item, for logs and dead-letter lists.
   */
  readonly digest?: Digest | undefined;
  /** Acknowledged by, silenced until, which reminder: from the record when the job was planned. */
  readonly state?: NoticeState | undefined;
}

/** The line a job belongs to: the incident's fingerprint, or a digest's group id. */
export function jobFingerprint(job: Pick<DeliveryJob, 'incident' | 'digest'>): string {
  return job.digest?.groupId ?? job.incident.fingerprint;
}

/** A job's title for lists and logs: the incident's, or `digest of N: <worst item's title>`. */
export function jobTitle(job: Pick<DeliveryJob, 'incident' | 'digest'>): string {
  return job.digest === undefined ? job.incident.title : `digest of ${String(job.digest.items.length)}: ${job.incident.title}`;
}

export interface DeliveryKey {
  readonly fingerprint: string;
  readonly transitionId: string;
  readonly channel: string;
}

/** One line of notices: an incident on a channel. Its transitions are told in order, each once. */
export interface ClaimKey {
  readonly fingerprint: string;
  readonly channel: string;
}

/** A claim this worker holds: the right to send one transition, until `leaseUntilMs`. */
export interface DeliveryClaim extends DeliveryKey {
  /** transitionOrderOf(transitionId): what the cursor moves to when the claim completes. */
  readonly order: string;
  /** Tells this claim from another worker's claim on the same line. */
  readonly token: string;
  readonly leaseUntilMs: number;
}

export type ClaimResult =
  | { readonly status: 'claimed'; readonly claim: DeliveryClaim }
  /** This transition was already told on this channel. */
  | { readonly status: 'already-delivered' }
  /** A later transition of the incident was already told on this channel: this older notice is dropped. */
  | { readonly status: 'superseded'; readonly toldTransitionId: string }
  /** Another worker holds an unexpired lease on this line: try again once it has run out. */
  | { readonly status: 'busy'; readonly leaseUntilMs: number };

/**
 * What the delivery worker needs to send each notice once and in order. Per incident and channel
 * a cursor records the last transition told; a claim with a lease says who is sending now.
 * - claim: one conditional write. Claimed only when no later-or-equal transition was told and
 *   nobody else holds a live lease, so two copies of a job (or two transitions) never send at
 *   once, and a crashed sender's lease runs out and lets the redelivered job through.
 * - complete: moves the cursor to the claimed transition and drops the lease; true when this
 *   claim still held it (false: the lease had run out and someone else claimed the line; the
 *   cursor is moved forward anyway, never backward).
 * - release: drops the lease after a failed send, so a retry need not wait for it to run out.
 */
export interface DeliveryClaims {
  claim(key: DeliveryKey, order: string, leaseMs: number, now: Date): Promise<ClaimResult>;
  complete(claim: DeliveryClaim, now: Date): Promise<boolean>;
  release(claim: DeliveryClaim): Promise<void>;
}

/**
 * The id a receiver sees for one notice to one channel (webhook `X-Tocsin-Delivery-Id`): 32 hex
 * of SHA-256 over the delivery key, so it is the same on every retry, after a restart and on
 * every worker, and differs between notices (each transition has its own id) and channels.
 */
export function deliveryIdOf(key: DeliveryKey): string {
  return hash('sha256', `${key.fingerprint}\n${key.transitionId}\n${key.channel}`, 'hex').slice(0, 32);
}
