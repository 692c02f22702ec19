import { describeValue, invalid } from './errors';

/**
 * A calendar date without a zone, `yyyy-MM-dd` (e.g. `2026-03-08`). Which zone it is read in is
 * always stated by the caller (the provider's zone for `computeSlots`, the client's for the client helpers).
 */
export type LocalDate = string;

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a proleptic Gregorian civil date (H. Hinnant's days_from_civil). */
export function epochDayFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Inverse of `epochDayFromCivil` (H. Hinnant's civil_from_days). */
export function civilFromEpochDay(epochDay: number): { year: number; month: number; day: number } {
  const z = epochDay + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** Epoch day of a `yyyy-MM-dd` date, or `undefined` if it is malformed or not a real date (2026-02-30). */
export function tryEpochDay(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = LOCAL_DATE.exec(value);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  const epochDay = epochDayFromCivil(year, month, day);
  const back = civilFromEpochDay(epochDay);
  return back.month === month && back.day === day ? epochDay : undefined;
}

/** True for a real calendar date written `yyyy-MM-dd` (years 0001–9999). */
export function isLocalDate(value: unknown): value is LocalDate {
  return tryEpochDay(value) !== undefined;
}

/** Validates a `yyyy-MM-dd` date and returns its epoch day; throws `SlotEngineValidationError` otherwise. */
export function parseLocalDate(value: unknown, field: string): number {
  const epochDay = tryEpochDay(value);
  if (epochDay === undefined) {
    invalid(field, `must be a real calendar date written yyyy-MM-dd, such as 2026-12-24; got ${describeValue(value)}`);
  }
  return epochDay;
}

/** `yyyy-MM-dd` of an epoch day. */
export function localDateFromEpochDay(epochDay: number): LocalDate {
  const { year, month, day } = civilFromEpochDay(epochDay);
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Day of the week of an epoch day: 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday). */
export function isoWeekdayIndex(epochDay: number): number {
  return (((epochDay + 3) % 7) + 7) % 7;
}

/** The date `days` days after `date` (negative to go back). */
export function addDays(date: LocalDate, days: number): LocalDate {
  return localDateFromEpochDay(parseLocalDate(date, 'date') + days);
}
