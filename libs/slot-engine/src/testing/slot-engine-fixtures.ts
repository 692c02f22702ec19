// Test-only helpers (excluded from the build by tsconfig.build.json's **/testing/** rule).
import { DateTime } from 'luxon';
import { SlotEngineValidationError } from '../errors';
import { ProviderRules, ProviderRulesInput, parseProviderRules } from '../provider-rules';
import { Slot } from '../compute-input';

/** Epoch ms of a UTC ISO string such as `2026-06-15T13:00Z`. */
export function utc(iso: string): number {
  const ms = Date.parse(iso.endsWith('Z') ? iso : `${iso}Z`);
  if (!Number.isFinite(ms)) throw new Error(`bad ISO string in test: ${iso}`);
  return ms;
}

/** Slot starts as `yyyy-MM-ddTHH:mmZ`. */
export function utcStarts(slots: readonly Slot[]): string[] {
  return slots.map((slot) => new Date(slot.start).toISOString().slice(0, 16) + 'Z');
}

/** Slot starts as wall time with offset in `zone`, e.g. `2026-11-01T01:00-05:00`. */
export function localStarts(slots: readonly Slot[], zone: string): string[] {
  return slots.map((slot) => DateTime.fromMillis(slot.start, { zone }).toFormat("yyyy-MM-dd'T'HH:mmZZ"));
}

/** A long time before every date used in the examples: no notice/horizon effect unless a test wants one. */
export const LONG_AGO = utc('2025-06-01T00:00Z');

const WEEKDAYS_9_TO_5 = { MON: ['09:00', '17:00'], TUE: ['09:00', '17:00'], WED: ['09:00', '17:00'], THU: ['09:00', '17:00'], FRI: ['09:00', '17:00'] };

/** Provider rules with test defaults: New York, 60-minute slots, Mon-Fri 09:00-17:00, 730-day horizon. */
export function rules(overrides: Partial<ProviderRulesInput> = {}): ProviderRules {
  return parseProviderRules({
    timezone: 'America/New_York',
    slotDurationMinutes: 60,
    workingHours: WEEKDAYS_9_TO_5,
    bookingHorizonDays: 730,
    ...overrides,
  });
}

/** Runs `fn`, expects a `SlotEngineValidationError`, returns it. */
export function validationError(fn: () => unknown): SlotEngineValidationError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SlotEngineValidationError) return error;
    throw error;
  }
  throw new Error('expected a SlotEngineValidationError, but nothing was thrown');
}

/**
 * Zones for property tests: northern and southern DST, half- and quarter-hour offsets, 30-minute DST,
 * transitions at midnight, Ramadan suspensions, the date line.
 */
export const PROPERTY_ZONES = [
  'UTC',
  'America/New_York',
  'America/Los_Angeles',
  'America/St_Johns',
  'America/Sao_Paulo',
  'America/Santiago',
  'America/Havana',
  'America/Asuncion',
  'Atlantic/Azores',
  'Europe/London',
  'Europe/Berlin',
  'Africa/Casablanca',
  'Asia/Gaza',
  'Asia/Tehran',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Asia/Tokyo',
  'Australia/Adelaide',
  'Australia/Sydney',
  'Australia/Lord_Howe',
  'Australia/Eucla',
  'Pacific/Chatham',
  'Pacific/Auckland',
  'Pacific/Apia',
  'Pacific/Kiritimati',
  'Pacific/Marquesas',
] as const;

/**
 * Independent luxon resolution of a local wall time, for test oracles: luxon's gap shift, and the earliest of
 * `getPossibleOffsets()` in an overlap. `minutes` may be 1440 (= next day's 00:00).
 */
export function luxonInstant(date: string, minutes: number, zone: string): number {
  const day = DateTime.fromISO(date, { zone: 'utc' }).plus({ days: Math.floor(minutes / 1440) });
  const rest = minutes % 1440;
  const local = DateTime.fromObject(
    { year: day.year, month: day.month, day: day.day, hour: Math.floor(rest / 60), minute: rest % 60 },
    { zone },
  );
  return Math.min(local.toMillis(), ...local.getPossibleOffsets().map((dt) => dt.toMillis()));
}
