// The store port: apply one incident (one conditional write), and the delivery markers.
import type { DeliveryMarkers } from '../delivery/job.ts';
import type { Incident } from '../incident.ts';
import type { DedupDecision, IncidentRecord } from './decide.ts';

export interface ApplyResult {
  readonly decision: DedupDecision;
  /** The record after the decision (unchanged for a stale event). */
  readonly record: IncidentRecord;
}

export interface IncidentStore extends DeliveryMarkers {
  apply(incident: Incident, now: Date): Promise<ApplyResult>;
}
