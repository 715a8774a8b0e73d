// The dedup decision: pure. Given the stored record (or none), the incoming incident, the time
// and the settings, it returns the next record and what to tell people. The stores only make
// this decision durable with one conditional write; every rule lives here.
//
// Rules (../shared/docs/design.md, "Dedup and delivery rules"):
// - no record + firing → opened. no record + resolved → suppressed `unknown-resolve` (or
//   resolved when notifyUnknownResolve), and the record remembers it, so a late firing of the
//   same alert that began before the resolve is stale and cannot leave the incident open.
// - an event older than the record's last applied event → suppressed `stale`, nothing changes.
// - firing while firing → suppressed `duplicate` (counted) until renotifyAfter has passed
//   since the last notice → renotified.
// - resolved while firing → resolved. firing after resolved → opened (a new episode).
// - resolved while resolved → suppressed `duplicate`.
// - more than flap.changes status changes within flap.window → one `flapping` notice, then
//   changes are suppressed (`flapping`) until no change for a whole window; the next change
//   after that is told normally.
import type { DeliveryEvent } from '../channels/channel.ts';
import { eventTime, type Incident, type Status } from '../incident.ts';

export type SuppressReason = 'duplicate' | 'stale' | 'unknown-resolve' | 'flapping';

export type DedupDecision =
  | { readonly action: DeliveryEvent; readonly transitionId: string }
  | { readonly action: 'suppressed'; readonly reason: SuppressReason };

export interface DedupSettings {
  /** A firing incident that keeps firing is told again after this long (0: never). */
  readonly renotifyAfterMs: number;
  /** More than `changes` status changes within `windowMs` is flapping. */
  readonly flap: { readonly changes: number; readonly windowMs: number };
  /** Tell a resolve for a fingerprint never seen (otherwise it is suppressed). */
  readonly notifyUnknownResolve: boolean;
  /** How long a resolved incident's record (and a delivery marker) is kept. */
  readonly resolvedTtlSeconds: number;
}

export const DEFAULT_DEDUP_SETTINGS: DedupSettings = {
  renotifyAfterMs: 4 * 3_600_000,
  flap: { changes: 4, windowMs: 30 * 60_000 },
  notifyUnknownResolve: false,
  resolvedTtlSeconds: 7 * 24 * 3_600,
};

export interface IncidentRecord {
  readonly fingerprint: string;
  /** Incremented by every write; the stores' optimistic-concurrency condition. */
  readonly version: number;
  readonly status: Status;
  /** The last incident applied (what /v1/incidents shows). */
  readonly incident: Incident;
  /** When the current firing episode began (the opening event's startsAt). */
  readonly episodeStartedAt: string;
  /** Event time (eventTime) of the last applied incident: the staleness bar. */
  readonly lastEventTime: string;
  /** Deliveries of this fingerprint seen, duplicates included. */
  readonly occurrences: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly lastNotifiedAt?: string | undefined;
  /** The last notice's transition id (delivery markers are keyed by it). */
  readonly transitionId?: string | undefined;
  /** Times (ISO) of recent status changes, within the flap window. */
  readonly changes: readonly string[];
  readonly flapping: boolean;
  /** Epoch seconds after which the record may be deleted (TTL); only while resolved. */
  readonly expiresAt?: number | undefined;
}

export interface DedupResult {
  readonly decision: DedupDecision;
  /** The record to write; undefined when nothing changes (stale events). */
  readonly next: IncidentRecord | undefined;
}

function suppressed(reason: SuppressReason): DedupDecision {
  return { action: 'suppressed', reason };
}

export function decide(current: IncidentRecord | undefined, incident: Incident, now: Date, settings: DedupSettings): DedupResult {
  const nowIso = now.toISOString();
  const at = eventTime(incident);
  const version = (current?.version ?? 0) + 1;
  const transitionId = `v${String(version)}`;
  const expiresAt = (status: Status): number | undefined =>
    status === 'resolved' ? Math.floor(now.getTime() / 1000) + settings.resolvedTtlSeconds : undefined;

  if (current === undefined) {
    const notify = incident.status === 'firing' || settings.notifyUnknownResolve;
    const decision: DedupDecision = notify
      ? { action: incident.status === 'firing' ? 'opened' : 'resolved', transitionId }
      : suppressed('unknown-resolve');
    return {
      decision,
      next: {
        fingerprint: incident.fingerprint,
        version,
        status: incident.status,
        incident,
        episodeStartedAt: incident.startsAt,
        lastEventTime: at,
        occurrences: 1,
        firstSeen: nowIso,
        lastSeen: nowIso,
        lastNotifiedAt: notify ? nowIso : undefined,
        transitionId: notify ? transitionId : undefined,
        changes: [],
        flapping: false,
        expiresAt: expiresAt(incident.status),
      },
    };
  }

  if (Date.parse(at) < Date.parse(current.lastEventTime)) return { decision: suppressed('stale'), next: undefined };

  const seen = {
    ...current,
    version,
    occurrences: current.occurrences + 1,
    lastSeen: nowIso,
    lastEventTime: at,
  };

  const windowStart = now.getTime() - settings.flap.windowMs;
  const recent = current.changes.filter((time) => Date.parse(time) > windowStart);
  // Flapping ends once a whole window has passed without a status change.
  const stillFlapping = current.flapping && recent.length > 0;

  if (incident.status === current.status) {
    // The same state again: a repeat (Alertmanager's repeat_interval, SNS retries, ...).
    const dueForReminder =
      incident.status === 'firing' &&
      !stillFlapping &&
      settings.renotifyAfterMs > 0 &&
      current.lastNotifiedAt !== undefined &&
      now.getTime() - Date.parse(current.lastNotifiedAt) >= settings.renotifyAfterMs;
    if (dueForReminder) {
      return {
        decision: { action: 'renotified', transitionId },
        next: { ...seen, incident, lastNotifiedAt: nowIso, transitionId },
      };
    }
    return { decision: suppressed('duplicate'), next: { ...seen, incident, flapping: stillFlapping } };
  }

  // A status change.
  const changes = [...recent, nowIso];
  const episodeStartedAt = incident.status === 'firing' ? incident.startsAt : current.episodeStartedAt;
  const changed = {
    ...seen,
    status: incident.status,
    incident,
    episodeStartedAt,
    changes,
    expiresAt: expiresAt(incident.status),
  };

  if (stillFlapping) {
    return { decision: suppressed('flapping'), next: { ...changed, flapping: true } };
  }
  if (changes.length > settings.flap.changes) {
    return {
      decision: { action: 'flapping', transitionId },
      next: { ...changed, flapping: true, lastNotifiedAt: nowIso, transitionId },
    };
  }
  const action: DeliveryEvent = incident.status === 'firing' ? 'opened' : 'resolved';
  return {
    decision: { action, transitionId },
    next: { ...changed, flapping: false, lastNotifiedAt: nowIso, transitionId },
  };
}
