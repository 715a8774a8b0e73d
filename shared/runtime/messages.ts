// The SQS message bodies between the cloud stages, validated where they are read: the
// incidents queue (IncidentMessage, from every ingest function; DueMessage, from the reminders
// function: a record whose timer fell due, for dispatch to decide on), the deliveries queue
// (DeliveryMessage, from dispatch). Their dead-letter queues hold the same bodies, with the
// reason as message attributes (functions/aws/dead-letter.ts), so a redriven message reads the
// same. A body that does not match is poison: the consumer dead-letters it with why.
import * as z from 'zod';
import { DELIVERY_EVENTS } from '../channels/channel.ts';
import { isTransitionId } from '../dedup/decide.ts';
import type { DeliveryJob } from '../delivery/job.ts';
import { incidentSchema } from '../incident.ts';
import type { IncidentMessage } from '../ingest/forward.ts';
import { formatIssues } from '../zod-issues.ts';

const isoDateTime = z.iso.datetime({ offset: true });

export const incidentMessageSchema = z.object({
  incident: incidentSchema,
  receivedAt: isoDateTime,
}) satisfies z.ZodType<IncidentMessage>;

/**
 * A record whose timer (reminder, end of a hold, auto-resolve) fell due, as the reminders
 * function found it in the due index. It says only which record to look at: dispatch reads the
 * record and decides (decideDue), so a copy, a late or a forged one can make nothing happen that
 * is not due.
 */
export interface DueMessage {
  readonly kind: 'due';
  readonly fingerprint: string;
  /** The due time the index held (for logs and the age of what is due). */
  readonly dueAt: string;
}

export const dueMessageSchema = z.strictObject({
  kind: z.literal('due'),
  fingerprint: z.string().min(1).max(512),
  dueAt: isoDateTime,
}) satisfies z.ZodType<DueMessage>;

/** What the incidents queue carries: an incident from a source, or a record that fell due. */
export type IncidentsQueueMessage = { readonly kind: 'incident'; readonly message: IncidentMessage } | { readonly kind: 'due'; readonly message: DueMessage };

/** Parses an incidents-queue body; a body with `"kind": "due"` is a due message, anything else an incident message. */
export function parseIncidentsQueueBody(body: string): IncidentsQueueMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new PoisonMessageError('incident message body is not JSON');
  }
  if (typeof json === 'object' && json !== null && (json as { kind?: unknown }).kind === 'due') {
    return { kind: 'due', message: parseParsed(json, dueMessageSchema, 'due') };
  }
  return { kind: 'incident', message: parseParsed(json, incidentMessageSchema, 'incident') };
}

/** A delivery job on the deliveries queue; `receivedAt` (ingest time) feeds the latency metric. */
export interface DeliveryMessage extends DeliveryJob {
  readonly receivedAt?: string | undefined;
  /**
   * Failed attempts before this message was sent: a job that waited for its rate-limit slot is
   * sent again as a new message (its receive count starts over), and its attempt is this plus
   * the message's ApproximateReceiveCount.
   */
  readonly priorAttempts?: number | undefined;
}

export const deliveryMessageSchema = z.object({
  event: z.enum(DELIVERY_EVENTS),
  incident: incidentSchema,
  channel: z.string().min(1),
  transitionId: z.string().refine(isTransitionId, 'is not a transition id (v<version>.<event time>)'),
  attempt: z.int().min(1),
  receivedAt: isoDateTime.optional(),
  alsoTo: z.array(z.string().min(1)).optional(),
  rateSlotAtMs: z.int().nonnegative().optional(),
  throttled: z.int().nonnegative().optional(),
  priorAttempts: z.int().nonnegative().optional(),
  state: z
    .object({
      acknowledgedBy: z.string().optional(),
      silencedUntil: isoDateTime.optional(),
      reminder: z.int().min(1).optional(),
      pageUrl: z.string().optional(),
    })
    .optional(),
}) satisfies z.ZodType<DeliveryMessage>;

/** Thrown for a body that is not the expected message; names the problem, never quotes the body. */
export class PoisonMessageError extends Error {
  override readonly name = 'PoisonMessageError';
}

/** JSON-parses and validates one SQS message body. */
export function parseMessageBody<T>(body: string, schema: z.ZodType<T>, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new PoisonMessageError(`${what} message body is not JSON`);
  }
  return parseParsed(json, schema, what);
}

function parseParsed<T>(json: unknown, schema: z.ZodType<T>, what: string): T {
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new PoisonMessageError(`invalid ${what} message: ${formatIssues(parsed.error)}`);
  return parsed.data;
}
