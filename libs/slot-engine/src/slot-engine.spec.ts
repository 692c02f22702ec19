import { computeSlots, resolveWorkingIntervals } from './slot-engine';
import { naiveComputeSlots } from './naive-slot-engine';
import { ComputeSlotsInput } from './compute-input';
import { LONG_AGO, localStarts, rules, utc, utcStarts, validationError } from './testing/slot-engine-fixtures';

/** computeSlots, also checked against the naive oracle on every example. */
function slots(input: ComputeSlotsInput) {
  const result = computeSlots(input);
  expect(naiveComputeSlots(input)).toEqual(result);
  return result;
}

describe('computeSlots — ordinary days', () => {
  it('given a New York provider working 09:00-17:00, when a summer Monday is queried, then 8 hourly slots 13:00Z-20:00Z', () => {
    // given
    const provider = rules();
    // when
    const result = slots({ rules: provider, busy: [], from: '2026-06-15', to: '2026-06-15', now: LONG_AGO });
    // then
    expect(utcStarts(result)).toEqual([
      '2026-06-15T13:00Z', '2026-06-15T14:00Z', '2026-06-15T15:00Z', '2026-06-15T16:00Z',
      '2026-06-15T17:00Z', '2026-06-15T18:00Z', '2026-06-15T19:00Z', '2026-06-15T20:00Z',
    ]);
    expect(result[0]).toEqual({ start: utc('2026-06-15T13:00'), end: utc('2026-06-15T14:00') });
  });

  it('given a weekend day with no hours, then no slots', () => {
    expect(slots({ rules: rules(), busy: [], from: '2026-06-13', to: '2026-06-14', now: LONG_AGO })).toEqual([]);
  });

  it('given two intervals a day and 90-minute slots, then the grid restarts at each interval and leftovers are unused', () => {
    const provider = rules({ slotDurationMinutes: 90, workingHours: { MON: [['09:00', '12:00'], ['13:00', '17:00']] } });
    const result = slots({ rules: provider, busy: [], from: '2026-06-15', to: '2026-06-15', now: LONG_AGO });
    // 09:00, 10:30 | 13:00, 14:30 (16:00 would end at 17:30) — EDT is UTC-4
    expect(utcStarts(result)).toEqual(['2026-06-15T13:00Z', '2026-06-15T14:30Z', '2026-06-15T17:00Z', '2026-06-15T18:30Z']);
  });

  it('given the slots of several days, then they are sorted by start across days', () => {
    const result = slots({ rules: rules({ slotDurationMinutes: 240 }), busy: [], from: '2026-06-15', to: '2026-06-17', now: LONG_AGO });
    expect(utcStarts(result)).toEqual([
      '2026-06-15T13:00Z', '2026-06-15T17:00Z',
      '2026-06-16T13:00Z', '2026-06-16T17:00Z',
      '2026-06-17T13:00Z', '2026-06-17T17:00Z',
    ]);
  });
});

describe('computeSlots — daylight-saving time in America/New_York', () => {
  it('given the spring-forward day (02:00 -> 03:00), when hours are 01:00-04:00, then the day is one hour shorter and no slot starts in the gap', () => {
    const provider = rules({ slotDurationMinutes: 30, workingHours: { SUN: ['01:00', '04:00'] } });
    const result = slots({ rules: provider, busy: [], from: '2026-03-08', to: '2026-03-08', now: LONG_AGO });
    expect(utcStarts(result)).toEqual(['2026-03-08T06:00Z', '2026-03-08T06:30Z', '2026-03-08T07:00Z', '2026-03-08T07:30Z']);
    expect(localStarts(result, 'America/New_York')).toEqual([
      '2026-03-08T01:00-05:00', '2026-03-08T01:30-05:00', '2026-03-08T03:00-04:00', '2026-03-08T03:30-04:00',
    ]);
    for (const slot of result) expect(slot.end - slot.start).toBe(30 * 60_000);
  });

  it('given an interval starting in the gap (02:30), then it starts at 03:30 EDT', () => {
    const provider = rules({ slotDurationMinutes: 30, workingHours: { SUN: ['02:30', '05:00'] } });
    const result = slots({ rules: provider, busy: [], from: '2026-03-08', to: '2026-03-08', now: LONG_AGO });
    expect(localStarts(result, 'America/New_York')).toEqual(['2026-03-08T03:30-04:00', '2026-03-08T04:00-04:00', '2026-03-08T04:30-04:00']);
  });

  it('given a gap-shifted interval that would overlap the next one, then the next one starts where it ends (no overlapping slots)', () => {
    // 02:00-02:30 becomes 03:00-03:30 EDT, which overlaps 03:00-04:00: the second interval starts at 03:30.
    const provider = rules({ slotDurationMinutes: 30, workingHours: { SUN: [['02:00', '02:30'], ['03:00', '04:00']] } });
    const result = slots({ rules: provider, busy: [], from: '2026-03-08', to: '2026-03-08', now: LONG_AGO });
    expect(localStarts(result, 'America/New_York')).toEqual(['2026-03-08T03:00-04:00', '2026-03-08T03:30-04:00']);
    expect(resolveWorkingIntervals(provider, '2026-03-08', '2026-03-08')).toEqual([
      { date: '2026-03-08', start: utc('2026-03-08T07:00'), end: utc('2026-03-08T07:30') },
      { date: '2026-03-08', start: utc('2026-03-08T07:30'), end: utc('2026-03-08T08:00') },
    ]);
  });

  it('given the fall-back day (01:00-02:00 twice), when hours are 00:00-04:00, then the day has one more hour and the repeated hour is offered twice', () => {
    const provider = rules({ workingHours: { SUN: ['00:00', '04:00'] } });
    const result = slots({ rules: provider, busy: [], from: '2026-11-01', to: '2026-11-01', now: LONG_AGO });
    expect(utcStarts(result)).toEqual([
      '2026-11-01T04:00Z', '2026-11-01T05:00Z', '2026-11-01T06:00Z', '2026-11-01T07:00Z', '2026-11-01T08:00Z',
    ]);
    expect(localStarts(result, 'America/New_York')).toEqual([
      '2026-11-01T00:00-04:00', '2026-11-01T01:00-04:00', '2026-11-01T01:00-05:00', '2026-11-01T02:00-05:00', '2026-11-01T03:00-05:00',
    ]);
  });

  it('given an interval starting in the repeated hour (01:30), then it starts at the FIRST 01:30 (EDT) and slots never overlap', () => {
    const provider = rules({ slotDurationMinutes: 30, workingHours: { SUN: ['01:30', '03:00'] } });
    const result = slots({ rules: provider, busy: [], from: '2026-11-01', to: '2026-11-01', now: LONG_AGO });
    expect(localStarts(result, 'America/New_York')).toEqual([
      '2026-11-01T01:30-04:00', '2026-11-01T01:00-05:00', '2026-11-01T01:30-05:00', '2026-11-01T02:00-05:00', '2026-11-01T02:30-05:00',
    ]);
    for (let i = 1; i < result.length; i++) expect(result[i].start).toBeGreaterThanOrEqual(result[i - 1].end);
  });
});

describe('computeSlots — a transition on an offset-block boundary', () => {
  // Found by the property test against the naive engine: the zone index lost a transition that fell
  // exactly on the first instant of one of its 8-day blocks, and the day ran an hour too long.
  it('given Asia/Gaza springing forward at 2027-03-27T00:00Z, when a provider works 00:00-11:45 that Saturday, then 10 h 45 min of slots, as the naive engine says', () => {
    const input: ComputeSlotsInput = {
      rules: rules({ timezone: 'Asia/Gaza', slotDurationMinutes: 5, workingHours: { SAT: ['00:00', '11:45'] } }),
      busy: [],
      from: '2027-03-27',
      to: '2027-03-27',
      now: LONG_AGO,
    };
    const result = slots(input);
    expect(result).toHaveLength(129);
    expect(result[0].start).toBe(utc('2027-03-26T22:00'));
    expect(result[result.length - 1].end).toBe(utc('2027-03-27T08:45'));
    expect(result).toEqual(naiveComputeSlots(input));
  });
});

describe('computeSlots — intervals ending at 24:00', () => {
  it('given hours 20:00-24:00, then the last slot ends at the next local midnight', () => {
    const provider = rules({ workingHours: { FRI: ['20:00', '24:00'] } });
    const result = slots({ rules: provider, busy: [], from: '2026-06-19', to: '2026-06-19', now: LONG_AGO });
    expect(utcStarts(result)).toEqual(['2026-06-20T00:00Z', '2026-06-20T01:00Z', '2026-06-20T02:00Z', '2026-06-20T03:00Z']);
    expect(result[3].end).toBe(utc('2026-06-20T04:00')); // 2026-06-20 00:00 EDT
  });

  it('given 24:00 the night before a midnight spring-forward (Atlantic/Azores, 00:00 -> 01:00), then 24:00 is the next day\'s start, 01:00 +00:00', () => {
    const provider = rules({ timezone: 'Atlantic/Azores', workingHours: { SAT: ['22:00', '24:00'], SUN: ['00:00', '03:00'] } });
    const result = slots({ rules: provider, busy: [], from: '2026-03-28', to: '2026-03-29', now: LONG_AGO });
    expect(utcStarts(result)).toEqual([
      '2026-03-28T23:00Z', '2026-03-29T00:00Z', // Saturday 22:00, 23:00 (-01:00)
      '2026-03-29T01:00Z', '2026-03-29T02:00Z', // Sunday starts at 01:00 (+00:00); 00:00 does not exist
    ]);
  });
});

describe('computeSlots — half- and quarter-hour zones', () => {
  it('given Asia/Kolkata (+05:30), then 09:00 local is 03:30Z', () => {
    const provider = rules({ timezone: 'Asia/Kolkata', workingHours: { MON: ['09:00', '11:00'] } });
    expect(utcStarts(slots({ rules: provider, busy: [], from: '2026-06-15', to: '2026-06-15', now: LONG_AGO }))).toEqual([
      '2026-06-15T03:30Z', '2026-06-15T04:30Z',
    ]);
  });

  it('given Asia/Kathmandu (+05:45), then 09:00 local is 03:15Z', () => {
    const provider = rules({ timezone: 'Asia/Kathmandu', workingHours: { MON: ['09:00', '11:00'] } });
    expect(utcStarts(slots({ rules: provider, busy: [], from: '2026-06-15', to: '2026-06-15', now: LONG_AGO }))).toEqual([
      '2026-06-15T03:15Z', '2026-06-15T04:15Z',
    ]);
  });

  it('given Australia/Lord_Howe on its 30-minute spring-forward day (02:00 -> 02:30), then 01:00-04:00 holds 2.5 hours of slots', () => {
    const provider = rules({ timezone: 'Australia/Lord_Howe', slotDurationMinutes: 30, workingHours: { SUN: ['01:00', '04:00'] } });
    const result = slots({ rules: provider, busy: [], from: '2026-10-04', to: '2026-10-04', now: LONG_AGO });
    expect(utcStarts(result)).toEqual([
      '2026-10-03T14:30Z', '2026-10-03T15:00Z', '2026-10-03T15:30Z', '2026-10-03T16:00Z', '2026-10-03T16:30Z',
    ]);
    expect(localStarts(result, 'Australia/Lord_Howe')).toEqual([
      '2026-10-04T01:00+10:30', '2026-10-04T01:30+10:30', '2026-10-04T02:30+11:00', '2026-10-04T03:00+11:00', '2026-10-04T03:30+11:00',
    ]);
  });

  it('given Australia/Lord_Howe on its fall-back day (01:30-02:00 twice), then an interval from 01:45 starts at the first 01:45', () => {
    const provider = rules({ timezone: 'Australia/Lord_Howe', slotDurationMinutes: 15, workingHours: { SUN: ['01:45', '03:00'] } });
    const result = slots({ rules: provider, busy: [], from: '2026-04-05', to: '2026-04-05', now: LONG_AGO });
    expect(localStarts(result, 'Australia/Lord_Howe')).toEqual([
      '2026-04-05T01:45+11:00',
      '2026-04-05T01:30+10:30', '2026-04-05T01:45+10:30',
      '2026-04-05T02:00+10:30', '2026-04-05T02:15+10:30', '2026-04-05T02:30+10:30', '2026-04-05T02:45+10:30',
    ]);
  });

  it('given Pacific/Chatham (+12:45), then 09:00 local is 20:15Z the previous UTC day', () => {
    const provider = rules({ timezone: 'Pacific/Chatham', slotDurationMinutes: 30, workingHours: { MON: ['09:00', '10:00'] } });
    expect(utcStarts(slots({ rules: provider, busy: [], from: '2026-06-15', to: '2026-06-15', now: LONG_AGO }))).toEqual([
      '2026-06-14T20:15Z', '2026-06-14T20:45Z',
    ]);
  });

  it('given Pacific/Chatham on its spring-forward day (02:45 -> 03:45, +12:45 -> +13:45), then 02:00-05:00 holds two hours', () => {
    const provider = rules({ timezone: 'Pacific/Chatham', workingHours: { SUN: ['02:00', '05:00'] } });
    const result = slots({ rules: provider, busy: [], from: '2026-09-27', to: '2026-09-27', now: LONG_AGO });
    expect(utcStarts(result)).toEqual(['2026-09-26T13:15Z', '2026-09-26T14:15Z']);
    expect(localStarts(result, 'Pacific/Chatham')).toEqual(['2026-09-27T02:00+12:45', '2026-09-27T04:00+13:45']);
  });
});

describe('computeSlots — busy ranges and buffers', () => {
  const monday = { from: '2026-06-15', to: '2026-06-15' };

  it('given busy ranges (unsorted, overlapping), then the slots they touch are removed', () => {
    const busy = [
      { start: utc('2026-06-15T16:30'), end: utc('2026-06-15T17:15') }, // 12:30-13:15 EDT
      { start: utc('2026-06-15T14:00'), end: utc('2026-06-15T14:30') }, // 10:00-10:30
      { start: utc('2026-06-15T16:00'), end: utc('2026-06-15T16:45') }, // 12:00-12:45 (overlaps the first)
    ];
    const result = slots({ rules: rules(), busy, ...monday, now: LONG_AGO });
    expect(utcStarts(result)).toEqual([
      '2026-06-15T13:00Z', '2026-06-15T15:00Z', '2026-06-15T18:00Z', '2026-06-15T19:00Z', '2026-06-15T20:00Z',
    ]);
  });

  it('given a busy range that only touches a slot (half-open ranges), then the slot stays', () => {
    const busy = [{ start: utc('2026-06-15T14:00'), end: utc('2026-06-15T15:00') }];
    const result = slots({ rules: rules({ workingHours: { MON: ['09:00', '12:00'] } }), busy, ...monday, now: LONG_AGO });
    expect(utcStarts(result)).toEqual(['2026-06-15T13:00Z', '2026-06-15T15:00Z']);
  });

  it('given an empty busy range, then it blocks nothing', () => {
    const busy = [{ start: utc('2026-06-15T13:30'), end: utc('2026-06-15T13:30') }];
    expect(slots({ rules: rules(), busy, ...monday, now: LONG_AGO })).toHaveLength(8);
  });

  it("given 15-minute buffers, then a slot is offered only if [start - 15 min, end + 15 min) is free", () => {
    // busy 10:00-10:30 EDT; hours 09:00-12:00
    const busy = [{ start: utc('2026-06-15T14:00'), end: utc('2026-06-15T14:30') }];
    const withoutBuffers = slots({ rules: rules({ workingHours: { MON: ['09:00', '13:00'] } }), busy, ...monday, now: LONG_AGO });
    expect(utcStarts(withoutBuffers)).toEqual(['2026-06-15T13:00Z', '2026-06-15T15:00Z', '2026-06-15T16:00Z']);

    const buffered = rules({ workingHours: { MON: ['09:00', '13:00'] }, bufferBeforeMinutes: 15, bufferAfterMinutes: 15 });
    const result = slots({ rules: buffered, busy, ...monday, now: LONG_AGO });
    // 09:00 needs free until 10:15 (busy from 10:00); 11:00 needs free from 10:45: ok
    expect(utcStarts(result)).toEqual(['2026-06-15T15:00Z', '2026-06-15T16:00Z']);
  });

  it('given a buffer before only, then a busy range ending exactly at start - buffer does not block', () => {
    const busy = [{ start: utc('2026-06-15T12:00'), end: utc('2026-06-15T12:30') }]; // ends 08:30 EDT
    const result = slots({ rules: rules({ workingHours: { MON: ['09:00', '10:00'] }, bufferBeforeMinutes: 30 }), busy, ...monday, now: LONG_AGO });
    expect(utcStarts(result)).toEqual(['2026-06-15T13:00Z']);
  });
});

describe('computeSlots — minimum notice and booking horizon', () => {
  const monday = { from: '2026-06-15', to: '2026-06-15' };

  it('given 60 minutes notice at 09:10 EDT, then the first slot is 11:00 EDT (10:00 starts before 10:10)', () => {
    const result = slots({ rules: rules({ minimumNoticeMinutes: 60 }), busy: [], ...monday, now: utc('2026-06-15T13:10') });
    expect(utcStarts(result)[0]).toBe('2026-06-15T15:00Z');
  });

  it('given now + notice exactly at a slot start, then that slot is offered', () => {
    const result = slots({ rules: rules({ minimumNoticeMinutes: 60 }), busy: [], ...monday, now: utc('2026-06-15T13:00') });
    expect(utcStarts(result)[0]).toBe('2026-06-15T14:00Z');
  });

  it('given no notice, then slots that already started are not offered', () => {
    const result = slots({ rules: rules(), busy: [], ...monday, now: utc('2026-06-15T13:00:00.001') });
    expect(utcStarts(result)[0]).toBe('2026-06-15T14:00Z');
  });

  it('given a 1-day horizon, then slots start strictly before now + 24 h', () => {
    const now = utc('2026-06-15T14:00');
    const result = slots({ rules: rules({ bookingHorizonDays: 1 }), busy: [], from: '2026-06-15', to: '2026-06-17', now });
    expect(utcStarts(result)).toEqual([
      '2026-06-15T14:00Z', '2026-06-15T15:00Z', '2026-06-15T16:00Z', '2026-06-15T17:00Z', '2026-06-15T18:00Z', '2026-06-15T19:00Z', '2026-06-15T20:00Z',
      '2026-06-16T13:00Z', // 14:00Z = now + 24 h is excluded
    ]);
  });

  it('given a query entirely beyond the horizon, then no slots', () => {
    expect(slots({ rules: rules({ bookingHorizonDays: 30 }), busy: [], from: '2026-06-15', to: '2026-06-19', now: utc('2026-01-01T00:00') })).toEqual([]);
  });
});

describe('computeSlots — date overrides', () => {
  const provider = rules({ dateOverrides: { '2026-12-24': [['09:00', '12:00']], '2026-12-25': [], '2026-12-26': [['10:00', '12:00']] } });

  it('given Christmas Eve with shorter hours, Christmas closed and a Saturday opened, then the overrides replace the weekday hours', () => {
    const result = slots({ rules: provider, busy: [], from: '2026-12-23', to: '2026-12-27', now: LONG_AGO });
    const perDay = (date: string) => localStarts(result, 'America/New_York').filter((s) => s.startsWith(date)).length;
    expect([perDay('2026-12-23'), perDay('2026-12-24'), perDay('2026-12-25'), perDay('2026-12-26'), perDay('2026-12-27')]).toEqual([8, 3, 0, 2, 0]);
    expect(localStarts(result, 'America/New_York').filter((s) => s.startsWith('2026-12-26'))).toEqual([
      '2026-12-26T10:00-05:00', '2026-12-26T11:00-05:00',
    ]);
  });
});

describe('computeSlots — validation', () => {
  const base = { rules: rules(), busy: [], now: LONG_AGO };

  it('given 31 days, then it is accepted', () => {
    expect(() => computeSlots({ ...base, from: '2026-01-01', to: '2026-01-31' })).not.toThrow();
  });

  it('given 32 days, then it is refused with the limit in the message', () => {
    const error = validationError(() => computeSlots({ ...base, from: '2026-01-01', to: '2026-02-01' }));
    expect(error.field).toBe('to');
    expect(error.issues[0].message).toBe('the range 2026-01-01..2026-02-01 spans 32 days; at most 31 days (inclusive) can be queried at once');
  });

  it('given to before from, then it is refused', () => {
    expect(validationError(() => computeSlots({ ...base, from: '2026-01-02', to: '2026-01-01' })).issues[0]).toEqual({
      field: 'to',
      message: 'must not be before from (2026-01-02); got 2026-01-01',
    });
  });

  it('given an impossible date, then it is refused', () => {
    expect(validationError(() => computeSlots({ ...base, from: '2026-02-30', to: '2026-03-01' })).field).toBe('from');
  });

  it('given a malformed busy range, then its index is reported', () => {
    const error = validationError(() =>
      computeSlots({ ...base, from: '2026-01-05', to: '2026-01-05', busy: [{ start: 0, end: 10 }, { start: 20, end: 10 }, { start: Number.NaN, end: 1 }] }),
    );
    expect(error.issues).toEqual([
      { field: 'busy[1]', message: 'end (10) must not be before start (20)' },
      { field: 'busy[2].start', message: 'must be a finite number of epoch milliseconds; got NaN' },
    ]);
  });

  it('given a non-numeric now, then it is refused', () => {
    expect(validationError(() => computeSlots({ ...base, from: '2026-01-05', to: '2026-01-05', now: Number.POSITIVE_INFINITY })).field).toBe('now');
  });

  it('given hand-built rules with an invalid zone or duration, then they are refused', () => {
    const bad = { ...rules(), timezone: 'EST', slotDurationMinutes: 0 };
    const error = validationError(() => computeSlots({ ...base, rules: bad, from: '2026-01-05', to: '2026-01-05' }));
    expect(error.issues.map((i) => i.field)).toEqual(['rules.timezone', 'rules.slotDurationMinutes']);
  });
});
