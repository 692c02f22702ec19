import { formatDayHours, parseDateOverrides, parseDayHours, parseTimeOfDay, parseWorkingHours } from './working-hours';
import { validationError } from './testing/slot-engine-fixtures';

describe('parseTimeOfDay', () => {
  it.each([
    ['00:00', 0],
    ['09:30', 570],
    ['23:59', 1439],
  ])('accepts %s as %i minutes', (value, minutes) => {
    expect(parseTimeOfDay(value, 't')).toBe(minutes);
  });

  it('accepts 24:00 as an end time only', () => {
    expect(parseTimeOfDay('24:00', 't', 'end')).toBe(1440);
    const error = validationError(() => parseTimeOfDay('24:00', 'workingHours.MON[0]', 'start'));
    expect(error.field).toBe('workingHours.MON[0]');
    expect(error.issues[0].message).toBe('24:00 is only allowed as an end time (midnight at the end of the day); got "24:00" as a start');
  });

  it.each(['9:00', '09:0', '0900', '09:60', '24:01', '25:00', '-1:00', '09:00:00', ' 09:00', '', 900, null, undefined])(
    'rejects the malformed time %p',
    (value) => {
      const error = validationError(() => parseTimeOfDay(value, 'f', 'end'));
      expect(error.field).toBe('f');
      expect(error.issues[0].message).toMatch(
        /^must be a time written HH:mm between 00:00 and 23:59 \(24:00 is allowed as an end time\); got /,
      );
    },
  );
});

describe('parseDayHours', () => {
  it("accepts the design card's single interval", () => {
    expect(parseDayHours(['09:00', '17:00'], 'd')).toEqual([{ start: 540, end: 1020 }]);
  });

  it('accepts several intervals and sorts them', () => {
    expect(parseDayHours([['13:00', '17:00'], ['09:00', '12:00']], 'd')).toEqual([
      { start: 540, end: 720 },
      { start: 780, end: 1020 },
    ]);
  });

  it('accepts touching intervals and an interval ending at 24:00', () => {
    expect(parseDayHours([['09:00', '12:00'], ['12:00', '24:00']], 'd')).toEqual([
      { start: 540, end: 720 },
      { start: 720, end: 1440 },
    ]);
  });

  it('accepts [] as a day off', () => {
    expect(parseDayHours([], 'd')).toEqual([]);
  });

  it('rejects an inverted interval', () => {
    const error = validationError(() => parseDayHours(['17:00', '09:00'], 'workingHours.MON'));
    expect(error.issues).toEqual([
      {
        field: 'workingHours.MON',
        message: 'end 09:00 must be after start 17:00 (an interval cannot cross midnight; use 24:00 to end at midnight)',
      },
    ]);
  });

  it('rejects an empty interval (end equal to start)', () => {
    expect(validationError(() => parseDayHours([['09:00', '09:00']], 'd')).issues[0].message).toMatch(/^end 09:00 must be after start 09:00/);
  });

  it('rejects overlapping intervals', () => {
    const error = validationError(() => parseDayHours([['09:00', '13:00'], ['12:00', '17:00']], 'workingHours.TUE'));
    expect(error.issues).toEqual([{ field: 'workingHours.TUE', message: 'intervals 09:00-13:00 and 12:00-17:00 overlap' }]);
  });

  it('points at the malformed element', () => {
    const error = validationError(() => parseDayHours([['09:00', '12:00'], ['13:00', '5pm']], 'workingHours.WED'));
    expect(error.field).toBe('workingHours.WED[1][1]');
  });

  it.each([
    ['a string', '09:00-17:00', /^must be one interval \["09:00","17:00"\], a list of intervals .* or \[\] for a day off; got "09:00-17:00"$/],
    ['null', null, /; got null$/],
    ['three times', ['09:00', '12:00', '17:00'], /^must be an interval \[start, end\] such as \["09:00","17:00"\]; got an array$/],
    ['a mixed list', ['09:00', ['12:00', '13:00']], /got a list mixing times and intervals$/],
    ['a one-element interval', [['09:00']], /^must be an interval \[start, end\]/],
  ])('rejects %s', (_what, value, message) => {
    const error = validationError(() => parseDayHours(value, 'd'));
    expect(error.issues[0].message).toMatch(message);
  });

  it('round-trips through formatDayHours', () => {
    const input: Array<[string, string]> = [['09:00', '12:00'], ['13:30', '24:00']];
    expect(formatDayHours(parseDayHours(input, 'd'))).toEqual(input);
  });
});

describe('parseWorkingHours', () => {
  it('fills in missing days as days off', () => {
    const hours = parseWorkingHours({ MON: ['09:00', '17:00'], SAT: [['10:00', '12:00'], ['13:00', '15:00']] });
    expect(hours).toEqual({
      MON: [{ start: 540, end: 1020 }],
      TUE: [],
      WED: [],
      THU: [],
      FRI: [],
      SAT: [{ start: 600, end: 720 }, { start: 780, end: 900 }],
      SUN: [],
    });
  });

  it('rejects keys other than MON..SUN, hinting at upper case', () => {
    const error = validationError(() => parseWorkingHours({ mon: ['09:00', '17:00'], MONDAY: [], HOL: [] }));
    expect(error.issues).toEqual([
      { field: 'workingHours.mon', message: 'is not a weekday key; expected one of MON, TUE, WED, THU, FRI, SAT, SUN (keys are upper case: "MON")' },
      { field: 'workingHours.MONDAY', message: 'is not a weekday key; expected one of MON, TUE, WED, THU, FRI, SAT, SUN' },
      { field: 'workingHours.HOL', message: 'is not a weekday key; expected one of MON, TUE, WED, THU, FRI, SAT, SUN' },
    ]);
  });

  it('reports the problems of every day at once', () => {
    const error = validationError(() => parseWorkingHours({ MON: ['17:00', '09:00'], FRI: ['9', '17:00'] }));
    expect(error.issues.map((i) => i.field)).toEqual(['workingHours.MON', 'workingHours.FRI[0]']);
  });

  it.each([null, [], 'MON 9-5', 42])('rejects %p as a whole', (value) => {
    const error = validationError(() => parseWorkingHours(value));
    expect(error.field).toBe('workingHours');
    expect(error.issues[0].message).toMatch(/^must be an object keyed by weekday, such as \{"MON":\["09:00","17:00"\]\}; got /);
  });
});

describe('parseDateOverrides', () => {
  it('accepts other hours and closed days', () => {
    expect(parseDateOverrides({ '2026-12-24': [['09:00', '12:00']], '2026-12-25': [] })).toEqual({
      '2026-12-24': [{ start: 540, end: 720 }],
      '2026-12-25': [],
    });
  });

  it('accepts the single-interval shape too', () => {
    expect(parseDateOverrides({ '2026-12-31': ['10:00', '14:00'] })).toEqual({ '2026-12-31': [{ start: 600, end: 840 }] });
  });

  it.each(['2026-02-30', '2026-12-1', '24/12/2026', 'christmas'])('rejects the date key %s', (key) => {
    const error = validationError(() => parseDateOverrides({ [key]: [] }));
    expect(error.issues).toEqual([
      { field: `dateOverrides.${key}`, message: 'is not a date key; expected a real calendar date written yyyy-MM-dd, such as 2026-12-24' },
    ]);
  });

  it('validates the hours like a weekday', () => {
    const error = validationError(() => parseDateOverrides({ '2026-12-24': [['09:00', '12:00'], ['11:00', '13:00']] }));
    expect(error.issues).toEqual([{ field: 'dateOverrides.2026-12-24', message: 'intervals 09:00-12:00 and 11:00-13:00 overlap' }]);
  });

  it('rejects a non-object', () => {
    expect(validationError(() => parseDateOverrides([])).issues[0].message).toMatch(/^must be an object keyed by date/);
  });
});
