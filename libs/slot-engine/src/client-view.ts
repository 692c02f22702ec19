import { BusyRange, MAX_QUERY_DAYS, Slot, assertBusyRanges } from './compute-input';
import { describeValue, invalid } from './errors';
import { DAY_MS, LocalDate, MINUTE_MS, localDateFromEpochDay, parseLocalDate } from './local-date';
import { ProviderRules, assertNormalizedRules } from './provider-rules';
import { computeValidatedSlots } from './slot-engine';
import { assertIanaZone, localEpochDayOf, zoneOffsets } from './time-zone';

/*
 * Clients see slots in their own zone. A client "day" is the real-time span from the start of that date in
 * the client's zone to the start of the next one; a slot belongs to the client date on which it STARTS.
 * Because client and provider zones differ, one client date usually covers two provider dates
 * (a Tokyo client's 2026-12-01 is 2026-11-30 10:00 → 2026-12-01 10:00 in New York).
 */

/** A slot for an API response: UTC instants plus the client's rendering. */
export interface RenderedSlot {
  /** `2026-12-01T14:00:00.000Z` (same form as `Date.prototype.toISOString`). */
  readonly start: string;
  readonly end: string;
  readonly local: {
    /** The client's IANA zone. */
    readonly timeZone: string;
    /** ISO-8601 with the client zone's offset at that instant, e.g. `2026-12-01T23:00:00.000+09:00`. */
    readonly start: string;
    readonly end: string;
    /** The client-local date on which the slot starts, `yyyy-MM-dd`. */
    readonly date: LocalDate;
  };
}

function assertSlot(slot: Slot, field: string): void {
  if (
    typeof slot !== 'object' ||
    slot === null ||
    !Number.isFinite(slot.start) ||
    !Number.isFinite(slot.end) ||
    slot.end < slot.start
  ) {
    invalid(field, `must be a { start, end } epoch-millisecond slot; got ${describeValue(slot)}`);
  }
}

/** Renders one slot for a client in `clientZone` (an IANA zone name). */
export function renderSlot(slot: Slot, clientZone: string): RenderedSlot {
  assertSlot(slot, 'slot');
  assertIanaZone(clientZone, 'clientZone');
  return renderValidSlot(slot, clientZone);
}

/**
 * Rendering uses the zone's memoised offset index and plain string formatting rather than a luxon
 * DateTime per instant: a 31-day answer has thousands of slots, and this is where its time went.
 * The output is identical to luxon's `toISO()` and to `Date.prototype.toISOString` (checked in the spec).
 */
function renderValidSlot(slot: Slot, clientZone: string): RenderedSlot {
  const offsets = zoneOffsets(clientZone);
  // luxon writes `Z` for the universal zone and `+00:00` for zones that merely sit at offset 0.
  const universal = clientZone === 'UTC' || clientZone === 'Etc/UTC';
  const startOffset = universal ? 0 : offsets.offsetAt(slot.start);
  const endOffset = universal ? 0 : offsets.offsetAt(slot.end);
  const start = formatIso(slot.start + startOffset, universal ? 'Z' : offsetSuffix(startOffset));
  return {
    start: formatIso(slot.start, 'Z'),
    end: formatIso(slot.end, 'Z'),
    local: {
      timeZone: clientZone,
      start,
      end: formatIso(slot.end + endOffset, universal ? 'Z' : offsetSuffix(endOffset)),
      date: start.slice(0, 10),
    },
  };
}

const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
/** 0001-01-01 and 10000-01-01: outside, toISOString writes extended years and is used as is. */
const FOUR_DIGIT_YEARS = [-62135596800000, 253402300800000] as const;
/** `yyyy-MM-ddT` by epoch day; a response touches a few dozen days (its UTC and its local ones). */
const prefixes = new Map<number, string>();
const suffixes = new Map<number, string>();

/** `yyyy-MM-ddTHH:mm:ss.SSS` of `wallMs` read as UTC, then `suffix`; the date part is reused across a day's slots. */
function formatIso(wallMs: number, suffix: string): string {
  if (!Number.isInteger(wallMs) || wallMs < FOUR_DIGIT_YEARS[0] || wallMs >= FOUR_DIGIT_YEARS[1]) {
    return new Date(wallMs).toISOString().slice(0, -1) + suffix;
  }
  const day = Math.floor(wallMs / DAY_MS);
  let prefix = prefixes.get(day);
  if (prefix === undefined) {
    if (prefixes.size >= 4096) prefixes.clear();
    prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    prefixes.set(day, prefix);
  }
  let rest = wallMs - day * DAY_MS;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  return `${prefix}${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${THREE_DIGITS[rest - seconds * 1000]}${suffix}`;
}

/** `+09:00`, `-03:30`, `+05:45`: the offset as luxon writes it (whole minutes). */
function offsetSuffix(offsetMs: number): string {
  let suffix = suffixes.get(offsetMs);
  if (suffix === undefined) {
    const minutes = Math.round(Math.abs(offsetMs) / 60_000);
    suffix = `${offsetMs < 0 ? '-' : '+'}${TWO_DIGITS[Math.floor(minutes / 60)] ?? String(Math.floor(minutes / 60))}:${TWO_DIGITS[minutes % 60]}`;
    suffixes.set(offsetMs, suffix);
  }
  return suffix;
}

/** `renderSlot` for each slot. */
export function renderSlots(slots: readonly Slot[], clientZone: string): RenderedSlot[] {
  assertIanaZone(clientZone, 'clientZone');
  return slots.map((slot, i) => {
    assertSlot(slot, `slots[${i}]`);
    return renderValidSlot(slot, clientZone);
  });
}

/** The real-time span `[start, end)` of the local dates `from..to` (inclusive) in `zone`. */
export function localDateSpan(from: LocalDate, to: LocalDate, zone: string): { start: number; end: number } {
  const fromDay = parseLocalDate(from, 'from');
  const toDay = parseLocalDate(to, 'to');
  if (toDay < fromDay) invalid('to', `must not be before from (${from}); got ${to}`);
  assertIanaZone(zone, 'zone');
  const offsets = zoneOffsets(zone);
  return { start: offsets.resolveWall(fromDay * DAY_MS), end: offsets.resolveWall((toDay + 1) * DAY_MS) };
}

/**
 * The provider-local dates (provider zone) that overlap the client-local dates `from..to` (client zone),
 * as an inclusive range to pass to `computeSlots`. For one client date it is usually two provider dates.
 */
export function providerDateRangeForClientDates(
  from: LocalDate,
  to: LocalDate,
  clientZone: string,
  providerZone: string,
): { from: LocalDate; to: LocalDate } {
  assertIanaZone(clientZone, 'clientZone');
  assertIanaZone(providerZone, 'providerZone');
  const span = localDateSpan(from, to, clientZone);
  return {
    from: localDateFromEpochDay(localEpochDayOf(span.start, providerZone)),
    to: localDateFromEpochDay(localEpochDayOf(span.end - 1, providerZone)),
  };
}

/**
 * The provider-local dates covering one client-local date, in order. Example: a client in Asia/Tokyo asking for
 * 2026-12-01 and a provider in America/New_York → `['2026-11-30', '2026-12-01']`.
 */
export function providerDatesForClientDate(clientDate: LocalDate, clientZone: string, providerZone: string): LocalDate[] {
  const range = providerDateRangeForClientDates(clientDate, clientDate, clientZone, providerZone);
  const out: LocalDate[] = [];
  for (let day = parseLocalDate(range.from, 'from'); day <= parseLocalDate(range.to, 'to'); day++) {
    out.push(localDateFromEpochDay(day));
  }
  return out;
}

/** The slots that start on one of the client-local dates `from..to` (inclusive) in `clientZone`. */
export function filterToClientDates<T extends Slot>(slots: readonly T[], from: LocalDate, to: LocalDate, clientZone: string): T[] {
  assertIanaZone(clientZone, 'clientZone');
  const span = localDateSpan(from, to, clientZone);
  return slots.filter((slot) => slot.start >= span.start && slot.start < span.end);
}

/** The slots whose start lies on `clientDate` in `clientZone`. */
export function filterToClientDate<T extends Slot>(slots: readonly T[], clientDate: LocalDate, clientZone: string): T[] {
  return filterToClientDates(slots, clientDate, clientDate, clientZone);
}

export interface ComputeClientSlotsInput {
  readonly rules: ProviderRules;
  readonly busy: readonly BusyRange[];
  /** First client-local date (client zone), inclusive. */
  readonly from: LocalDate;
  /** Last client-local date (client zone), inclusive; at most 31 days in all. */
  readonly to: LocalDate;
  readonly clientZone: string;
  readonly now: number;
}

/**
 * `computeSlots` for a date range expressed in the CLIENT's zone: queries the provider dates that cover it
 * (up to 31 client days may need 33 provider days; that is allowed here) and keeps the slots that start on
 * the requested client dates.
 */
export function computeSlotsForClientDates(input: ComputeClientSlotsInput): Slot[] {
  if (typeof input !== 'object' || input === null) invalid('(input)', `must be { rules, busy, from, to, clientZone, now }; got ${describeValue(input)}`);
  assertNormalizedRules(input.rules);
  const busy = assertBusyRanges(input.busy);
  const clientFrom = parseLocalDate(input.from, 'from');
  const clientTo = parseLocalDate(input.to, 'to');
  if (clientTo < clientFrom) invalid('to', `must not be before from (${input.from}); got ${input.to}`);
  if (clientTo - clientFrom + 1 > MAX_QUERY_DAYS) {
    invalid('to', `the range ${input.from}..${input.to} spans ${clientTo - clientFrom + 1} days; at most ${MAX_QUERY_DAYS} days (inclusive) can be queried at once`);
  }
  if (typeof input.now !== 'number' || !Number.isFinite(input.now)) {
    invalid('now', `must be a finite number of epoch milliseconds; got ${describeValue(input.now)}`);
  }
  assertIanaZone(input.clientZone, 'clientZone');
  const span = localDateSpan(input.from, input.to, input.clientZone);
  const providerZone = input.rules.timezone;
  const slots = computeValidatedSlots({
    rules: input.rules,
    busy,
    fromDay: localEpochDayOf(span.start, providerZone),
    toDay: localEpochDayOf(span.end - 1, providerZone),
    now: input.now,
  });
  return slots.filter((slot) => slot.start >= span.start && slot.start < span.end);
}

/**
 * How long the answer of `computeSlotsForClientDates` stays the same while only the clock moves: the
 * first instant (epoch ms, exclusive) at which `now` may change it, for the same rules, busy ranges and
 * dates. `slots` must be that function's answer at `now`.
 *
 * `now` enters the answer only through `now + minimumNotice <= start < now + bookingHorizon`. Later,
 * the notice bound only removes slots, first the earliest one: the answer holds while
 * `now' + notice <= earliest start`. The horizon bound only adds slots, and none while the client span
 * ends inside it. So: `earliest start - notice + 1`, `Infinity` when no slot is left to remove, and
 * `now` itself (valid for no later instant) when the span reaches past the horizon.
 */
export function clientSlotsUnchangedUntil(input: {
  rules: ProviderRules;
  from: LocalDate;
  to: LocalDate;
  clientZone: string;
  now: number;
  slots: readonly Slot[];
}): number {
  const span = localDateSpan(input.from, input.to, input.clientZone);
  if (span.end > input.now + input.rules.bookingHorizonDays * DAY_MS) return input.now;
  let earliest = Infinity;
  for (const slot of input.slots) if (slot.start < earliest) earliest = slot.start;
  return earliest === Infinity ? Infinity : earliest - input.rules.minimumNoticeMinutes * MINUTE_MS + 1;
}
