// Maintenance windows from the config file: a name, matchers (as silences have), and when —
// weekly (days and a from–to time of day in a time zone; a window may run past midnight), cron
// (a five-field schedule in a time zone, each start opening the window for a duration; cron.ts)
// or once (from–to instants). While a window is open, what it matches is held like a silenced
// incident.
import * as z from 'zod';
import { DURATION_HINT, formatDuration, parseDuration } from '../config/duration.ts';
import type { Incident } from '../incident.ts';
import { CronError, cronMatches, parseCron, type CronFields, type WallMinute } from './cron.ts';
import { allMatch, formatMatcher, MatcherError, parseMatcher, type CompiledMatcher } from './matchers.ts';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface MaintenanceWindow {
  readonly name: string;
  readonly matchers: readonly CompiledMatcher[];
  readonly weekly?: { readonly days: readonly Weekday[]; readonly fromMinute: number; readonly toMinute: number; readonly timeZone: string } | undefined;
  readonly once?: { readonly fromMs: number; readonly toMs: number } | undefined;
  readonly cron?: { readonly schedule: string; readonly fields: CronFields; readonly durationMs: number; readonly timeZone: string } | undefined;
}

/**
 * The longest cron window: whether one is open is found by looking back over its duration a
 * minute at a time (once per process, then a minute per minute), which a week keeps cheap.
 */
export const MAX_CRON_WINDOW_MS = 7 * 24 * 3_600_000;

const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)$/;

function minuteOfDay(text: string): number {
  const match = TIME_OF_DAY.exec(text);
  return Number(match?.[1] ?? 0) * 60 + Number(match?.[2] ?? 0);
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const matchersSchema = z
  .array(z.string())
  .min(1, 'give at least one matcher, e.g. "cloud=aws"')
  .transform((texts, ctx) => {
    const matchers: CompiledMatcher[] = [];
    texts.forEach((text, index) => {
      try {
        matchers.push(parseMatcher(text));
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: [index], message: error instanceof MatcherError ? error.message : String(error) });
      }
    });
    return matchers;
  });

const instant = z.iso.datetime({ offset: true }).transform((text) => Date.parse(text));

export const maintenanceWindowSchema = z
  .strictObject({
    name: z.string().min(1),
    match: matchersSchema,
    weekly: z
      .strictObject({
        days: z.array(z.enum(WEEKDAYS)).min(1, `list the days, e.g. [sat, sun] (${WEEKDAYS.join(', ')})`),
        from: z.string().regex(TIME_OF_DAY, 'a time of day like 22:00'),
        to: z.string().regex(TIME_OF_DAY, 'a time of day like 02:00'),
        timeZone: z.string().refine(isTimeZone, 'not a time zone this system knows (e.g. Europe/Berlin, UTC)').default('UTC'),
      })
      .refine((weekly) => weekly.from !== weekly.to, { message: 'from and to are the same time: the window would be empty', path: ['to'] })
      .optional(),
    once: z
      .strictObject({ from: instant, to: instant })
      .refine((once) => once.to > once.from, { message: 'to must be after from', path: ['to'] })
      .optional(),
    cron: z
      .strictObject({
        schedule: z.string().transform((text, ctx) => {
          try {
            return { text: text.trim(), fields: parseCron(text) };
          } catch (error) {
            ctx.addIssue({ code: 'custom', message: error instanceof CronError ? error.message : String(error) });
            return z.NEVER;
          }
        }),
        duration: z.union([z.string(), z.number()]).transform((value, ctx) => {
          const ms = parseDuration(value);
          if (ms === undefined || ms <= 0) ctx.addIssue({ code: 'custom', message: `${DURATION_HINT} (how long each start keeps the window open), not 0` });
          else if (ms > MAX_CRON_WINDOW_MS) ctx.addIssue({ code: 'custom', message: `at most ${formatDuration(MAX_CRON_WINDOW_MS)}` });
          return ms ?? 0;
        }),
        timeZone: z.string().refine(isTimeZone, 'not a time zone this system knows (e.g. Europe/Berlin, UTC)').default('UTC'),
      })
      .optional(),
  })
  .refine((window) => [window.weekly, window.once, window.cron].filter((when) => when !== undefined).length === 1, {
    message: 'give exactly one of weekly, cron or once',
  })
  .transform(
    (window): MaintenanceWindow => ({
      name: window.name,
      matchers: window.match,
      weekly: window.weekly && {
        days: window.weekly.days,
        fromMinute: minuteOfDay(window.weekly.from),
        toMinute: minuteOfDay(window.weekly.to),
        timeZone: window.weekly.timeZone,
      },
      once: window.once && { fromMs: window.once.from, toMs: window.once.to },
      cron: window.cron && {
        schedule: window.cron.schedule.text,
        fields: window.cron.schedule.fields,
        durationMs: window.cron.duration,
        timeZone: window.cron.timeZone,
      },
    }),
  );

export const maintenanceSchema = z
  .array(maintenanceWindowSchema)
  .refine((windows) => new Set(windows.map((window) => window.name)).size === windows.length, 'window names must be unique');

interface ZonedTime {
  readonly weekday: number;
  readonly minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function zoned(ms: number, timeZone: string): ZonedTime {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, format);
  }
  let weekday = 0;
  let hour = 0;
  let minute = 0;
  for (const part of format.formatToParts(ms)) {
    if (part.type === 'weekday') weekday = WEEKDAYS.indexOf(part.value.toLowerCase().slice(0, 3) as Weekday);
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { weekday, minute: hour * 60 + minute };
}

const wallFormatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock minute at `ms` in a time zone (for cron matching). */
function wallMinute(ms: number, timeZone: string): WallMinute {
  let format = wallFormatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    wallFormatters.set(timeZone, format);
  }
  const wall = { minute: 0, hour: 0, dayOfMonth: 1, month: 1, dayOfWeek: 0 };
  for (const part of format.formatToParts(ms)) {
    if (part.type === 'weekday') wall.dayOfWeek = WEEKDAYS.indexOf(part.value.toLowerCase().slice(0, 3) as Weekday);
    else if (part.type === 'hour') wall.hour = Number(part.value);
    else if (part.type === 'minute') wall.minute = Number(part.value);
    else if (part.type === 'day') wall.dayOfMonth = Number(part.value);
    else if (part.type === 'month') wall.month = Number(part.value);
  }
  return wall;
}

const MINUTE_MS = 60_000;
type CronWindow = NonNullable<MaintenanceWindow['cron']>;

function firesAt(cron: CronWindow, minuteMs: number): boolean {
  return cronMatches(cron.fields, wallMinute(minuteMs, cron.timeZone));
}

/** Per window: the last start found, up to which minute it was looked for. */
const lastStarts = new WeakMap<CronWindow, { readonly upToMs: number; readonly lastStartMs: number | undefined }>();

/** The last start of a cron window at or before `nowMs` within its duration, if any. */
function lastStart(cron: CronWindow, nowMs: number): number | undefined {
  const nowMinute = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
  const known = lastStarts.get(cron);
  let from: number;
  let last: number | undefined;
  if (known !== undefined && known.upToMs <= nowMinute && nowMinute - known.upToMs < cron.durationMs) {
    // Onwards from where the last look stopped: usually not a single minute to look at.
    [from, last] = [known.upToMs + MINUTE_MS, known.lastStartMs];
  } else {
    from = nowMinute - cron.durationMs + MINUTE_MS;
  }
  for (let minute = from; minute <= nowMinute; minute += MINUTE_MS) if (firesAt(cron, minute)) last = minute;
  lastStarts.set(cron, { upToMs: nowMinute, lastStartMs: last });
  return last !== undefined && last + cron.durationMs > nowMs ? last : undefined;
}

/** Per window: when the period open at `fromMs` closes (starts inside a period extend it). */
const closings = new WeakMap<CronWindow, { readonly fromMs: number; readonly closesMs: number }>();

function cronClosesAt(cron: CronWindow, nowMs: number, start: number): number {
  const known = closings.get(cron);
  if (known !== undefined && known.fromMs <= nowMs && nowMs < known.closesMs) return known.closesMs;
  let closes = start + cron.durationMs;
  // A schedule that starts again before each period ends (`* * * * *` for an hour) never closes:
  // look no further than a week ahead, and say it closes then (it is looked at again then).
  const horizon = nowMs + MAX_CRON_WINDOW_MS;
  for (let minute = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS + MINUTE_MS; minute < closes && minute < horizon; minute += MINUTE_MS) {
    if (firesAt(cron, minute)) closes = Math.max(closes, minute + cron.durationMs);
  }
  closes = Math.min(closes, horizon);
  closings.set(cron, { fromMs: nowMs, closesMs: closes });
  return closes;
}

/** Is the window open at `nowMs`? */
export function isOpen(window: MaintenanceWindow, nowMs: number): boolean {
  if (window.once) return nowMs >= window.once.fromMs && nowMs < window.once.toMs;
  if (window.cron) return lastStart(window.cron, nowMs) !== undefined;
  if (!window.weekly) return false;
  const { days, fromMinute, toMinute, timeZone } = window.weekly;
  const { weekday, minute } = zoned(nowMs, timeZone);
  const on = (day: number): boolean => days.includes(WEEKDAYS[(day + 7) % 7] ?? 'sun');
  if (fromMinute < toMinute) return on(weekday) && minute >= fromMinute && minute < toMinute;
  // Past midnight: the evening of a listed day, or the small hours after one.
  return (on(weekday) && minute >= fromMinute) || (on(weekday - 1) && minute < toMinute);
}

/**
 * When the window, open at `nowMs`, closes (epoch ms, to the minute); undefined when it is not
 * open. Found by walking forward a minute at a time from now (at most a day), so time-zone
 * changes need no arithmetic of their own.
 */
export function closesAt(window: MaintenanceWindow, nowMs: number): number | undefined {
  if (!isOpen(window, nowMs)) return undefined;
  if (window.once) return window.once.toMs;
  if (window.cron) {
    const start = lastStart(window.cron, nowMs);
    return start === undefined ? undefined : cronClosesAt(window.cron, nowMs, start);
  }
  let probe = Math.floor(nowMs / 60_000) * 60_000;
  for (let step = 0; step <= 24 * 60; step += 1) {
    probe += 60_000;
    if (!isOpen(window, probe)) return probe;
  }
  return probe;
}

/** The first window open at `nowMs` that matches the incident. */
export function openWindowFor(windows: readonly MaintenanceWindow[], incident: Incident, nowMs: number): MaintenanceWindow | undefined {
  return windows.find((window) => isOpen(window, nowMs) && allMatch(window.matchers, incident));
}

/** One line per window for the banner: what it matches, when, and whether it is open now. */
export function describeWindow(window: MaintenanceWindow, nowMs: number): string {
  const matchers = window.matchers.map(formatMatcher).join(', ');
  const hhmm = (minute: number): string => `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
  const when = window.once
    ? `once ${new Date(window.once.fromMs).toISOString()} – ${new Date(window.once.toMs).toISOString()}`
    : window.weekly
      ? `${window.weekly.days.join(',')} ${hhmm(window.weekly.fromMinute)}–${hhmm(window.weekly.toMinute)} ${window.weekly.timeZone}`
      : window.cron
        ? `cron "${window.cron.schedule}" for ${formatDuration(window.cron.durationMs)} ${window.cron.timeZone}`
        : '';
  const closes = closesAt(window, nowMs);
  return `${window.name}: ${matchers}; ${when}${closes === undefined ? '' : ` (open now, until ${new Date(closes).toISOString()})`}`;
}
