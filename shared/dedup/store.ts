// The store port: apply one incident (one conditional write), and the delivery markers.
import type { DeliveryKey, DeliveryMarkers } from '../delivery/job.ts';
import type { Incident } from '../incident.ts';
import type { DedupDecision } from './decide.ts';
import type { IncidentRecord } from './record.ts';

export interface ApplyResult {
  readonly decision: DedupDecision;
  /** The record after the decision (as it was, for a stale event). */
  readonly record: IncidentRecord;
}

export interface IncidentStore extends DeliveryMarkers {
  /** Decides on and records one incident; `receivedAt` (default `now`) bounds future-stamped event times (decide.ts). */
  apply(incident: Incident, now: Date, receivedAt?: Date): Promise<ApplyResult>;
}

/** The marker's id: one per fingerprint, transition and channel (the DynamoDB item's `pk`). */
export function markerKey(key: DeliveryKey): string {
  return `delivery#${key.fingerprint}#${key.transitionId}#${key.channel}`;
}

/** Options both stores take besides the dedup settings. */
export interface StoreClockOptions {
  /** Clock for the delivery markers' TTL (apply takes its time as an argument). */
  readonly now?: () => Date;
  /** How long a delivery marker is kept; DEFAULT_MARKER_TTL_SECONDS (7 days) by default. */
  readonly markerTtlSeconds?: number;
}
