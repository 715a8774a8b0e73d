// The store port: apply one incident (one conditional write). Delivery claims are their own
// port (shared/delivery/job.ts), on the same table or database.
import type { Incident } from '../incident.ts';
import type { DedupDecision } from './decide.ts';
import type { IncidentRecord } from './record.ts';

export interface ApplyResult {
  readonly decision: DedupDecision;
  /** The record after the decision (as it was, for a stale event). */
  readonly record: IncidentRecord;
}

export interface IncidentStore {
  /** Decides on and records one incident; `receivedAt` (default `now`) bounds future-stamped event times (decide.ts). */
  apply(incident: Incident, now: Date, receivedAt?: Date): Promise<ApplyResult>;
}

/** Options both stores take besides the dedup settings. */
export interface StoreClockOptions {
  /** Clock for list() and TTL checks outside apply (apply takes its time as an argument). */
  readonly now?: () => Date;
}
