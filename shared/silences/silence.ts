// Silences: matchers (matchers.ts), a start and an end, who made it and why. While one is in
// force, the firings it matches are recorded and shown with it, and nobody is told (decide.ts);
// expiring one ends it now. `holdFor` is the one place that says what holds an incident: a
// silence in force or an open maintenance window (maintenance.ts).
import * as z from 'zod';
import type { Hold } from '../dedup/record.ts';
import { parseDuration } from '../config/duration.ts';
import type { Incident } from '../incident.ts';
import { closesAt, openWindowFor, type MaintenanceWindow } from './maintenance.ts';
import { allMatch, MatcherError, parseMatcher, type CompiledMatcher } from './matchers.ts';

export interface Silence {
  readonly id: string;
  /** As written (`severity=critical`, `team=~"db|cache"`). */
  readonly matchers: readonly string[];
  readonly startsAt: string;
  readonly endsAt: string;
  readonly createdBy: string;
  readonly comment: string;
  readonly createdAt: string;
}

export type SilenceState = 'pending' | 'active' | 'expired';

export function silenceState(silence: Silence, nowMs: number): SilenceState {
  if (Date.parse(silence.endsAt) <= nowMs) return 'expired';
  return Date.parse(silence.startsAt) > nowMs ? 'pending' : 'active';
}

const isoDateTime = z.iso.datetime({ offset: true });

/** Stored silences, read back. */
export const silenceSchema = z.object({
  id: z.string().min(1),
  matchers: z.array(z.string()).min(1),
  startsAt: isoDateTime,
  endsAt: isoDateTime,
  createdBy: z.string(),
  comment: z.string(),
  createdAt: isoDateTime,
}) satisfies z.ZodType<Silence>;

const MAX_TEXT = 1_000;

/**
 * What `POST /v1/silences` and `tocsin silence add` take: matchers, an end (`endsAt`, or
 * `duration` from the start), an optional start (now), who and why. Times become UTC ISO.
 */
export const newSilenceSchema = z
  .strictObject({
    matchers: z
      .array(z.string().max(MAX_TEXT))
      .min(1, 'give at least one matcher, e.g. "alertname=DiskFull"')
      .max(50)
      .superRefine((texts, ctx) => {
        texts.forEach((text, index) => {
          try {
            parseMatcher(text);
          } catch (error) {
            ctx.addIssue({ code: 'custom', path: [index], message: error instanceof MatcherError ? error.message : String(error) });
          }
        });
      }),
    startsAt: isoDateTime.optional(),
    endsAt: isoDateTime.optional(),
    duration: z
      .string()
      .refine((text) => (parseDuration(text) ?? 0) > 0, 'a duration such as 2h, 30m or 1h30m')
      .optional(),
    createdBy: z.string().trim().min(1, 'say who is silencing (createdBy)').max(200),
    comment: z.string().trim().min(1, 'say why (comment)').max(MAX_TEXT),
  })
  .refine((input) => (input.endsAt === undefined) !== (input.duration === undefined), { message: 'give either endsAt or duration', path: ['endsAt'] });

export type NewSilence = z.input<typeof newSilenceSchema>;

/** The silence a validated request makes, at `now`; throws MatcherError-like messages via the caller's zod parse. */
export function makeSilence(input: z.output<typeof newSilenceSchema>, id: string, now: Date): Silence | { readonly problem: string } {
  const startsMs = input.startsAt === undefined ? now.getTime() : Date.parse(input.startsAt);
  const endsMs = input.endsAt === undefined ? startsMs + (parseDuration(input.duration) ?? 0) : Date.parse(input.endsAt);
  if (endsMs <= now.getTime()) return { problem: 'endsAt: is in the past; the silence would never be in force' };
  if (endsMs <= startsMs) return { problem: 'endsAt: must be after startsAt' };
  return {
    id,
    matchers: input.matchers,
    startsAt: new Date(startsMs).toISOString(),
    endsAt: new Date(endsMs).toISOString(),
    createdBy: input.createdBy,
    comment: input.comment,
    createdAt: now.toISOString(),
  };
}

/** A silence with its matchers compiled, for matching many incidents. */
export interface CompiledSilence {
  readonly silence: Silence;
  readonly matchers: readonly CompiledMatcher[];
  readonly startsMs: number;
  readonly endsMs: number;
}

export function compileSilence(silence: Silence): CompiledSilence {
  return { silence, matchers: silence.matchers.map(parseMatcher), startsMs: Date.parse(silence.startsAt), endsMs: Date.parse(silence.endsAt) };
}

/**
 * What holds `incident` at `nowMs`: of the silences in force and the open windows that match it,
 * the one that holds longest (so the scheduler looks again when the last of them ends).
 */
export function holdFor(
  incident: Incident,
  nowMs: number,
  silences: readonly CompiledSilence[],
  windows: readonly MaintenanceWindow[],
): Hold | undefined {
  let best: { hold: Hold; untilMs: number } | undefined;
  for (const compiled of silences) {
    if (compiled.startsMs > nowMs || compiled.endsMs <= nowMs || !allMatch(compiled.matchers, incident)) continue;
    if (best === undefined || compiled.endsMs > best.untilMs) {
      best = { hold: { kind: 'silence', id: compiled.silence.id, until: compiled.silence.endsAt }, untilMs: compiled.endsMs };
    }
  }
  const window = openWindowFor(windows, incident, nowMs);
  const windowEnd = window === undefined ? undefined : closesAt(window, nowMs);
  if (window !== undefined && windowEnd !== undefined && (best === undefined || windowEnd > best.untilMs)) {
    best = { hold: { kind: 'maintenance', id: window.name, until: new Date(windowEnd).toISOString() }, untilMs: windowEnd };
  }
  return best?.hold;
}

/** A stored silence (JSON text), validated; the error names the file. */
export function parseSilenceRecord(text: string, where: string): Silence {
  const parsed = silenceSchema.safeParse(JSON.parse(text) as unknown);
  if (!parsed.success) throw new Error(`invalid silence in ${where}: ${parsed.error.issues[0]?.message ?? 'unreadable'}`);
  return parsed.data;
}
