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
import type { DeliveryEvent } from '../channels/channel.ts';
import { eventTime, type Incident } from '../incident.ts';
import { epochSeconds, isExpired, type IncidentRecord } from './record.ts';
import type { DedupSettings } from './settings.ts';

// Kept importable from here too (shared/config imports the settings from this module).
export { DEFAULT_DEDUP_SETTINGS, type DedupSettings } from './settings.ts';
export type { IncidentRecord } from './record.ts';

export type SuppressReason = 'duplicate' | 'stale' | 'unknown-resolve' | 'flapping';

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
): DedupResult {
  const nowIso = now.toISOString();
  const eventMs = orderingTime(incident, receivedAt);
  const lastEventTime = new Date(eventMs).toISOString();
  const expiresAt = incident.status === 'resolved' ? epochSeconds(now) + settings.resolvedTtlSeconds : undefined;

  const live = current !== undefined && !isExpired(current, now) ? current : undefined;
  if (live === undefined) {
    const version = (current?.version ?? 0) + 1;
    const transitionId = transitionIdOf(version, eventMs);
    const notify = incident.status === 'firing' || settings.notifyUnknownResolve;
    return {
      decision: notify ? { action: incident.status === 'firing' ? 'opened' : 'resolved', transitionId } : suppressed('unknown-resolve'),
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
  };
  const version = live.version + 1;
  const transitionId = transitionIdOf(version, eventMs);
  const windowStart = now.getTime() - settings.flap.windowMs;
  const recent = live.changes.filter((time) => Date.parse(time) > windowStart);
  // Flapping ends once a whole window has passed without a status change.
  const stillFlapping = live.flapping && recent.length > 0;

  if (incident.status === live.status) {
    // The same state again: a repeat (Alertmanager's repeat_interval, SNS retries, ...).
    const reminderDue =
      incident.status === 'firing' &&
      settings.renotifyAfterMs > 0 &&
      live.lastNotifiedAt !== undefined &&
      now.getTime() - Date.parse(live.lastNotifiedAt) >= settings.renotifyAfterMs;
    if (reminderDue && !stillFlapping) {
      return {
        decision: { action: 'renotified', transitionId },
        write: 'state',
        next: { ...seen, version, changes: recent, flapping: false, lastNotifiedAt: nowIso, transitionId },
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
  const changed: IncidentRecord = {
    ...seen,
    version,
    status: incident.status,
    episodeStartedAt: incident.status === 'firing' ? incident.startsAt : live.episodeStartedAt,
    changes,
  };
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
