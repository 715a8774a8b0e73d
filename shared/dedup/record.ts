// The incident record: one per fingerprint, what dedup remembers between deliveries. Both stores
// keep exactly this shape (DynamoDB: one item, `pk` = fingerprint; in-process: a map entry and
// its JSON snapshot), and read it back through the zod schema below.
import * as z from 'zod';
import { incidentSchema, STATUSES, type Incident, type Status } from '../incident.ts';
import { formatIssues } from '../zod-issues.ts';

export interface IncidentRecord {
  readonly fingerprint: string;
  /**
   * Bumped by every state change: a status change, a notice (opened, resolved, renotified,
   * flapping), the start or end of flapping. A repeat that changes nothing but the counters
   * keeps it. Writes are conditioned on it (optimistic concurrency).
   */
  readonly version: number;
  readonly status: Status;
  /** The last incident applied (what /v1/incidents shows). */
  readonly incident: Incident;
  /** When the current episode began: the startsAt of the event that opened it. */
  readonly episodeStartedAt: string;
  /** orderingTime() of the last applied incident (its eventTime(), unless future-stamped), as a UTC ISO string: the staleness bar. */
  readonly lastEventTime: string;
  /** Deliveries of this fingerprint applied, repeats included (stale ones are not). */
  readonly occurrences: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly lastNotifiedAt?: string | undefined;
  /** The last notice's transition id (delivery markers are keyed by it). */
  readonly transitionId?: string | undefined;
  /** Arrival times (ISO) of the recent status changes, oldest first, at most flap.changes + 1. */
  readonly changes: readonly string[];
  /** Notices are paused until a whole flap window passes without a status change. */
  readonly flapping: boolean;
  /** Epoch seconds after which the record counts as gone (the TTL); set only while resolved. */
  readonly expiresAt?: number | undefined;
  /**
   * The current episode's firing has not been told (a silence or maintenance window held it).
   * Absent: told. Its resolve is told only when its firing was (decide.ts).
   */
  readonly untold?: boolean | undefined;
  /** The silence or maintenance window that held the last firing decision (shown on the page and the API). */
  readonly held?: Hold | undefined;
  /** Who acknowledged the current episode, and when; a new episode starts unacknowledged. */
  readonly acknowledged?: { readonly by: string; readonly at: string } | undefined;
  /** Reminders sent in the current episode. */
  readonly reminders?: number | undefined;
  /** When the next reminder falls due (firing, told, unacknowledged and renotifyAfter set). */
  readonly nextReminderAt?: string | undefined;
  /** When a firing incident is resolved for silence from its source (autoResolveAfter). */
  readonly autoResolveAt?: string | undefined;
}

/** What holds a firing incident back: a silence (by id) or a maintenance window (by name), until when. */
export interface Hold {
  readonly kind: 'silence' | 'maintenance';
  readonly id: string;
  /** When the hold ends as far as known now (the silence's end, the window's close). */
  readonly until?: string | undefined;
}

const isoDateTime = z.iso.datetime({ offset: true });

export const incidentRecordSchema = z.object({
  fingerprint: z.string().min(1),
  version: z.int().min(1),
  status: z.enum(STATUSES),
  incident: incidentSchema,
  episodeStartedAt: isoDateTime,
  lastEventTime: isoDateTime,
  occurrences: z.int().min(1),
  firstSeen: isoDateTime,
  lastSeen: isoDateTime,
  lastNotifiedAt: isoDateTime.optional(),
  transitionId: z.string().min(1).optional(),
  changes: z.array(isoDateTime),
  flapping: z.boolean(),
  expiresAt: z.int().optional(),
  untold: z.boolean().optional(),
  held: z
    .object({ kind: z.enum(['silence', 'maintenance']), id: z.string().min(1), until: isoDateTime.optional() })
    .optional(),
  acknowledged: z.object({ by: z.string().min(1), at: isoDateTime }).optional(),
  reminders: z.int().min(0).optional(),
  nextReminderAt: isoDateTime.optional(),
  autoResolveAt: isoDateTime.optional(),
}) satisfies z.ZodType<IncidentRecord>;

/** Validates a record read from a store; the error names the field and the fingerprint. */
export function parseIncidentRecord(value: unknown, where: string): IncidentRecord {
  const parsed = incidentRecordSchema.safeParse(value);
  if (!parsed.success) throw new Error(`invalid incident record in ${where}: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

export function epochSeconds(time: Date): number {
  return Math.floor(time.getTime() / 1000);
}

/**
 * A record past its TTL counts as gone. DynamoDB deletes expired items lazily (often days
 * later), so both stores treat them as absent themselves, and behave alike.
 */
export function isExpired(record: IncidentRecord, now: Date): boolean {
  return record.expiresAt !== undefined && record.expiresAt <= epochSeconds(now);
}

/**
 * When the scheduler must look at a record next (epoch ms), or undefined: a firing record's
 * auto-resolve time, and either the end of what holds it (an untold firing is told then; a told
 * one gets its reminder) or its next reminder. The stores index it (SQLite: record_timers).
 */
export function dueAtOf(record: IncidentRecord): number | undefined {
  if (record.status !== 'firing') return undefined;
  const times: number[] = [];
  if (record.autoResolveAt !== undefined) times.push(Date.parse(record.autoResolveAt));
  if (record.held !== undefined) {
    if (record.held.until !== undefined) times.push(Date.parse(record.held.until));
  } else if (record.nextReminderAt !== undefined) {
    times.push(Date.parse(record.nextReminderAt));
  }
  return times.length === 0 ? undefined : Math.min(...times);
}
