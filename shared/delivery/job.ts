// A delivery job: one notification for one channel. Dispatch creates one job per routed
// channel; the delivery worker runs it. Jobs carry the incident, never the raw payload,
// so queue messages stay small.
import { hash } from 'node:crypto';
import type { DeliveryEvent } from '../channels/channel.ts';
import type { Incident } from '../incident.ts';

export interface DeliveryJob {
  readonly event: DeliveryEvent;
  readonly incident: Incident;
  /** The channel's name in the config file (`ops-chat`), not its type. */
  readonly channel: string;
  /** Identifies the state change being told (from the dedup store); part of the delivery marker key. */
  readonly transitionId: string;
  /** 1 for the first try; the queue adapter increments it on each retry. */
  readonly attempt: number;
}

export interface DeliveryKey {
  readonly fingerprint: string;
  readonly transitionId: string;
  readonly channel: string;
}

/** The delivery markers the worker needs; the dedup store implements them. */
export interface DeliveryMarkers {
  isDelivered(key: DeliveryKey): Promise<boolean>;
  /** A conditional put: true when this call marked it, false when it was already marked. */
  markDelivered(key: DeliveryKey): Promise<boolean>;
}

/**
 * The id a receiver sees for one notice to one channel (webhook `X-Tocsin-Delivery-Id`): 32 hex
 * of SHA-256 over the delivery key, so it is the same on every retry, after a restart and on
 * every worker, and differs between notices (each transition has its own id) and channels.
 */
export function deliveryIdOf(key: DeliveryKey): string {
  return hash('sha256', `${key.fingerprint}\n${key.transitionId}\n${key.channel}`, 'hex').slice(0, 32);
}
