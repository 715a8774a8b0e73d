// Dispatch: one incident in, delivery jobs out. Dedup decides whether anyone is told (one
// conditional write in the store); routing decides who and at what severity. Shared by the
// local pipeline and the cloud dispatch functions; it sends nothing itself.
import type { DeliveryEvent } from '../channels/channel.ts';
import type { DeliveryJob } from '../delivery/job.ts';
import type { Incident } from '../incident.ts';
import type { Router, RouteResult } from '../routing/index.ts';

/** Structurally shared/dedup's DedupDecision, so any of its stores fits. */
export type DispatchDecision =
  | { readonly action: DeliveryEvent; readonly transitionId: string }
  | { readonly action: 'suppressed'; readonly reason: string };

/** The one store method dispatch needs (shared/dedup's IncidentStore has it). */
export interface DecidingStore<Decision extends DispatchDecision> {
  apply(
    incident: Incident,
    now: Date,
  ): Promise<{ readonly decision: Decision; readonly record?: { readonly episodeStartedAt?: string | undefined } | undefined }>;
}

export interface DispatchDeps<Decision extends DispatchDecision> {
  readonly store: DecidingStore<Decision>;
  readonly router: Router;
  readonly now: Date;
}

export interface DispatchResult<Decision extends DispatchDecision> {
  readonly decision: Decision;
  /** Absent when dedup suppressed the incident (routing did not run). */
  readonly routing?: RouteResult | undefined;
  /** One per routed channel; none when suppressed or when no route matched. */
  readonly jobs: DeliveryJob[];
}

export async function dispatchIncident<Decision extends DispatchDecision>(
  incident: Incident,
  deps: DispatchDeps<Decision>,
): Promise<DispatchResult<Decision>> {
  // Dedup sees the incident as the source sent it; the fingerprint never depends on routing.
  const { decision, record } = await deps.store.apply(incident, deps.now);
  if (decision.action === 'suppressed') return { decision, jobs: [] };
  const { action: event, transitionId } = decision;

  // Some sources do not say when a resolved problem began (a CloudWatch OK notice carries only
  // its own state change time); the store knows when the episode opened. Notifications then
  // show the real duration, and email threads the resolved mail under the opened one.
  const episodeStart = record?.episodeStartedAt;
  const told =
    event === 'resolved' && episodeStart !== undefined && Date.parse(episodeStart) < Date.parse(incident.startsAt)
      ? { ...incident, startsAt: episodeStart }
      : incident;

  const routing = deps.router.route(told);
  const routed = routing.severity === told.severity ? told : { ...told, severity: routing.severity };
  const jobs = routing.channels.map((channel) => ({ event, incident: routed, channel, transitionId, attempt: 1 }));
  return { decision, routing, jobs };
}
