import { SlotEngineIssue, SlotEngineValidationError, collect, describeValue } from './errors';
import { LocalDate, tryEpochDay } from './local-date';

/** Weekday keys of working hours, Monday first. */
export const WEEKDAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * A half-open stretch of local wall time on one day, in minutes from local midnight:
 * `0 <= start < end <= 1440`; `end === 1440` means "until the next local midnight" (written `24:00`).
 */
export interface MinuteInterval {
  readonly start: number;
  readonly end: number;
}

/** Working intervals of one day: sorted by start, non-overlapping (they may touch). Empty = closed. */
export type DayHours = readonly MinuteInterval[];

/** Normalized weekly hours: every weekday present (`[]` = day off). */
export type WorkingHours = Readonly<Record<Weekday, DayHours>>;

/** Normalized overrides: local date (`yyyy-MM-dd`, provider zone) → that day's hours (`[]` = closed). */
export type DateOverrides = Readonly<Record<LocalDate, DayHours>>;

/** `["09:00", "17:00"]` — `HH:mm`, start 00:00–23:59, end 00:01–24:00. */
export type TimeRangeInput = readonly [string, string];
/** One range (`["09:00","17:00"]`), several (`[["09:00","12:00"],["13:00","17:00"]]`) or none (`[]`). */
export type DayHoursInput = TimeRangeInput | readonly TimeRangeInput[];
/** The design card's shape: `{ "MON": ["09:00","17:00"], "TUE": [["09:00","12:00"],["13:00","17:00"]] }`. */
export type WorkingHoursInput = Partial<Record<Weekday, DayHoursInput>>;
/** `{ "2026-12-24": [["09:00","12:00"]], "2026-12-25": [] }`. */
export type DateOverridesInput = Readonly<Record<LocalDate, DayHoursInput>>;

const TIME = /^(\d{2}):(\d{2})$/;
const TIME_EXPECTED = 'must be a time written HH:mm between 00:00 and 23:59 (24:00 is allowed as an end time)';
const DAY_EXPECTED =
  'must be one interval ["09:00","17:00"], a list of intervals [["09:00","12:00"],["13:00","17:00"]], or [] for a day off';

/**
 * Minutes from midnight of an `HH:mm` time. `24:00` (= 1440) is accepted only when `role` is `'end'`.
 * Throws `SlotEngineValidationError` on `field` otherwise.
 */
export function parseTimeOfDay(value: unknown, field: string, role: 'start' | 'end' = 'start'): number {
  const m = typeof value === 'string' ? TIME.exec(value) : null;
  if (m) {
    const hours = Number(m[1]);
    const minutes = Number(m[2]);
    if (hours === 24 && minutes === 0) {
      if (role === 'end') return 1440;
      throw SlotEngineValidationError.of(field, `24:00 is only allowed as an end time (midnight at the end of the day); got "24:00" as a start`);
    }
    if (hours <= 23 && minutes <= 59) return hours * 60 + minutes;
  }
  throw SlotEngineValidationError.of(field, `${TIME_EXPECTED}; got ${describeValue(value)}`);
}

/** `HH:mm` of minutes from midnight (1440 → `24:00`). */
export function formatTimeOfDay(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

function formatInterval(interval: MinuteInterval): string {
  return `${formatTimeOfDay(interval.start)}-${formatTimeOfDay(interval.end)}`;
}

function parseRange(value: unknown, field: string, issues: SlotEngineIssue[]): MinuteInterval | undefined {
  if (!Array.isArray(value) || value.length !== 2) {
    issues.push({ field, message: `must be an interval [start, end] such as ["09:00","17:00"]; got ${describeValue(value)}` });
    return undefined;
  }
  const start = collect(issues, () => parseTimeOfDay(value[0], `${field}[0]`, 'start'));
  const end = collect(issues, () => parseTimeOfDay(value[1], `${field}[1]`, 'end'));
  if (start === undefined || end === undefined) return undefined;
  if (end <= start) {
    issues.push({
      field,
      message: `end ${formatTimeOfDay(end)} must be after start ${formatTimeOfDay(start)} (an interval cannot cross midnight; use 24:00 to end at midnight)`,
    });
    return undefined;
  }
  return { start, end };
}

/**
 * One day's hours: `["09:00","17:00"]`, `[["09:00","12:00"],["13:00","17:00"]]` or `[]`.
 * Rejects malformed times, end <= start and overlapping intervals (touching is fine: 12:00-13:00 and 13:00-14:00).
 * Returns the intervals sorted by start.
 */
export function parseDayHours(value: unknown, field: string): DayHours {
  const issues: SlotEngineIssue[] = [];
  const intervals: MinuteInterval[] = [];
  if (!Array.isArray(value)) {
    issues.push({ field, message: `${DAY_EXPECTED}; got ${describeValue(value)}` });
  } else if (value.length > 0 && value.every((v) => typeof v === 'string')) {
    const interval = parseRange(value, field, issues);
    if (interval) intervals.push(interval);
  } else if (value.every((v) => Array.isArray(v))) {
    value.forEach((v, i) => {
      const interval = parseRange(v, `${field}[${i}]`, issues);
      if (interval) intervals.push(interval);
    });
  } else {
    issues.push({ field, message: `${DAY_EXPECTED}; got a list mixing times and intervals` });
  }
  intervals.sort((a, b) => a.start - b.start || a.end - b.end);
  for (let i = 1; i < intervals.length; i++) {
    if (intervals[i].start < intervals[i - 1].end) {
      issues.push({ field, message: `intervals ${formatInterval(intervals[i - 1])} and ${formatInterval(intervals[i])} overlap` });
    }
  }
  if (issues.length > 0) throw new SlotEngineValidationError(issues);
  return Object.freeze(intervals.map((interval) => Object.freeze(interval)));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Weekly hours in the design card's shape (see `WorkingHoursInput`) → every weekday's sorted intervals.
 * Keys must be MON..SUN (upper case); a missing day is a day off. All problems are reported together.
 */
export function parseWorkingHours(value: unknown, field = 'workingHours'): WorkingHours {
  if (!isPlainObject(value)) {
    throw SlotEngineValidationError.of(field, `must be an object keyed by weekday, such as {"MON":["09:00","17:00"]}; got ${describeValue(value)}`);
  }
  const issues: SlotEngineIssue[] = [];
  const result = {} as Record<Weekday, DayHours>;
  for (const day of WEEKDAYS) result[day] = Object.freeze([]);
  for (const [key, hours] of Object.entries(value)) {
    if (!(WEEKDAYS as readonly string[]).includes(key)) {
      const hint = (WEEKDAYS as readonly string[]).includes(key.toUpperCase()) ? ` (keys are upper case: "${key.toUpperCase()}")` : '';
      issues.push({ field: `${field}.${key}`, message: `is not a weekday key; expected one of ${WEEKDAYS.join(', ')}${hint}` });
      continue;
    }
    const parsed = collect(issues, () => parseDayHours(hours, `${field}.${key}`));
    if (parsed) result[key as Weekday] = parsed;
  }
  if (issues.length > 0) throw new SlotEngineValidationError(issues);
  return Object.freeze(result);
}

/**
 * Date overrides `{ "2026-12-24": [["09:00","12:00"]], "2026-12-25": [] }` → normalized. Keys must be real
 * dates `yyyy-MM-dd` (local dates in the provider's zone); values are parsed like a weekday (`[]` = closed).
 */
export function parseDateOverrides(value: unknown, field = 'dateOverrides'): DateOverrides {
  if (!isPlainObject(value)) {
    throw SlotEngineValidationError.of(field, `must be an object keyed by date, such as {"2026-12-25":[]}; got ${describeValue(value)}`);
  }
  const issues: SlotEngineIssue[] = [];
  const result: Record<LocalDate, DayHours> = {};
  for (const [key, hours] of Object.entries(value)) {
    if (tryEpochDay(key) === undefined) {
      issues.push({ field: `${field}.${key}`, message: `is not a date key; expected a real calendar date written yyyy-MM-dd, such as 2026-12-24` });
      continue;
    }
    const parsed = collect(issues, () => parseDayHours(hours, `${field}.${key}`));
    if (parsed) result[key] = parsed;
  }
  if (issues.length > 0) throw new SlotEngineValidationError(issues);
  return Object.freeze(result);
}

/** A normalized day back in the design card's notation: `[["09:00","12:00"],["13:00","17:00"]]`. */
export function formatDayHours(hours: DayHours): Array<[string, string]> {
  return hours.map((interval) => [formatTimeOfDay(interval.start), formatTimeOfDay(interval.end)]);
}
