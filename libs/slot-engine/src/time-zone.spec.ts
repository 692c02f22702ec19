import fc from 'fast-check';
import { DateTime, IANAZone, Settings } from 'luxon';
import { assertIanaZone, clearTimeZoneCache, isIanaZone, localDateOf, resolveLocalTime, startOfLocalDay } from './time-zone';
import { PROPERTY_ZONES, luxonInstant, utc, validationError } from './testing/slot-engine-fixtures';

describe('isIanaZone / assertIanaZone', () => {
  it.each([
    'America/New_York',
    'Asia/Kolkata',
    'Asia/Calcutta',
    'Asia/Kathmandu',
    'Australia/Lord_Howe',
    'Pacific/Chatham',
    'America/Argentina/Buenos_Aires',
    'America/Port-au-Prince',
    'UTC',
    'Etc/UTC',
  ])('accepts %s', (name) => {
    expect(isIanaZone(name)).toBe(true);
    expect(assertIanaZone(name)).toBe(name);
  });

  it.each(['+05:00', '-03:30', 'UTC+5', 'UTC-03:00', 'GMT+1', 'GMT-10', 'Etc/GMT+5', 'Etc/GMT-14'])(
    'rejects the fixed offset %s (even where luxon accepts it)',
    (name) => {
      const error = validationError(() => assertIanaZone(name));
      expect(error.field).toBe('timezone');
      expect(error.issues[0].message).toBe(
        `must be an IANA time zone name such as America/New_York; got "${name}", which is a fixed UTC offset (fixed offsets ignore daylight-saving time)`,
      );
    },
  );

  it.each(['EST', 'PST', 'CET', 'GMT', 'IST', 'EST5EDT', 'PST8PDT'])('rejects the abbreviation %s (even where luxon accepts it)', (name) => {
    const error = validationError(() => assertIanaZone(name, 'clientZone'));
    expect(error.field).toBe('clientZone');
    expect(error.issues[0].message).toBe(
      `must be an IANA time zone name such as America/New_York; got "${name}", which is an abbreviation (abbreviations are ambiguous and ignore daylight-saving time; only UTC is accepted)`,
    );
  });

  it.each(['Mars/Olympus_Mons', 'America/Springfield', 'Japan', 'utc', 'new york', 'America/New York', ''])('rejects the unknown name %p', (name) => {
    expect(validationError(() => assertIanaZone(name)).issues[0].message).toBe(
      `must be an IANA time zone name such as America/New_York; got ${JSON.stringify(name)}, which is not a known IANA time zone in Area/Location form`,
    );
  });

  it('rejects a wrongly-cased name, suggesting the right one', () => {
    expect(validationError(() => assertIanaZone('America/NEW_YORK')).issues[0].message).toBe(
      'must be an IANA time zone name such as America/New_York; got "America/NEW_YORK" (names are case-sensitive: did you mean "America/New_York"?)',
    );
  });

  it('rejects Etc/ names other than Etc/UTC', () => {
    expect(validationError(() => assertIanaZone('Etc/GMT')).issues[0].message).toBe(
      'must be an IANA time zone name such as America/New_York (use UTC or Etc/UTC for UTC); got "Etc/GMT"',
    );
  });

  it.each([undefined, null, 5, {}])('rejects the non-string %p', (value) => {
    expect(isIanaZone(value)).toBe(false);
    expect(validationError(() => assertIanaZone(value)).issues[0].message).toMatch(/^must be an IANA time zone name such as America\/New_York; got /);
  });
});

describe('resolveLocalTime (DST rules)', () => {
  it('given an ordinary wall time, then it is that instant', () => {
    expect(resolveLocalTime('2026-06-15', 9 * 60, 'America/New_York')).toBe(utc('2026-06-15T13:00'));
    expect(resolveLocalTime('2026-06-15', 9 * 60, 'Asia/Kathmandu')).toBe(utc('2026-06-15T03:15'));
  });

  it('given a wall time in the spring-forward gap, then it is shifted forward by the gap (02:30 -> 03:30 EDT)', () => {
    expect(resolveLocalTime('2026-03-08', 2 * 60 + 30, 'America/New_York')).toBe(utc('2026-03-08T07:30'));
    expect(resolveLocalTime('2026-03-08', 2 * 60, 'America/New_York')).toBe(utc('2026-03-08T07:00')); // 03:00 EDT
    // Lord Howe jumps 30 minutes, 02:00 -> 02:30: 02:15 becomes 02:45 (+11:00)
    expect(resolveLocalTime('2026-10-04', 2 * 60 + 15, 'Australia/Lord_Howe')).toBe(utc('2026-10-03T15:45'));
  });

  it('given a wall time in the fall-back overlap, then the first occurrence wins', () => {
    expect(resolveLocalTime('2026-11-01', 60 + 30, 'America/New_York')).toBe(utc('2026-11-01T05:30')); // 01:30 EDT
    expect(resolveLocalTime('2026-04-05', 60 + 45, 'Australia/Lord_Howe')).toBe(utc('2026-04-04T14:45')); // 01:45 +11:00
    expect(resolveLocalTime('2026-04-05', 3 * 60, 'Pacific/Chatham')).toBe(utc('2026-04-04T13:15')); // 03:00 +13:45
  });

  it('sees a transition that falls exactly on the first instant of its 8-day offset block (Asia/Gaza, 2027-03-27T00:00Z)', () => {
    // The zone data this runs on must have the transition this test is about; if tz data changes, pick another.
    const at = utc('2027-03-27T00:00');
    expect(at % (8 * 86_400_000)).toBe(0);
    expect([DateTime.fromMillis(at - 1000, { zone: 'Asia/Gaza' }).offset, DateTime.fromMillis(at, { zone: 'Asia/Gaza' }).offset]).toEqual([120, 180]);
    clearTimeZoneCache();
    // Wall times after the jump (02:00 -> 03:00) resolve with +03:00, including from a cold cache built forward.
    expect(resolveLocalTime('2027-03-27', 11 * 60 + 45, 'Asia/Gaza')).toBe(utc('2027-03-27T08:45'));
    expect(resolveLocalTime('2027-03-27', 0, 'Asia/Gaza')).toBe(utc('2027-03-26T22:00'));
    expect(resolveLocalTime('2027-03-27', 2 * 60 + 30, 'Asia/Gaza')).toBe(utc('2027-03-27T00:30')); // in the gap: 03:30 +03:00
    for (const minutes of [0, 90, 180, 600, 1439]) {
      const expected = DateTime.fromObject({ year: 2027, month: 3, day: 27, hour: Math.floor(minutes / 60), minute: minutes % 60 }, { zone: 'Asia/Gaza' });
      expect(resolveLocalTime('2027-03-27', minutes, 'Asia/Gaza')).toBe(expected.toMillis());
    }
  });

  it('does not depend on the clock (luxon alone would: its overlap choice follows Settings.now)', () => {
    const original = Settings.now;
    try {
      for (const now of [utc('2026-01-15T12:00'), utc('2026-07-15T12:00')]) {
        Settings.now = () => now;
        clearTimeZoneCache();
        expect(resolveLocalTime('2026-11-01', 90, 'America/New_York')).toBe(utc('2026-11-01T05:30'));
      }
    } finally {
      Settings.now = original;
    }
  });

  it('treats 1440 minutes as the next local midnight, even when that midnight does not exist', () => {
    expect(resolveLocalTime('2026-06-19', 1440, 'America/New_York')).toBe(utc('2026-06-20T04:00'));
    // Azores springs forward at 00:00 -> 01:00 on 2026-03-29: the day starts at 01:00 (+00:00)
    expect(resolveLocalTime('2026-03-28', 1440, 'Atlantic/Azores')).toBe(utc('2026-03-29T01:00'));
    expect(startOfLocalDay('2026-03-29', 'Atlantic/Azores')).toBe(utc('2026-03-29T01:00'));
  });

  it('validates its arguments', () => {
    expect(validationError(() => resolveLocalTime('2026-02-30', 0, 'UTC')).field).toBe('date');
    expect(validationError(() => resolveLocalTime('2026-02-03', 1441, 'UTC')).field).toBe('minutesFromMidnight');
    expect(validationError(() => resolveLocalTime('2026-02-03', 0, 'EST')).field).toBe('zone');
  });

  it('property: agrees with luxon (gap shift, earliest occurrence) for any zone, date and minute', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PROPERTY_ZONES),
        fc.integer({ min: Date.UTC(2000, 0, 1) / 86_400_000, max: Date.UTC(2037, 11, 31) / 86_400_000 }),
        fc.integer({ min: 0, max: 1440 }),
        (zone, epochDay, minutes) => {
          const date = new Date(epochDay * 86_400_000).toISOString().slice(0, 10);
          expect(resolveLocalTime(date, minutes, zone)).toBe(luxonInstant(date, minutes, zone));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('agrees with luxon at every quarter hour of every 2026 day with a transition, in every test zone', () => {
    const dayMs = 86_400_000;
    const mismatches: unknown[] = [];
    let checked = 0;
    for (const zone of PROPERTY_ZONES) {
      const iana = IANAZone.create(zone);
      for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += dayMs) {
        if (iana.offset(t - 15 * 3_600_000) === iana.offset(t + dayMs + 15 * 3_600_000)) continue;
        const date = new Date(t).toISOString().slice(0, 10);
        for (let minutes = 0; minutes <= 1440; minutes += 15) {
          checked++;
          const expected = luxonInstant(date, minutes, zone);
          const actual = resolveLocalTime(date, minutes, zone);
          if (actual !== expected) mismatches.push({ zone, date, minutes, actual, expected });
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(5_000);
  });
});

describe('localDateOf', () => {
  it('gives the date in the zone', () => {
    expect(localDateOf(utc('2026-11-30T15:00'), 'Asia/Tokyo')).toBe('2026-12-01');
    expect(localDateOf(utc('2026-11-30T15:00'), 'America/New_York')).toBe('2026-11-30');
  });

  it('property: agrees with luxon for any instant and zone', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PROPERTY_ZONES), fc.integer({ min: utc('2000-01-01T00:00'), max: utc('2037-12-31T00:00') }), (zone, t) => {
        expect(localDateOf(t, zone)).toBe(DateTime.fromMillis(t, { zone }).toISODate());
      }),
      { numRuns: 500 },
    );
  });
});
