import { SlotEngineIssue, SlotEngineValidationError, collect, describeValue } from './errors';
import { assertIanaZone } from './time-zone';
import {
  DateOverrides,
  DateOverridesInput,
  WorkingHours,
  WorkingHoursInput,
  parseDateOverrides,
  parseWorkingHours,
} from './working-hours';

/** A provider's availability rules, validated and normalized (produce it with `parseProviderRules`). */
export interface ProviderRules {
  /** IANA zone in which working hours and override dates are read, e.g. `America/New_York`. */
  readonly timezone: string;
  /** Length of every slot in real (elapsed) minutes, 5..480. */
  readonly slotDurationMinutes: number;
  /** Weekly hours in local wall time. */
  readonly workingHours: WorkingHours;
  /** Local dates whose hours replace the weekday's hours (`[]` = closed). */
  readonly dateOverrides: DateOverrides;
  /** Free time required before a slot starts, 0..240 minutes. */
  readonly bufferBeforeMinutes: number;
  /** Free time required after a slot ends, 0..240 minutes. */
  readonly bufferAfterMinutes: number;
  /** A slot must start at least this many minutes after `now` (>= 0). */
  readonly minimumNoticeMinutes: number;
  /** A slot must start less than this many days (× 24 h) after `now`, 1..730. */
  readonly bookingHorizonDays: number;
}

/** What `parseProviderRules` accepts (typically parsed JSON). Fields marked optional have defaults. */
export interface ProviderRulesInput {
  timezone: string;
  slotDurationMinutes: number;
  workingHours: WorkingHoursInput;
  /** Default `{}`. */
  dateOverrides?: DateOverridesInput;
  /** Default 0. */
  bufferBeforeMinutes?: number;
  /** Default 0. */
  bufferAfterMinutes?: number;
  /** Default 0. */
  minimumNoticeMinutes?: number;
  bookingHorizonDays: number;
}

export const PROVIDER_RULE_LIMITS = Object.freeze({
  slotDurationMinutes: { min: 5, max: 480 },
  bufferMinutes: { min: 0, max: 240 },
  minimumNoticeMinutes: { min: 0, max: Number.MAX_SAFE_INTEGER },
  bookingHorizonDays: { min: 1, max: 730 },
});

const KNOWN_FIELDS: readonly (keyof ProviderRulesInput)[] = [
  'timezone',
  'slotDurationMinutes',
  'workingHours',
  'dateOverrides',
  'bufferBeforeMinutes',
  'bufferAfterMinutes',
  'minimumNoticeMinutes',
  'bookingHorizonDays',
];

/** An integer in [min, max]; throws on `field` otherwise. */
export function parseIntegerInRange(value: unknown, field: string, min: number, max: number, unit: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer between ${min} and ${max}`;
    throw SlotEngineValidationError.of(field, `must be ${range} (${unit}); got ${describeValue(value)}`);
  }
  return value;
}

/**
 * Validates and normalizes a provider's rules (typically parsed JSON). Every problem is reported in one
 * `SlotEngineValidationError` (`issues`), e.g. `slotDurationMinutes: must be an integer between 5 and 480 (minutes); got 4`.
 * Unknown fields are rejected (they are usually typos such as `bufferMinutes`).
 */
export function parseProviderRules(input: unknown): ProviderRules {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw SlotEngineValidationError.of('(rules)', `must be an object with timezone, slotDurationMinutes, workingHours and bookingHorizonDays; got ${describeValue(input)}`);
  }
  const raw = input as Record<string, unknown>;
  const issues: SlotEngineIssue[] = [];
  const required = (name: keyof ProviderRulesInput, what: string): boolean => {
    if (raw[name] !== undefined) return true;
    issues.push({ field: name, message: `is required (${what})` });
    return false;
  };
  const { slotDurationMinutes: slot, bufferMinutes: buffer, minimumNoticeMinutes: notice, bookingHorizonDays: horizon } =
    PROVIDER_RULE_LIMITS;

  const timezone = required('timezone', 'an IANA time zone name such as America/New_York')
    ? collect(issues, () => assertIanaZone(raw.timezone, 'timezone'))
    : undefined;
  const slotDurationMinutes = required('slotDurationMinutes', `an integer between ${slot.min} and ${slot.max}`)
    ? collect(issues, () => parseIntegerInRange(raw.slotDurationMinutes, 'slotDurationMinutes', slot.min, slot.max, 'minutes'))
    : undefined;
  const workingHours = required('workingHours', 'such as {"MON":["09:00","17:00"]}')
    ? collect(issues, () => parseWorkingHours(raw.workingHours, 'workingHours'))
    : undefined;
  const dateOverrides = collect(issues, () => parseDateOverrides(raw.dateOverrides ?? {}, 'dateOverrides'));
  const bufferBeforeMinutes = collect(issues, () =>
    parseIntegerInRange(raw.bufferBeforeMinutes ?? 0, 'bufferBeforeMinutes', buffer.min, buffer.max, 'minutes'),
  );
  const bufferAfterMinutes = collect(issues, () =>
    parseIntegerInRange(raw.bufferAfterMinutes ?? 0, 'bufferAfterMinutes', buffer.min, buffer.max, 'minutes'),
  );
  const minimumNoticeMinutes = collect(issues, () =>
    parseIntegerInRange(raw.minimumNoticeMinutes ?? 0, 'minimumNoticeMinutes', notice.min, notice.max, 'minutes'),
  );
  const bookingHorizonDays = required('bookingHorizonDays', `an integer between ${horizon.min} and ${horizon.max}`)
    ? collect(issues, () => parseIntegerInRange(raw.bookingHorizonDays, 'bookingHorizonDays', horizon.min, horizon.max, 'days'))
    : undefined;

  for (const key of Object.keys(raw)) {
    if (!(KNOWN_FIELDS as readonly string[]).includes(key)) {
      issues.push({ field: key, message: `is not a known field; expected ${KNOWN_FIELDS.join(', ')}` });
    }
  }

  if (
    issues.length > 0 ||
    timezone === undefined ||
    slotDurationMinutes === undefined ||
    workingHours === undefined ||
    dateOverrides === undefined ||
    bufferBeforeMinutes === undefined ||
    bufferAfterMinutes === undefined ||
    minimumNoticeMinutes === undefined ||
    bookingHorizonDays === undefined
  ) {
    throw new SlotEngineValidationError(issues);
  }
  return Object.freeze({
    timezone,
    slotDurationMinutes,
    workingHours,
    dateOverrides,
    bufferBeforeMinutes,
    bufferAfterMinutes,
    minimumNoticeMinutes,
    bookingHorizonDays,
  });
}

/**
 * Cheap re-check of an already-normalized `ProviderRules` (zone and numeric limits, not the hours), used by the
 * engine so that a hand-built rules object cannot loop forever or read hours in an invalid zone.
 */
export function assertNormalizedRules(rules: ProviderRules, field = 'rules'): void {
  if (typeof rules !== 'object' || rules === null) {
    throw SlotEngineValidationError.of(field, `must be ProviderRules from parseProviderRules; got ${describeValue(rules)}`);
  }
  const issues: SlotEngineIssue[] = [];
  const { slotDurationMinutes: slot, bufferMinutes: buffer, minimumNoticeMinutes: notice, bookingHorizonDays: horizon } =
    PROVIDER_RULE_LIMITS;
  collect(issues, () => assertIanaZone(rules.timezone, `${field}.timezone`));
  collect(issues, () => parseIntegerInRange(rules.slotDurationMinutes, `${field}.slotDurationMinutes`, slot.min, slot.max, 'minutes'));
  collect(issues, () => parseIntegerInRange(rules.bufferBeforeMinutes, `${field}.bufferBeforeMinutes`, buffer.min, buffer.max, 'minutes'));
  collect(issues, () => parseIntegerInRange(rules.bufferAfterMinutes, `${field}.bufferAfterMinutes`, buffer.min, buffer.max, 'minutes'));
  collect(issues, () => parseIntegerInRange(rules.minimumNoticeMinutes, `${field}.minimumNoticeMinutes`, notice.min, notice.max, 'minutes'));
  collect(issues, () => parseIntegerInRange(rules.bookingHorizonDays, `${field}.bookingHorizonDays`, horizon.min, horizon.max, 'days'));
  if (typeof rules.workingHours !== 'object' || rules.workingHours === null) {
    issues.push({ field: `${field}.workingHours`, message: 'must be normalized working hours from parseWorkingHours' });
  }
  if (typeof rules.dateOverrides !== 'object' || rules.dateOverrides === null) {
    issues.push({ field: `${field}.dateOverrides`, message: 'must be normalized date overrides from parseDateOverrides' });
  }
  if (issues.length > 0) throw new SlotEngineValidationError(issues);
}
