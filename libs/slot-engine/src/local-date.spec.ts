import { addDays, isLocalDate, isoWeekdayIndex, localDateFromEpochDay, parseLocalDate, tryEpochDay } from './local-date';
import { validationError } from './testing/slot-engine-fixtures';

describe('local dates', () => {
  it.each(['2026-03-08', '2024-02-29', '2000-02-29', '1970-01-01', '9999-12-31'])('accepts the real date %s', (date) => {
    expect(isLocalDate(date)).toBe(true);
    expect(localDateFromEpochDay(parseLocalDate(date, 'from'))).toBe(date);
  });

  it.each(['2026-02-29', '2026-02-30', '2026-13-01', '2026-00-10', '2026-04-31', '1900-02-29', '2026-3-8', '2026/03/08', '20260308', ' 2026-03-08', '', 20260308, null])(
    'rejects %p with a message saying what is expected',
    (value) => {
      const error = validationError(() => parseLocalDate(value, 'from'));
      expect(error.field).toBe('from');
      expect(error.issues[0].message).toMatch(/^must be a real calendar date written yyyy-MM-dd, such as 2026-12-24; got /);
    },
  );

  it('matches Date for epoch days and weekdays over four centuries', () => {
    for (let day = -146097; day <= 146097; day += 97) {
      const date = new Date(day * 86_400_000);
      expect(localDateFromEpochDay(day)).toBe(date.toISOString().slice(0, 10));
      expect(isoWeekdayIndex(day)).toBe((date.getUTCDay() + 6) % 7);
      expect(tryEpochDay(localDateFromEpochDay(day))).toBe(day);
    }
  });

  it('adds days across month and year ends', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
  });
});
