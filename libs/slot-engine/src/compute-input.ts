import { SlotEngineIssue, SlotEngineValidationError, describeValue, invalid } from './errors';
import { LocalDate, parseLocalDate } from './local-date';
import { ProviderRules, assertNormalizedRules } from './provider-rules';

/** A bookable slot: half-open `[start, end)` in epoch milliseconds (UTC instants). */
export interface Slot {
  readonly start: number;
  readonly end: number;
}

/**
 * Time that is not available: half-open `[start, end)` in epoch milliseconds. Pass live appointments
 * already widened by their own buffers, and blocked time. Ranges may be unsorted and may overlap;
 * empty ranges (`start === end`) block nothing.
 */
export interface BusyRange {
  readonly start: number;
  readonly end: number;
}

export interface ComputeSlotsInput {
  readonly rules: ProviderRules;
  readonly busy: readonly BusyRange[];
  /** First local date (provider zone), `yyyy-MM-dd`, inclusive. */
  readonly from: LocalDate;
  /** Last local date (provider zone), `yyyy-MM-dd`, inclusive; at most 30 days after `from` (31 days in all). */
  readonly to: LocalDate;
  /** The current instant, epoch ms (the engine never reads the clock). */
  readonly now: number;
}

/** Longest date range one `computeSlots` call accepts, in days (inclusive). */
export const MAX_QUERY_DAYS = 31;
const MAX_REPORTED_BUSY_ISSUES = 10;

/** @internal */
export interface ValidatedQuery {
  readonly rules: ProviderRules;
  readonly busy: readonly BusyRange[];
  readonly fromDay: number;
  readonly toDay: number;
  readonly now: number;
}

/** Throws unless `busy` is an array of `{ start, end }` with finite numbers and `start <= end`. @internal */
export function assertBusyRanges(busy: unknown, field = 'busy'): readonly BusyRange[] {
  if (!Array.isArray(busy)) invalid(field, `must be an array of { start, end } epoch-millisecond ranges; got ${describeValue(busy)}`);
  const issues: SlotEngineIssue[] = [];
  for (let i = 0; i < busy.length && issues.length < MAX_REPORTED_BUSY_ISSUES; i++) {
    const range: unknown = busy[i];
    if (typeof range !== 'object' || range === null) {
      issues.push({ field: `${field}[${i}]`, message: `must be a { start, end } range; got ${describeValue(range)}` });
      continue;
    }
    const { start, end } = range as { start?: unknown; end?: unknown };
    if (typeof start !== 'number' || !Number.isFinite(start)) {
      issues.push({ field: `${field}[${i}].start`, message: `must be a finite number of epoch milliseconds; got ${describeValue(start)}` });
    } else if (typeof end !== 'number' || !Number.isFinite(end)) {
      issues.push({ field: `${field}[${i}].end`, message: `must be a finite number of epoch milliseconds; got ${describeValue(end)}` });
    } else if (end < start) {
      issues.push({ field: `${field}[${i}]`, message: `end (${end}) must not be before start (${start})` });
    }
  }
  if (issues.length > 0) throw new SlotEngineValidationError(issues);
  return busy as readonly BusyRange[];
}

/** Validates a `computeSlots` / `naiveComputeSlots` input. @internal */
export function validateComputeSlotsInput(input: ComputeSlotsInput, maxDays = MAX_QUERY_DAYS): ValidatedQuery {
  if (typeof input !== 'object' || input === null) invalid('(input)', `must be { rules, busy, from, to, now }; got ${describeValue(input)}`);
  assertNormalizedRules(input.rules);
  const busy = assertBusyRanges(input.busy);
  const fromDay = parseLocalDate(input.from, 'from');
  const toDay = parseLocalDate(input.to, 'to');
  if (toDay < fromDay) invalid('to', `must not be before from (${input.from}); got ${input.to}`);
  if (toDay - fromDay + 1 > maxDays) {
    invalid('to', `the range ${input.from}..${input.to} spans ${toDay - fromDay + 1} days; at most ${maxDays} days (inclusive) can be queried at once`);
  }
  if (typeof input.now !== 'number' || !Number.isFinite(input.now)) {
    invalid('now', `must be a finite number of epoch milliseconds; got ${describeValue(input.now)}`);
  }
  return { rules: input.rules, busy, fromDay, toDay, now: input.now };
}
