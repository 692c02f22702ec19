import { parseProviderRules } from './provider-rules';
import { validationError } from './testing/slot-engine-fixtures';

const valid = {
  timezone: 'America/New_York',
  slotDurationMinutes: 30,
  workingHours: { MON: ['09:00', '17:00'], TUE: [['09:00', '12:00'], ['13:00', '17:00']] },
  dateOverrides: { '2026-12-24': [['09:00', '12:00']], '2026-12-25': [] },
  bufferBeforeMinutes: 10,
  bufferAfterMinutes: 5,
  minimumNoticeMinutes: 120,
  bookingHorizonDays: 60,
};

describe('parseProviderRules', () => {
  it('given a complete design-card provider, then it is normalized', () => {
    const rules = parseProviderRules(valid);
    expect(rules).toEqual({
      timezone: 'America/New_York',
      slotDurationMinutes: 30,
      workingHours: {
        MON: [{ start: 540, end: 1020 }],
        TUE: [{ start: 540, end: 720 }, { start: 780, end: 1020 }],
        WED: [],
        THU: [],
        FRI: [],
        SAT: [],
        SUN: [],
      },
      dateOverrides: { '2026-12-24': [{ start: 540, end: 720 }], '2026-12-25': [] },
      bufferBeforeMinutes: 10,
      bufferAfterMinutes: 5,
      minimumNoticeMinutes: 120,
      bookingHorizonDays: 60,
    });
    expect(Object.isFrozen(rules)).toBe(true);
  });

  it('given only the required fields, then overrides, buffers and notice default to none', () => {
    const rules = parseProviderRules({ timezone: 'UTC', slotDurationMinutes: 15, workingHours: {}, bookingHorizonDays: 1 });
    expect(rules).toMatchObject({ dateOverrides: {}, bufferBeforeMinutes: 0, bufferAfterMinutes: 0, minimumNoticeMinutes: 0 });
  });

  it('given nothing, then every required field is reported', () => {
    const error = validationError(() => parseProviderRules({}));
    expect(error.issues).toEqual([
      { field: 'timezone', message: 'is required (an IANA time zone name such as America/New_York)' },
      { field: 'slotDurationMinutes', message: 'is required (an integer between 5 and 480)' },
      { field: 'workingHours', message: 'is required (such as {"MON":["09:00","17:00"]})' },
      { field: 'bookingHorizonDays', message: 'is required (an integer between 1 and 730)' },
    ]);
  });

  it.each([null, 'rules', [], 3])('given %p, then it asks for an object', (input) => {
    expect(validationError(() => parseProviderRules(input)).issues[0].message).toMatch(/^must be an object with timezone/);
  });

  it.each([
    ['timezone', 'EST', /which is an abbreviation/],
    ['timezone', '+05:00', /which is a fixed UTC offset/],
    ['slotDurationMinutes', 4, /^must be an integer between 5 and 480 \(minutes\); got 4$/],
    ['slotDurationMinutes', 481, /^must be an integer between 5 and 480 \(minutes\); got 481$/],
    ['slotDurationMinutes', 30.5, /got 30.5$/],
    ['slotDurationMinutes', '30', /got "30"$/],
    ['bufferBeforeMinutes', -1, /^must be an integer between 0 and 240 \(minutes\); got -1$/],
    ['bufferAfterMinutes', 241, /^must be an integer between 0 and 240 \(minutes\); got 241$/],
    ['minimumNoticeMinutes', -5, /^must be an integer >= 0 \(minutes\); got -5$/],
    ['bookingHorizonDays', 0, /^must be an integer between 1 and 730 \(days\); got 0$/],
    ['bookingHorizonDays', 731, /^must be an integer between 1 and 730 \(days\); got 731$/],
    ['bookingHorizonDays', Number.NaN, /got NaN$/],
  ])('rejects %s = %p', (field, value, message) => {
    const error = validationError(() => parseProviderRules({ ...valid, [field]: value }));
    expect(error.issues).toHaveLength(1);
    expect(error.field).toBe(field);
    expect(error.issues[0].message).toMatch(message);
  });

  it.each([
    [5, 0, 0, 0, 1],
    [480, 240, 240, 100_000, 730],
  ])('accepts the limits (slot %i, buffers %i/%i, notice %i, horizon %i)', (slot, before, after, notice, horizon) => {
    expect(() =>
      parseProviderRules({
        ...valid,
        slotDurationMinutes: slot,
        bufferBeforeMinutes: before,
        bufferAfterMinutes: after,
        minimumNoticeMinutes: notice,
        bookingHorizonDays: horizon,
      }),
    ).not.toThrow();
  });

  it('reports nested working-hours and override problems with their paths', () => {
    const error = validationError(() =>
      parseProviderRules({ ...valid, workingHours: { MON: ['09:00', '25:00'] }, dateOverrides: { '2026-02-30': [] } }),
    );
    expect(error.issues.map((i) => i.field)).toEqual(['workingHours.MON[1]', 'dateOverrides.2026-02-30']);
  });

  it('rejects unknown fields (usually typos)', () => {
    const error = validationError(() => parseProviderRules({ ...valid, bufferMinutes: 10 }));
    expect(error.issues).toEqual([
      {
        field: 'bufferMinutes',
        message:
          'is not a known field; expected timezone, slotDurationMinutes, workingHours, dateOverrides, bufferBeforeMinutes, bufferAfterMinutes, minimumNoticeMinutes, bookingHorizonDays',
      },
    ]);
  });

  it('reports all problems at once, in a message naming each field', () => {
    const error = validationError(() => parseProviderRules({ ...valid, timezone: 'PST', slotDurationMinutes: 0 }));
    expect(error.message).toMatch(/^timezone: must be an IANA time zone name .*; slotDurationMinutes: must be an integer between 5 and 480/);
  });
});
