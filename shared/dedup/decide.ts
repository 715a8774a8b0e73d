// The dedup decision: pure. Given the stored record (or none), the incoming incident, the time
// and the settings, it returns the next record and what to tell people. The stores only make
// this decision durable with one conditional write; every rule lives here.
//
// Rules (shared/docs/design.md, "Dedup and delivery rules"):
// - no record + firing → opened. no record + resolved → suppressed `unknown-resolve` (or
//   resolved when notifyUnknownResolve), and the record remembers it, so a late firing of the
//   same alert that began before the resolve is stale and cannot leave the incident open.
// - stale: an event older than the record's last applied event (by eventTime()) → suppressed
//   `stale`, nothing changes (no write at all). At the same instant a resolve orders after a
//   firing: a firing whose startsAt equals the stored resolve's time is stale too, whereas a
//   resolve at the stored firing's startsAt still resolves it.
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

/** The rule for `stale`; the DynamoDB store mirrors it in its write condition. */
export function isStale(record: IncidentRecord, incident: Incident): boolean {
  const at = Date.parse(eventTime(incident));
  const last = Date.parse(record.lastEventTime);
  return at < last || (at === last && incident.status === 'firing' && record.status === 'resolved');
}

export function decide(current: IncidentRecord | undefined, incident: Incident, now: Date, settings: DedupSettings): DedupResult {
  const nowIso = now.toISOString();
  const eventMs = Date.parse(eventTime(incident));
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

  if (isStale(live, incident)) return { decision: suppressed('stale'), write: 'none' };

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
