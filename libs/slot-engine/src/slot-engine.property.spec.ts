import fc from 'fast-check';
import { DateTime, IANAZone } from 'luxon';
import { clientSlotsUnchangedUntil, computeSlotsForClientDates } from './client-view';
import { BusyRange, ComputeSlotsInput, Slot } from './compute-input';
import { naiveComputeSlots } from './naive-slot-engine';
import { ProviderRules, parseProviderRules } from './provider-rules';
import { computeSlots } from './slot-engine';
import { PROPERTY_ZONES, luxonInstant } from './testing/slot-engine-fixtures';
import { WEEKDAYS, formatTimeOfDay } from './working-hours';

/*
 * Properties over random providers (26 zones incl. half/quarter-hour offsets, southern-hemisphere and 30-minute
 * DST, midnight transitions), random schedules, busy ranges, now, notice, horizon; half of the queries start
 * within two days of a UTC-offset transition.
 */

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** Local dates (2024-2028) on which each zone's UTC offset changes, found with luxon. */
const transitionDates = new Map<string, string[]>();
beforeAll(() => {
  for (const zone of PROPERTY_ZONES) {
    const iana = IANAZone.create(zone);
    const dates: string[] = [];
    for (let week = Date.UTC(2024, 0, 1); week < Date.UTC(2029, 0, 1); week += 7 * DAY_MS) {
      if (iana.offset(week) === iana.offset(week + 7 * DAY_MS)) continue;
      for (let t = week; t < week + 7 * DAY_MS; t += DAY_MS) {
        if (iana.offset(t) !== iana.offset(t + DAY_MS)) dates.push(DateTime.fromMillis(t + DAY_MS, { zone }).toISODate() ?? '');
      }
    }
    transitionDates.set(zone, dates);
  }
});

type Hours = Array<[string, string]>;

/** 0-3 intervals on a 5-minute grid, sometimes touching, `24:00` possible as an end. */
const dayHoursArb: fc.Arbitrary<Hours> = fc
  .tuple(fc.uniqueArray(fc.integer({ min: 0, max: 288 }), { maxLength: 6 }), fc.boolean())
  .map(([marks, touching]) => {
    const sorted = [...marks].sort((a, b) => a - b).map((m) => m * 5);
    const hours: Hours = [];
    const step = touching ? 1 : 2;
    for (let i = 0; i + 1 < sorted.length && hours.length < 3; i += step) {
      hours.push([formatTimeOfDay(sorted[i]), formatTimeOfDay(sorted[i + 1])]);
    }
    return hours;
  });

const queryArb = fc.record({
  zone: fc.constantFrom(...PROPERTY_ZONES),
  nearTransition: fc.boolean(),
  pick: fc.nat(),
  shiftDays: fc.integer({ min: -2, max: 0 }),
  lengthDays: fc.integer({ min: 1, max: 5 }),
  duration: fc.oneof(fc.constantFrom(5, 15, 20, 30, 45, 60, 90), fc.integer({ min: 5, max: 480 })),
  week: fc.array(dayHoursArb, { minLength: 7, maxLength: 7 }),
  overrides: fc.array(fc.record({ dayIndex: fc.integer({ min: -1, max: 5 }), hours: dayHoursArb }), { maxLength: 2 }),
  bufferBefore: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 240 })),
  bufferAfter: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 240 })),
  notice: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 3000 })),
  horizon: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.constant(730)),
  busy: fc.array(fc.record({ at: fc.integer({ min: -1440, max: 7 * 1440 }), minutes: fc.integer({ min: 0, max: 300 }), ms: fc.integer({ min: 0, max: 59_999 }) }), {
    maxLength: 40,
  }),
  nowMinutes: fc.integer({ min: -3 * 1440, max: 2 * 1440 }),
  nowMs: fc.integer({ min: 0, max: 59_999 }),
});

type Query = fc.Arbitrary<{ input: ComputeSlotsInput; dates: string[] }>;

const inputArb: Query = queryArb.map((q) => {
  const transitions = transitionDates.get(q.zone) ?? [];
  const anchor =
    q.nearTransition && transitions.length > 0
      ? DateTime.fromISO(transitions[q.pick % transitions.length], { zone: 'utc' }).plus({ days: q.shiftDays })
      : DateTime.fromISO('2024-01-01', { zone: 'utc' }).plus({ days: q.pick % 1826 });
  const dates = Array.from({ length: q.lengthDays }, (_, i) => anchor.plus({ days: i }).toISODate() ?? '');
  const dateOverrides: Record<string, Hours> = {};
  for (const o of q.overrides) dateOverrides[anchor.plus({ days: o.dayIndex }).toISODate() ?? ''] = o.hours;
  const rules = parseProviderRules({
    timezone: q.zone,
    slotDurationMinutes: q.duration,
    workingHours: Object.fromEntries(WEEKDAYS.map((day, i) => [day, q.week[i]])),
    dateOverrides,
    bufferBeforeMinutes: q.bufferBefore,
    bufferAfterMinutes: q.bufferAfter,
    minimumNoticeMinutes: q.notice,
    bookingHorizonDays: q.horizon,
  });
  const origin = luxonInstant(dates[0], 0, q.zone);
  const busy: BusyRange[] = q.busy.map((b) => {
    const start = origin + b.at * MINUTE_MS + b.ms;
    return { start, end: start + b.minutes * MINUTE_MS };
  });
  return { input: { rules, busy, from: dates[0], to: dates[dates.length - 1], now: origin + q.nowMinutes * MINUTE_MS + q.nowMs }, dates };
});

function hoursOn(rules: ProviderRules, date: string): readonly { start: number; end: number }[] {
  if (Object.prototype.hasOwnProperty.call(rules.dateOverrides, date)) return rules.dateOverrides[date];
  return rules.workingHours[WEEKDAYS[DateTime.fromISO(date, { zone: 'utc' }).weekday - 1]];
}

/** Every invariant a returned slot list must satisfy, checked with luxon, independently of the engine. Returns violations. */
function violations(slots: readonly Slot[], input: ComputeSlotsInput, dates: readonly string[]): string[] {
  const { rules, busy, now } = input;
  const zone = rules.timezone;
  const duration = rules.slotDurationMinutes * MINUTE_MS;
  const working = dates.flatMap((date) =>
    hoursOn(rules, date).map((h) => ({ start: luxonInstant(date, h.start, zone), end: luxonInstant(date, h.end, zone) })),
  );
  const wallChecks = Math.max(1, Math.ceil(slots.length / 40));
  const found: string[] = [];
  const fail = (slot: Slot, what: string) => found.push(`${new Date(slot.start).toISOString()}: ${what}`);

  slots.forEach((slot, i) => {
    if (slot.end - slot.start !== duration) fail(slot, 'does not last exactly the slot duration');
    if (slot.start < now + rules.minimumNoticeMinutes * MINUTE_MS) fail(slot, 'starts before now + minimum notice');
    if (slot.start >= now + rules.bookingHorizonDays * DAY_MS) fail(slot, 'starts beyond the booking horizon');
    if (i > 0 && slot.start < slots[i - 1].end) fail(slot, 'overlaps the previous slot (or is out of order)');
    const from = slot.start - rules.bufferBeforeMinutes * MINUTE_MS;
    const to = slot.end + rules.bufferAfterMinutes * MINUTE_MS;
    if (busy.some((b) => b.start < b.end && b.start < to && b.end > from)) fail(slot, 'overlaps a busy range (with buffers)');
    if (!working.some((w) => w.start <= slot.start && slot.end <= w.end)) fail(slot, 'is not inside a working interval');
    // on a day without an offset change, inside working hours in plain wall-clock terms too
    if (i % wallChecks === 0) {
      const local = DateTime.fromMillis(slot.start, { zone });
      const date = local.toISODate() ?? '';
      const dayStart = luxonInstant(date, 0, zone);
      const dayEnd = luxonInstant(date, 1440, zone);
      if (dates.includes(date) && dayEnd - dayStart === DAY_MS && local.offset === DateTime.fromMillis(dayEnd, { zone }).offset) {
        const minute = local.hour * 60 + local.minute + local.second / 60 + local.millisecond / MINUTE_MS;
        if (!hoursOn(rules, date).some((h) => h.start <= minute && minute + rules.slotDurationMinutes <= h.end)) {
          fail(slot, `is outside the working hours of ${date} in wall-clock time`);
        }
      }
    }
  });
  return found;
}

describe('computeSlots properties (random zones, schedules, busy ranges, now)', () => {
  it('every slot is inside working hours, clear of busy ranges and of other slots, exactly one duration long, and respects notice and horizon', () => {
    fc.assert(
      fc.property(inputArb, ({ input, dates }) => {
        expect(violations(computeSlots(input), input, dates)).toEqual([]);
      }),
      { numRuns: 250 },
    );
  });

  it('equals naiveComputeSlots (the design card algorithm) on random inputs', () => {
    fc.assert(
      fc.property(inputArb, ({ input }) => {
        expect(computeSlots(input)).toEqual(naiveComputeSlots(input));
      }),
      { numRuns: 400 },
    );
  });

  it('does not depend on the order of busy ranges, and a wider query range returns a superset', () => {
    fc.assert(
      fc.property(inputArb, ({ input }) => {
        const result = computeSlots(input);
        expect(computeSlots({ ...input, busy: [...input.busy].reverse() })).toEqual(result);
        const wider = computeSlots({
          ...input,
          from: DateTime.fromISO(input.from).minus({ days: 1 }).toISODate() ?? '',
          to: DateTime.fromISO(input.to).plus({ days: 1 }).toISODate() ?? '',
        });
        const starts = new Set(wider.map((s) => s.start));
        for (const slot of result) expect(starts.has(slot.start)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('for a client in any zone, computeSlotsForClientDates returns exactly the slots starting on the client dates (luxon)', () => {
    fc.assert(
      fc.property(inputArb, fc.constantFrom(...PROPERTY_ZONES), fc.integer({ min: 0, max: 2 }), ({ input }, clientZone, extra) => {
        const clientFrom = input.from;
        const clientTo = DateTime.fromISO(input.from).plus({ days: extra }).toISODate() ?? '';
        const result = computeSlotsForClientDates({ ...input, from: clientFrom, to: clientTo, clientZone });
        // oracle: a generous provider range, filtered by the client-local date of each start
        const wide = naiveComputeSlots({
          ...input,
          from: DateTime.fromISO(clientFrom).minus({ days: 1 }).toISODate() ?? '',
          to: DateTime.fromISO(clientTo).plus({ days: 1 }).toISODate() ?? '',
        });
        const expected = wide.filter((slot) => {
          const date = DateTime.fromMillis(slot.start, { zone: clientZone }).toISODate() ?? '';
          return date >= clientFrom && date <= clientTo;
        });
        expect(result).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it('clientSlotsUnchangedUntil: the answer is the same for every later now before that instant, and loses its first slot at it', () => {
    fc.assert(
      fc.property(
        inputArb,
        fc.constantFrom(...PROPERTY_ZONES),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 6 }),
        ({ input }, clientZone, fractions) => {
          const query = { ...input, clientZone };
          const slots = computeSlotsForClientDates(query);
          const until = clientSlotsUnchangedUntil({ ...query, slots });
          expect(until).toBeGreaterThanOrEqual(query.now);
          // Later instants before `until` (capped 40 days on when nothing is left to remove), both ends included.
          const last = Math.min(until, query.now + 40 * DAY_MS) - 1;
          for (const f of [0, 1, ...fractions]) {
            const later = Math.floor(query.now + f * (last - query.now));
            if (later < query.now) continue;
            expect(computeSlotsForClientDates({ ...query, now: later })).toEqual(slots);
          }
          if (until > query.now && until !== Infinity) {
            expect(computeSlotsForClientDates({ ...query, now: until })).toEqual(slots.slice(1));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
