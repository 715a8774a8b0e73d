// Five-field cron expressions for maintenance windows: `minute hour day-of-month month
// day-of-week`, each `*`, a number, a range `a-b`, a step `*/n` or `a-b/n`, or a list of those
// (`1,15,30-40/5`); months and days also by name (`jan`, `sat`), Sunday as 0 or 7. As in Vixie
// cron, when both day fields are restricted a day matching either one counts. No seconds, no
// years, no `L`/`W`/`#`/`?`: a window that needs them is a weekly or once window.
//
// Hand-written (about a hundred lines) rather than a dependency: the parsers on npm compute next
// run times with a date library of their own, while a window only asks "does this minute match",
// in a time zone that Intl already handles, in the dispatch Lambda's bundle too.

export interface CronFields {
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  /** 0 = Sunday. */
  readonly daysOfWeek: ReadonlySet<number>;
  /** The day fields as written were `*` (Vixie cron's rule for combining them needs to know). */
  readonly anyDayOfMonth: boolean;
  readonly anyDayOfWeek: boolean;
}

export class CronError extends Error {
  override readonly name = 'CronError';
}

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Names for the values from `min` on (months) or from 0 (days). */
  readonly names?: readonly string[];
  readonly nameOffset?: number;
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES, nameOffset: 1 },
  { name: 'day of week', min: 0, max: 7, names: DAY_NAMES, nameOffset: 0 },
];

function valueOf(text: string, spec: FieldSpec): number {
  const named = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return named + (spec.nameOffset ?? 0);
  if (!/^\d+$/.test(text)) {
    const names = spec.names === undefined ? '' : ` or a name (${spec.names.join(', ')})`;
    throw new CronError(`${spec.name}: "${text}" is not a number${names}`);
  }
  const value = Number(text);
  if (value < spec.min || value > spec.max) throw new CronError(`${spec.name}: ${text} is out of range ${String(spec.min)}-${String(spec.max)}`);
  return value;
}

function parseField(text: string, spec: FieldSpec): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range = '', stepText, extra] = part.split('/');
    if (range === '' || extra !== undefined) throw new CronError(`${spec.name}: "${part}" is not a value, range or step`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) throw new CronError(`${spec.name}: step "${stepText}" must be a whole number above 0`);
      step = Number(stepText);
    }
    let from: number;
    let to: number;
    if (range === '*') {
      [from, to] = [spec.min, spec.max];
    } else if (range.includes('-')) {
      const [low = '', high = '', more] = range.split('-');
      if (more !== undefined) throw new CronError(`${spec.name}: "${range}" is not a range like 1-5`);
      [from, to] = [valueOf(low, spec), valueOf(high, spec)];
      if (from > to) throw new CronError(`${spec.name}: range ${range} runs backwards`);
    } else {
      from = valueOf(range, spec);
      // `5/15` means from 5 to the end, every 15 (as most crons read it).
      to = stepText === undefined ? from : spec.max;
    }
    for (let value = from; value <= to; value += step) values.add(value);
  }
  return values;
}

/** Parses a five-field expression; throws CronError naming the field and what is wrong. */
export function parseCron(expression: string): CronFields {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new CronError(`expected 5 fields (minute hour day-of-month month day-of-week), got ${String(parts.length)}: "${expression}"`);
  }
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = parts.map((part, index) => parseField(part, FIELDS[index] as FieldSpec)) as [
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
  ];
  // Sunday is 0 or 7.
  if (daysOfWeek.delete(7)) daysOfWeek.add(0);
  return { minutes, hours, daysOfMonth, months, daysOfWeek, anyDayOfMonth: parts[2] === '*', anyDayOfWeek: parts[4] === '*' };
}

/** A wall-clock minute in some time zone. */
export interface WallMinute {
  readonly minute: number;
  readonly hour: number;
  readonly dayOfMonth: number;
  readonly month: number;
  readonly dayOfWeek: number;
}

export function cronMatches(fields: CronFields, at: WallMinute): boolean {
  if (!fields.minutes.has(at.minute) || !fields.hours.has(at.hour) || !fields.months.has(at.month)) return false;
  const dayOfMonth = fields.daysOfMonth.has(at.dayOfMonth);
  const dayOfWeek = fields.daysOfWeek.has(at.dayOfWeek);
  // Vixie cron: both restricted → either may match; otherwise the restricted one decides.
  if (!fields.anyDayOfMonth && !fields.anyDayOfWeek) return dayOfMonth || dayOfWeek;
  return dayOfMonth && dayOfWeek;
}
