// The incident record: one per fingerprint, what dedup remembers between deliveries. Both stores
// keep exactly this shape (DynamoDB: one item, `pk` = fingerprint; in-process: a map entry and
// its JSON snapshot), and read it back through the zod schema below.
import { z } from 'zod';
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
