// The dedup decision: pure. Given the stored record (or none), the incoming incident, the time
// and the settings, it returns the next record and what to tell people. The stores only make
// this decision durable with one conditional write; every rule lives here.
//
// Rules (shared/docs/design.md, "Dedup and delivery rules"):
// - no record + firing → opened. no record + resolved → suppressed `unknown-resolve` (or
//   resolved when notifyUnknownResolve), and the record remembers it, so a late firing of the
//   same alert that began before the resolve is stale and cannot leave the incident open.
// - stale: an event older than the record's last applied event (by orderingTime()) →
//   suppressed `stale`, nothing changes (no write at all). At the same instant a resolve orders
//   after a firing: a firing whose startsAt equals the stored resolve's time is stale too,
//   whereas a resolve at the stored firing's startsAt still resolves it.
// - clock skew: senders' clocks drift, and some stamp the future (a clock an hour ahead; year
//   9999; Alertmanager sets startsAt = endsAt when a client posts only endsAt). An event time
//   later than the time received plus CLOCK_SKEW_TOLERANCE_MS counts as the time received, so a
//   future-stamped firing can never make its own later resolve stale.
// - firing while firing → suppressed `duplicate` (counted) until renotifyAfter has passed since
//   the last notice → renotified.
// - resolved while firing → resolved. firing after resolved → opened (a new episode).
// - resolved while resolved → suppressed `duplicate`.
// - flapping: status changes are counted by arrival time within flap.windowMs; the change that
//   makes them more than flap.changes is told once as `flapping`; later changes, and the
//   re-notices that would have been due, are suppressed `flapping` until a whole window has
//   passed without a change. The next change after that is told normally (opened/resolved).
//   A repeat during the pause is still a plain `duplicate`.
// - a record past its TTL (expiresAt) counts as absent; its version carries on, so transition
//   ids are never reused.
//
// Writes: a state change (status, notice, flapping on/off) bumps the version; a repeat that
// changes nothing else only touches the counters, the last incident and lastEventTime, so
// concurrent repeats of one alert do not conflict with each other (see dynamodb-store.ts).
//
// Holds, acknowledgement and timers (the caller passes what holds the incident now: decide()
// stays pure and every store applies the same rules):
// - a firing that would be told while a silence or maintenance window matches it is suppressed
//   `silenced`; the record keeps it (`untold`, `held`: visible on the page and the API).
// - an untold firing is told (`opened`) as soon as nothing holds it: at its next repeat, or when
//   the scheduler looks at it at the hold's end (decideDue).
// - a resolve is told whenever its firing was told, held or not; the resolve of an untold firing
//   is suppressed `silenced` (nobody heard of it).
// - reminders (`renotified`) fall due renotifyAfter after the last notice, whether or not the
//   source repeats (decideDue); none while held, acknowledged or flapping.
// - autoResolveAfter: a firing incident not heard of for that long is resolved (decideDue).
// - a new episode starts unacknowledged.
import type { DeliveryEvent } from '../channels/channel.ts';
import { formatDuration } from '../config/duration.ts';
import { eventTime, type Incident } from '../incident.ts';
import { epochSeconds, isExpired, type Hold, type IncidentRecord } from './record.ts';
import type { DedupSettings } from './settings.ts';

// Kept importable from here too (shared/config imports the settings from this module).
export { DEFAULT_DEDUP_SETTINGS, type DedupSettings } from './settings.ts';
export type { Hold, IncidentRecord } from './record.ts';

export type SuppressReason = 'duplicate' | 'stale' | 'unknown-resolve' | 'flapping' | 'silenced' | 'acknowledged';

/** What decide() is told besides the incident: whether something holds it, and its auto-resolve time. */
export interface DecideContext {
  /** A silence or maintenance window that matches the incident now (only firings are held). */
  readonly hold?: Hold | undefined;
  /** Resolve a firing incident after this long without news from its source (0 or absent: never). */
  readonly autoResolveAfterMs?: number | undefined;
}

export type DedupDecision =
  | { readonly action: DeliveryEvent; readonly transitionId: string }
  | { readonly action: 'suppressed'; readonly reason: SuppressReason };

export type DedupResult =
  /** Stale: nothing to write. */
  | { readonly decision: DedupDecision; readonly write: 'none'; readonly next?: undefined }
  /** `state`: a new version. `touch`: a repeat; same version, only occurrences, lastSeen, incident, lastEventTime (and a resolved record's expiresAt) change. */
  | { readonly decision: DedupDecision; readonly write: 'state' | 'touch'; readonly next: IncidentRecord };

function suppressed(reason: SuppressReason): DedupDecision {
  return { action: 'suppressed', reason };
}

/**
 * Deterministic for a given record state, so a redelivered dispatch maps to the same delivery
 * markers; the event time keeps it unique even if an expired record's versions start over.
 */
export function transitionIdOf(version: number, eventTimeMs: number): string {
  return `v${String(version)}.${String(eventTimeMs)}`;
}

const TRANSITION_ID = /^v(\d+)\.(-?\d+)$/;

/** Whether a string is a transition id as transitionIdOf() makes them (checked where jobs are read). */
export function isTransitionId(value: string): boolean {
  return TRANSITION_ID.test(value);
}

/**
 * Where a transition stands among the transitions of its incident, as a string that sorts the
 * same way in JavaScript, SQLite and DynamoDB: the ordering time first, then the version. The
 * ordering time never decreases within a record (stale events change nothing), so this follows
 * the version there; it comes first so that a record that was deleted (TTL) and started again
 * at version 1 still sorts after everything told about the one before. Derived from the id, so
 * delivery jobs queued before the order existed carry it too.
 */
export function transitionOrderOf(transitionId: string): string {
  const match = TRANSITION_ID.exec(transitionId);
  if (match === null) throw new Error(`not a transition id: ${JSON.stringify(transitionId.slice(0, 40))}`);
  const version = match[1] ?? '0';
  const eventMs = Math.max(0, Number(match[2]));
  return `${String(eventMs).padStart(16, '0')}.${version.padStart(12, '0')}`;
}

/**
 * How far an event time may lie ahead of the time it was received and still be taken as sent:
 * enough for the jitter between well-synchronised hosts, small enough that a sender's clock
 * running ahead cannot order its firing after its own resolve for more than a few seconds.
 */
export const CLOCK_SKEW_TOLERANCE_MS = 5_000;

/**
 * The time an incident is ordered by (epoch ms): its eventTime(), unless that lies more than
 * CLOCK_SKEW_TOLERANCE_MS after `receivedAt`, in which case it is `receivedAt`.
 */
export function orderingTime(incident: Incident, receivedAt: Date): number {
  const stamped = Date.parse(eventTime(incident));
  const received = receivedAt.getTime();
  return stamped > received + CLOCK_SKEW_TOLERANCE_MS ? received : stamped;
}

/** The rule for `stale`, on the ordering time; the DynamoDB store mirrors it in its write condition. */
export function isStale(record: IncidentRecord, incident: Incident, orderingMs: number): boolean {
  const last = Date.parse(record.lastEventTime);
  return orderingMs < last || (orderingMs === last && incident.status === 'firing' && record.status === 'resolved');
}

/**
 * `now` is when the decision is taken (counts, re-notify, flapping, TTL); `receivedAt` is when
 * the incident reached Tocsin (the clock-skew bound), `now` when not given.
 */
export function decide(
  current: IncidentRecord | undefined,
  incident: Incident,
  now: Date,
  settings: DedupSettings,
  receivedAt: Date = now,
  context: DecideContext = {},
): DedupResult {
  const result = decideIncident(current, incident, now, settings, receivedAt, incident.status === 'firing' ? context.hold : undefined);
  return result.write === 'none' ? result : { ...result, next: withTimers(result.next, settings, context.autoResolveAfterMs) };
}

function decideIncident(
  current: IncidentRecord | undefined,
  incident: Incident,
  now: Date,
  settings: DedupSettings,
  receivedAt: Date,
  hold: Hold | undefined,
): DedupResult {
  const nowIso = now.toISOString();
  const eventMs = orderingTime(incident, receivedAt);
  const lastEventTime = new Date(eventMs).toISOString();
  const expiresAt = incident.status === 'resolved' ? epochSeconds(now) + settings.resolvedTtlSeconds : undefined;

  const live = current !== undefined && !isExpired(current, now) ? current : undefined;
  if (live === undefined) {
    const version = (current?.version ?? 0) + 1;
    const transitionId = transitionIdOf(version, eventMs);
    const notify = (incident.status === 'firing' && hold === undefined) || (incident.status === 'resolved' && settings.notifyUnknownResolve);
    const quiet = incident.status === 'firing' ? suppressed('silenced') : suppressed('unknown-resolve');
    return {
      decision: notify ? { action: incident.status === 'firing' ? 'opened' : 'resolved', transitionId } : quiet,
      write: 'state',
      next: {
        fingerprint: incident.fingerprint,
        version,
        status: incident.status,
        incident,
        episodeStartedAt: incident.startsAt,
        lastEventTime,
        occurrences: 1,
        firstSeen: nowIso,
        lastSeen: nowIso,
        lastNotifiedAt: notify ? nowIso : undefined,
        transitionId: notify ? transitionId : undefined,
        changes: [],
        flapping: false,
        expiresAt,
        ...(hold === undefined ? {} : { untold: true, held: hold }),
      },
    };
  }

  if (isStale(live, incident, eventMs)) return { decision: suppressed('stale'), write: 'none' };

  const seen: IncidentRecord = {
    ...live,
    incident,
    occurrences: live.occurrences + 1,
    // Writers with slightly different clocks must not move it backwards.
    lastSeen: now.getTime() > Date.parse(live.lastSeen) ? nowIso : live.lastSeen,
    lastEventTime,
    expiresAt,
    // What holds it now (shown while it fires, told or not).
    held: incident.status === 'firing' ? hold : undefined,
  };
  const version = live.version + 1;
  const transitionId = transitionIdOf(version, eventMs);
  const windowStart = now.getTime() - settings.flap.windowMs;
  const recent = live.changes.filter((time) => Date.parse(time) > windowStart);
  // Flapping ends once a whole window has passed without a status change.
  const stillFlapping = live.flapping && recent.length > 0;

  if (incident.status === live.status) {
    // The same state again: a repeat (Alertmanager's repeat_interval, SNS retries, ...).
    if (incident.status === 'firing' && live.untold === true) {
      // Held so far: still held, or told now that nothing holds it.
      if (hold !== undefined) {
        return sameHold(live.held, hold) ? { decision: suppressed('silenced'), write: 'touch', next: seen } : { decision: suppressed('silenced'), write: 'state', next: { ...seen, version } };
      }
      return {
        decision: { action: 'opened', transitionId },
        write: 'state',
        next: { ...seen, version, untold: undefined, held: undefined, changes: recent, flapping: false, lastNotifiedAt: nowIso, transitionId },
      };
    }
    const reminderDue =
      incident.status === 'firing' &&
      settings.renotifyAfterMs > 0 &&
      live.lastNotifiedAt !== undefined &&
      now.getTime() - Date.parse(live.lastNotifiedAt) >= settings.renotifyAfterMs;
    if (reminderDue && !stillFlapping && hold !== undefined) {
      return { decision: suppressed('silenced'), write: 'state', next: { ...seen, version, held: hold } };
    }
    if (reminderDue && !stillFlapping && live.acknowledged !== undefined) return { decision: suppressed('acknowledged'), write: 'touch', next: seen };
    if (reminderDue && !stillFlapping) {
      return {
        decision: { action: 'renotified', transitionId },
        write: 'state',
        next: { ...seen, version, changes: recent, flapping: false, lastNotifiedAt: nowIso, transitionId, held: undefined, reminders: (live.reminders ?? 0) + 1 },
      };
    }
    if (live.flapping && !stillFlapping) {
      // The pause is over, which is a state change of its own (nothing to tell yet).
      return { decision: suppressed('duplicate'), write: 'state', next: { ...seen, version, changes: recent, flapping: false } };
    }
    return { decision: suppressed(reminderDue ? 'flapping' : 'duplicate'), write: 'touch', next: seen };
  }

  // A status change.
  const changes = [...recent, nowIso].slice(-(settings.flap.changes + 1));
  const opening = incident.status === 'firing';
  const changed: IncidentRecord = {
    ...seen,
    version,
    status: incident.status,
    episodeStartedAt: opening ? incident.startsAt : live.episodeStartedAt,
    changes,
    // A new episode: unacknowledged, no reminders yet; a resolved one is held by nothing.
    untold: undefined,
    held: undefined,
    ...(opening ? { acknowledged: undefined, reminders: 0 } : {}),
  };
  const flappingNow = stillFlapping || changes.length > settings.flap.changes;
  if (opening && hold !== undefined) return { decision: suppressed('silenced'), write: 'state', next: { ...changed, flapping: flappingNow, untold: true, held: hold } };
  // Nobody was told it fired: nobody is told it ended.
  if (!opening && live.untold === true) return { decision: suppressed('silenced'), write: 'state', next: { ...changed, flapping: flappingNow } };
  if (stillFlapping) return { decision: suppressed('flapping'), write: 'state', next: { ...changed, flapping: true } };
  if (changes.length > settings.flap.changes) {
    return {
      decision: { action: 'flapping', transitionId },
      write: 'state',
      next: { ...changed, flapping: true, lastNotifiedAt: nowIso, transitionId },
    };
  }
  return {
    decision: { action: incident.status === 'firing' ? 'opened' : 'resolved', transitionId },
    write: 'state',
    next: { ...changed, flapping: false, lastNotifiedAt: nowIso, transitionId },
  };
}

function sameHold(a: Hold | undefined, b: Hold): boolean {
  return a !== undefined && a.kind === b.kind && a.id === b.id && a.until === b.until;
}

/**
 * The record's timers, from its state: the next reminder (renotifyAfter after the last notice,
 * not before a flapping pause can end) while it fires, was told and is not acknowledged; the
 * auto-resolve time (autoResolveAfter after it was last heard of) while it fires. `autoResolveAfterMs`
 * undefined keeps the record's own auto-resolve time.
 */
export function withTimers(record: IncidentRecord, settings: DedupSettings, autoResolveAfterMs: number | undefined | 'keep'): IncidentRecord {
  const firing = record.status === 'firing';
  let nextReminderAt: string | undefined;
  if (firing && record.untold !== true && record.acknowledged === undefined && settings.renotifyAfterMs > 0 && record.lastNotifiedAt !== undefined) {
    let due = Date.parse(record.lastNotifiedAt) + settings.renotifyAfterMs;
    const lastChange = record.changes.at(-1);
    if (record.flapping && lastChange !== undefined) due = Math.max(due, Date.parse(lastChange) + settings.flap.windowMs + 1);
    nextReminderAt = new Date(due).toISOString();
  }
  let autoResolveAt: string | undefined;
  if (firing) {
    if (autoResolveAfterMs === 'keep') autoResolveAt = record.autoResolveAt;
    else if (autoResolveAfterMs !== undefined && autoResolveAfterMs > 0) autoResolveAt = new Date(Date.parse(record.lastSeen) + autoResolveAfterMs).toISOString();
  }
  const { nextReminderAt: _reminder, autoResolveAt: _resolve, ...rest } = record;
  return {
    ...rest,
    ...(nextReminderAt === undefined ? {} : { nextReminderAt }),
    ...(autoResolveAt === undefined ? {} : { autoResolveAt }),
  };
}

/** What the scheduler does with a record that fell due: nothing, or a new state (and maybe a notice about `incident`). */
export type DueResult =
  | { readonly write: 'none' }
  | { readonly write: 'state'; readonly next: IncidentRecord; readonly incident: Incident; readonly decision?: DedupDecision | undefined };

/** How an auto-resolved incident says so. */
export function autoResolvedSummary(incident: Incident, afterMs: number): string {
  const note = `Auto-resolved: nothing heard from ${incident.source.kind} for ${formatDuration(afterMs)}.`;
  return incident.summary === undefined || incident.summary === '' ? note : `${note}\n${incident.summary}`;
}

/**
 * The scheduler's decision for a record whose timer fell due (dueAtOf), without news from its
 * source: auto-resolve it, tell an untold firing once nothing holds it, or send a reminder.
 * Pure, like decide(); the store writes the result conditioned on the record's version, so two
 * schedulers looking at the same record make one transition.
 */
export function decideDue(current: IncidentRecord, now: Date, settings: DedupSettings, context: DecideContext = {}): DueResult {
  if (current.status !== 'firing' || isExpired(current, now)) return { write: 'none' };
  const nowMs = now.getTime();
  const nowIso = now.toISOString();
  const version = current.version + 1;
  const transitionId = transitionIdOf(version, nowMs);
  const timed = (next: IncidentRecord): IncidentRecord => withTimers(next, settings, 'keep');

  if (current.autoResolveAt !== undefined && Date.parse(current.autoResolveAt) <= nowMs) {
    const afterMs = context.autoResolveAfterMs ?? Date.parse(current.autoResolveAt) - Date.parse(current.lastSeen);
    const endsAt = new Date(Math.max(nowMs, Date.parse(current.lastEventTime) + 1)).toISOString();
    const resolved: Incident = { ...current.incident, status: 'resolved', endsAt, summary: autoResolvedSummary(current.incident, afterMs) };
    const result = decide(current, resolved, now, settings, now);
    if (result.write === 'none') return { write: 'none' };
    // Not heard from, so not seen: the counters stay as they were.
    const next: IncidentRecord = { ...result.next, occurrences: current.occurrences, lastSeen: current.lastSeen };
    return { write: 'state', next, incident: resolved, decision: result.decision };
  }
  const { hold } = context;
  if (current.untold === true) {
    if (hold !== undefined) return { write: 'state', next: timed({ ...current, version, held: hold }), incident: current.incident, decision: suppressed('silenced') };
    return {
      write: 'state',
      next: timed({ ...current, version, untold: undefined, held: undefined, lastNotifiedAt: nowIso, transitionId }),
      incident: current.incident,
      decision: { action: 'opened', transitionId },
    };
  }
  // From the settings in force now (a record written before reminders were scheduled, or under
  // another renotifyAfter, gets its due time all the same).
  const reminderAt = withTimers(current, settings, 'keep').nextReminderAt;
  const reminderDue = reminderAt !== undefined && Date.parse(reminderAt) <= nowMs;
  if (reminderDue && hold !== undefined) {
    return { write: 'state', next: timed({ ...current, version, held: hold }), incident: current.incident, decision: suppressed('silenced') };
  }
  if (reminderDue && current.acknowledged === undefined && !current.flapping) {
    return {
      write: 'state',
      next: timed({ ...current, version, held: undefined, lastNotifiedAt: nowIso, transitionId, reminders: (current.reminders ?? 0) + 1 }),
      incident: current.incident,
      decision: { action: 'renotified', transitionId },
    };
  }
  // Nothing to tell: the hold is over (or changed), or the timers are out of date.
  return { write: 'state', next: timed({ ...current, version, held: hold }), incident: current.incident };
}

/** The record acknowledged by `by` (or no longer, with `by` undefined): no reminders while it is. */
export function acknowledge(current: IncidentRecord, by: string | undefined, now: Date, settings: DedupSettings): IncidentRecord {
  const next: IncidentRecord = { ...current, version: current.version + 1, acknowledged: by === undefined ? undefined : { by, at: now.toISOString() } };
  return withTimers(next, settings, 'keep');
}
