// Dispatch: one incident in, delivery jobs out. Dedup decides whether anyone is told (one
// conditional write in the store); routing decides who and at what severity. Shared by the
// local pipeline and the cloud dispatch functions; it sends nothing itself. dispatchDue is the
// same for a record whose timer fell due (reminders, the end of a hold, auto-resolve).
import type { DeliveryEvent } from '../channels/channel.ts';
import type { NoticeState } from '../channels/notice.ts';
import type { DecideContext, DedupDecision } from '../dedup/decide.ts';
import type { IncidentRecord } from '../dedup/record.ts';
import type { DeliveryJob } from '../delivery/job.ts';
import type { Incident } from '../incident.ts';
import type { Router, RouteResult } from '../routing/index.ts';

/** Structurally shared/dedup's DedupDecision, so any of its stores fits. */
export type DispatchDecision =
  | { readonly action: DeliveryEvent; readonly transitionId: string }
  | { readonly action: 'suppressed'; readonly reason: string };

/** What dispatch reads from the stored record (shared/dedup's IncidentRecord has it). */
export interface DispatchRecord {
  readonly episodeStartedAt?: string | undefined;
  readonly status?: string | undefined;
  readonly transitionId?: string | undefined;
  readonly flapping?: boolean | undefined;
  readonly acknowledged?: { readonly by: string } | undefined;
  readonly held?: { readonly until?: string | undefined } | undefined;
  readonly reminders?: number | undefined;
}

/** The one store method dispatch needs (shared/dedup's IncidentStore has it). */
export interface DecidingStore<Decision extends DispatchDecision> {
  apply(
    incident: Incident,
    now: Date,
    receivedAt?: Date,
    context?: DecideContext,
  ): Promise<{ readonly decision: Decision; readonly record?: DispatchRecord | undefined }>;
}

export interface DispatchDeps<Decision extends DispatchDecision> {
  readonly store: DecidingStore<Decision>;
  readonly router: Router;
  readonly now: Date;
  /** When the incident reached Tocsin (bounds future-stamped event times); `now` when absent. */
  readonly receivedAt?: Date | undefined;
  /**
   * The queue delivered this incident before (SQS ApproximateReceiveCount > 1, or a redriven
   * dead letter): the earlier attempt may have written the dedup record and then failed to queue
   * its delivery jobs. If the record's last notice is for this same state, its jobs are made
   * again; the delivery claims (the same transition) keep a notice that did go out from going
   * out twice.
   */
  readonly redelivered?: boolean | undefined;
  /** What holds the incident now and when it auto-resolves (context.ts); nothing by default. */
  readonly contextFor?: ((incident: Incident) => DecideContext) | undefined;
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
  const context = deps.contextFor?.(incident) ?? {};
  const applied = await deps.store.apply(incident, deps.now, deps.receivedAt ?? deps.now, context);
  return planDispatch(incident, applied, deps.router, deps.redelivered === true, { hold: context.hold });
}

/**
 * The part of dispatch after the store's decision, synchronous and without I/O, so a store that
 * decides synchronously (the local SQLite one) can queue the jobs in the same transaction.
 */
export function planDispatch<Decision extends DispatchDecision>(
  incident: Incident,
  { decision, record }: { readonly decision: Decision; readonly record?: DispatchRecord | undefined },
  router: Router,
  redelivered: boolean,
  noticeContext: NoticeContext = {},
): DispatchResult<Decision> {
  let event: DeliveryEvent;
  let transitionId: string;
  if (decision.action !== 'suppressed') {
    ({ action: event, transitionId } = decision);
  } else if (
    redelivered &&
    decision.reason === 'duplicate' &&
    record?.transitionId !== undefined &&
    record.status === incident.status &&
    record.flapping !== true
  ) {
    // A renotified notice lost this way is re-made as `opened`: the record keeps the state,
    // not the kind of the last notice.
    event = incident.status === 'resolved' ? 'resolved' : 'opened';
    transitionId = record.transitionId;
  } else {
    return { decision, jobs: [] };
  }

  // Some sources do not say when a resolved problem began (a CloudWatch OK notice carries only
  // its own state change time); the store knows when the episode opened. Resolved, flapping and
  // reminder notices then show the real start and duration, and email threads them under the
  // opened mail (its Message-ID is built from the episode's start).
  const episodeStart = record?.episodeStartedAt;
  const told =
    event !== 'opened' && episodeStart !== undefined && Date.parse(episodeStart) < Date.parse(incident.startsAt)
      ? { ...incident, startsAt: episodeStart }
      : incident;

  const routing = router.route(told);
  const routed = routing.severity === told.severity ? told : { ...told, severity: routing.severity };
  const state = noticeStateOf(event, record, noticeContext, incident.fingerprint);
  const jobs = routing.channels.map((channel): DeliveryJob => {
    // Where a notice is also told, for a channel that cannot tell it (an SMS channel past its daily cap).
    const alsoTo = routing.channels.filter((other) => other !== channel);
    return { event, incident: routed, channel, transitionId, attempt: 1, ...(alsoTo.length > 0 ? { alsoTo } : {}), ...(state === undefined ? {} : { state }) };
  });
  return { decision, routing, jobs };
}

/** What the notices of a dispatch may tell besides the record. */
export interface NoticeContext {
  /** What holds the incident now (a resolve told while a silence is in force says until when). */
  readonly hold?: { readonly until?: string | undefined } | undefined;
  /** The local server's public address (`server.publicUrl`): notices link the incident on its page. */
  readonly publicUrl?: string | undefined;
}

/** The incident's row on the incidents page (rows carry `id="incident-<fingerprint>"`). */
export function incidentPageUrl(publicUrl: string, fingerprint: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/#incident-${encodeURIComponent(fingerprint).replace(/%3A/gi, ':')}`;
}

/** What the notice says besides the alert: who acknowledged it, what holds it until when, which reminder, where to act on it. */
function noticeStateOf(event: DeliveryEvent, record: DispatchRecord | undefined, told: NoticeContext, fingerprint: string): NoticeState | undefined {
  const acknowledgedBy = record?.acknowledged?.by;
  const silencedUntil = record?.held?.until ?? told.hold?.until;
  const reminder = event === 'renotified' && record?.reminders !== undefined && record.reminders > 0 ? record.reminders : undefined;
  const pageUrl = told.publicUrl === undefined ? undefined : incidentPageUrl(told.publicUrl, fingerprint);
  if (acknowledgedBy === undefined && silencedUntil === undefined && reminder === undefined && pageUrl === undefined) return undefined;
  return {
    ...(acknowledgedBy === undefined ? {} : { acknowledgedBy }),
    ...(silencedUntil === undefined ? {} : { silencedUntil }),
    ...(reminder === undefined ? {} : { reminder }),
    ...(pageUrl === undefined ? {} : { pageUrl }),
  };
}

/** The scheduler's side of a store (shared/dedup's DynamoDbIncidentStore has it). */
export interface DueStore {
  applyDue(
    fingerprint: string,
    now: Date,
    context: (incident: Incident) => DecideContext,
  ): Promise<
    | { readonly kind: 'done'; readonly record: IncidentRecord; readonly incident: Incident; readonly decision?: DedupDecision | undefined }
    | { readonly kind: 'skipped'; readonly record?: IncidentRecord | undefined }
  >;
}

export interface DueDispatchDeps {
  readonly store: DueStore;
  readonly router: Router;
  readonly now: Date;
  /** The due time the message was sent for (the index's dueAt). */
  readonly dueAt: Date;
  readonly contextFor: (incident: Incident) => DecideContext;
  /** As for dispatchIncident: an earlier attempt may have made the transition and lost its jobs. */
  readonly redelivered?: boolean | undefined;
}

export interface DueDispatchResult {
  /** Absent when nothing was due any more, or another run made the transition. */
  readonly decision?: DedupDecision | undefined;
  readonly jobs: DeliveryJob[];
  readonly routing?: RouteResult | undefined;
}

/**
 * One record whose timer fell due: the store decides (decideDue, written conditioned on the
 * version read, so of two looks at one due record one makes the transition) and the jobs are
 * planned as for any incident. A redelivered look that finds the work done re-makes the jobs of
 * the record's last notice when that notice was made at or after the due time (by this look's
 * earlier attempt, or a concurrent one): the delivery claims drop whatever was already told.
 */
export async function dispatchDue(fingerprint: string, deps: DueDispatchDeps): Promise<DueDispatchResult> {
  const outcome = await deps.store.applyDue(fingerprint, deps.now, deps.contextFor);
  if (outcome.kind === 'done') {
    if (outcome.decision === undefined) return { jobs: [] };
    return planDispatch(outcome.incident, { decision: outcome.decision, record: outcome.record }, deps.router, false, { hold: deps.contextFor(outcome.incident).hold });
  }
  const { record } = outcome;
  if (
    deps.redelivered !== true ||
    record === undefined ||
    record.lastNotifiedAt === undefined ||
    Date.parse(record.lastNotifiedAt) < deps.dueAt.getTime()
  ) {
    return { jobs: [] };
  }
  const duplicate: DedupDecision = { action: 'suppressed', reason: 'duplicate' };
  const plan = planDispatch(record.incident, { decision: duplicate, record }, deps.router, true);
  return { jobs: plan.jobs, routing: plan.routing };
}
