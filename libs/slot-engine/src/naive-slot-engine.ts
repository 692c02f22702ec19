import { DateTime } from 'luxon';
import { BusyRange, ComputeSlotsInput, Slot, validateComputeSlotsInput } from './compute-input';
import { DAY_MS, MINUTE_MS, civilFromEpochDay, isoWeekdayIndex, localDateFromEpochDay } from './local-date';
import { ProviderRules } from './provider-rules';
import { DayHours, MinuteInterval, WEEKDAYS } from './working-hours';

/*
 * The design card's algorithm, kept deliberately simple: it is the benchmark anchor and the test oracle.
 *
 *   for each day in from..to:
 *     for each working interval of that day:
 *       t = local(day, interval.start); end = local(day, interval.end)
 *       while t + duration <= end: slots += [t, t + duration); t += duration
 *   return [s for s in slots if notice/horizon ok and not overlaps_any(s widened by buffers, busy)]
 *
 * with `overlaps_any` a linear scan of every busy range (O(slots × busy)).
 *
 * It shares nothing with the fast engine except input validation: wall times are resolved with luxon
 * `DateTime`s (luxon's gap handling, and `getPossibleOffsets()` to pick the FIRST occurrence of an ambiguous
 * time), so agreement between the two is evidence that both are right. Same semantics, same output.
 */

/** Luxon resolution of a local wall time: gap → luxon's forward shift; overlap → earliest occurrence. */
function luxonResolve(epochDay: number, minutes: number, zone: string): number {
  const { year, month, day } = civilFromEpochDay(epochDay + Math.floor(minutes / 1440));
  const rest = minutes % 1440;
  const local = DateTime.fromObject({ year, month, day, hour: Math.floor(rest / 60), minute: rest % 60 }, { zone });
  let best = local.toMillis();
  for (const candidate of local.getPossibleOffsets()) best = Math.min(best, candidate.toMillis());
  return best;
}

function hoursOf(rules: ProviderRules, epochDay: number): DayHours {
  const date = localDateFromEpochDay(epochDay);
  const override = Object.prototype.hasOwnProperty.call(rules.dateOverrides, date) ? rules.dateOverrides[date] : undefined;
  return override ?? rules.workingHours[WEEKDAYS[isoWeekdayIndex(epochDay)]] ?? [];
}

function overlapsAny(start: number, end: number, busy: readonly BusyRange[]): boolean {
  for (const range of busy) {
    if (range.start < range.end && range.start < end && range.end > start) return true;
  }
  return false;
}

/**
 * Same contract and output as `computeSlots`, computed the slow, obvious way (O(slots × busy), luxon per
 * boundary). For tests and benchmarks only.
 */
export function naiveComputeSlots(input: ComputeSlotsInput): Slot[] {
  const { rules, busy, fromDay, toDay, now } = validateComputeSlotsInput(input);
  const zone = rules.timezone;
  const duration = rules.slotDurationMinutes * MINUTE_MS;

  // Every slot of every day.
  const all: Slot[] = [];
  let previousEnd = Number.NEGATIVE_INFINITY; // intervals never overlap in real time (see README)
  for (let day = fromDay - 1; day <= toDay; day++) {
    const intervals: readonly MinuteInterval[] = hoursOf(rules, day);
    for (const interval of intervals) {
      const start = Math.max(luxonResolve(day, interval.start, zone), previousEnd);
      const end = luxonResolve(day, interval.end, zone);
      previousEnd = Math.max(previousEnd, end);
      if (day < fromDay) continue; // the day before only tells where its intervals end
      for (let t = start; t + duration <= end; t += duration) all.push({ start: t, end: t + duration });
    }
  }

  // Keep the free ones.
  const earliest = now + rules.minimumNoticeMinutes * MINUTE_MS;
  const latest = now + rules.bookingHorizonDays * DAY_MS;
  const before = rules.bufferBeforeMinutes * MINUTE_MS;
  const after = rules.bufferAfterMinutes * MINUTE_MS;
  return all.filter(
    (slot) => slot.start >= earliest && slot.start < latest && !overlapsAny(slot.start - before, slot.end + after, busy),
  );
}
