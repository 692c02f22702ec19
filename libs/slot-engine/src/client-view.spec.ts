import fc from 'fast-check';
import { DateTime } from 'luxon';
import {
  computeSlotsForClientDates,
  filterToClientDate,
  localDateSpan,
  providerDateRangeForClientDates,
  providerDatesForClientDate,
  renderSlot,
  renderSlots,
} from './client-view';
import { computeSlots } from './slot-engine';
import { LONG_AGO, localStarts, rules, utc, utcStarts, validationError } from './testing/slot-engine-fixtures';

describe('renderSlot', () => {
  it('given a slot and a Tokyo client, then UTC strings plus the Tokyo rendering and local date', () => {
    const slot = { start: utc('2026-12-01T14:00'), end: utc('2026-12-01T15:00') };
    expect(renderSlot(slot, 'Asia/Tokyo')).toEqual({
      start: '2026-12-01T14:00:00.000Z',
      end: '2026-12-01T15:00:00.000Z',
      local: { timeZone: 'Asia/Tokyo', start: '2026-12-01T23:00:00.000+09:00', end: '2026-12-02T00:00:00.000+09:00', date: '2026-12-01' },
    });
  });

  it('given a Kathmandu client, then the quarter-hour offset is shown', () => {
    const slot = { start: utc('2026-06-15T03:15'), end: utc('2026-06-15T04:15') };
    expect(renderSlot(slot, 'Asia/Kathmandu').local.start).toBe('2026-06-15T09:00:00.000+05:45');
  });

  it('given the repeated hour of a fall-back day, then both renderings carry their own offset', () => {
    const rendered = renderSlots(
      [{ start: utc('2026-11-01T05:00'), end: utc('2026-11-01T06:00') }, { start: utc('2026-11-01T06:00'), end: utc('2026-11-01T07:00') }],
      'America/New_York',
    );
    expect(rendered.map((r) => r.local.start)).toEqual(['2026-11-01T01:00:00.000-04:00', '2026-11-01T01:00:00.000-05:00']);
  });

  it('given a client zone that is not IANA, then it is refused on clientZone', () => {
    const error = validationError(() => renderSlot({ start: 0, end: 1 }, 'JST'));
    expect(error.field).toBe('clientZone');
    expect(error.issues[0].message).toMatch(/an IANA time zone name such as America\/New_York/);
  });
});

describe('client dates vs provider dates', () => {
  it('given a Tokyo client and a New York provider, then client 2026-12-01 covers provider 2026-11-30 and 2026-12-01', () => {
    expect(providerDatesForClientDate('2026-12-01', 'Asia/Tokyo', 'America/New_York')).toEqual(['2026-11-30', '2026-12-01']);
    expect(localDateSpan('2026-12-01', '2026-12-01', 'Asia/Tokyo')).toEqual({ start: utc('2026-11-30T15:00'), end: utc('2026-12-01T15:00') });
  });

  it('given the same zone, then one date', () => {
    expect(providerDatesForClientDate('2026-03-08', 'America/New_York', 'America/New_York')).toEqual(['2026-03-08']);
  });

  it('given a Los Angeles client and a Tokyo provider, then the provider dates run a day ahead', () => {
    expect(providerDatesForClientDate('2026-12-01', 'America/Los_Angeles', 'Asia/Tokyo')).toEqual(['2026-12-01', '2026-12-02']);
    expect(providerDateRangeForClientDates('2026-12-01', '2026-12-31', 'America/Los_Angeles', 'Asia/Tokyo')).toEqual({
      from: '2026-12-01',
      to: '2027-01-01',
    });
  });

  it('given a Tokyo client asking for 2026-12-01, then exactly the New York slots starting on 2026-12-01 in Tokyo', () => {
    // given a New York provider, Mon-Fri 09:00-17:00 EST (14:00Z-22:00Z)
    const provider = rules();
    // when the client's day is queried through the provider dates that cover it
    const dates = providerDatesForClientDate('2026-12-01', 'Asia/Tokyo', provider.timezone);
    const all = computeSlots({ rules: provider, busy: [], from: dates[0], to: dates[dates.length - 1], now: LONG_AGO });
    const result = filterToClientDate(all, '2026-12-01', 'Asia/Tokyo');
    // then Monday 10:00-16:00 EST (Tokyo 00:00-06:00) and Tuesday 09:00 EST (Tokyo 23:00)
    expect(utcStarts(result)).toEqual([
      '2026-11-30T15:00Z', '2026-11-30T16:00Z', '2026-11-30T17:00Z', '2026-11-30T18:00Z', '2026-11-30T19:00Z', '2026-11-30T20:00Z', '2026-11-30T21:00Z',
      '2026-12-01T14:00Z',
    ]);
    expect(localStarts(result, 'Asia/Tokyo')).toEqual([
      '2026-12-01T00:00+09:00', '2026-12-01T01:00+09:00', '2026-12-01T02:00+09:00', '2026-12-01T03:00+09:00', '2026-12-01T04:00+09:00',
      '2026-12-01T05:00+09:00', '2026-12-01T06:00+09:00', '2026-12-01T23:00+09:00',
    ]);
    // and the one-call helper agrees
    expect(computeSlotsForClientDates({ rules: provider, busy: [], from: '2026-12-01', to: '2026-12-01', clientZone: 'Asia/Tokyo', now: LONG_AGO })).toEqual(result);
  });

  it('given a client range of 31 days, then the helper may query 32 provider days', () => {
    const result = computeSlotsForClientDates({
      rules: rules(),
      busy: [],
      from: '2026-12-01',
      to: '2026-12-31',
      clientZone: 'Asia/Tokyo',
      now: LONG_AGO,
    });
    expect(utcStarts(result)[0]).toBe('2026-11-30T15:00Z');
    expect(utcStarts(result)[result.length - 1]).toBe('2026-12-31T14:00Z'); // Thursday 09:00 EST = Tokyo 23:00 on the 31st
  });

  it('given a client range of 32 days, then it is refused', () => {
    const error = validationError(() =>
      computeSlotsForClientDates({ rules: rules(), busy: [], from: '2026-12-01', to: '2027-01-01', clientZone: 'Asia/Tokyo', now: LONG_AGO }),
    );
    expect(error.field).toBe('to');
  });
});

describe('renderSlot agrees with luxon', () => {
  const zones = ['Asia/Tokyo', 'America/New_York', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham', 'America/St_Johns', 'UTC', 'Europe/London', 'America/Sao_Paulo'];
  it('for random instants around DST changes in many zones', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.parse('1990-01-01'), max: Date.parse('2040-01-01') }), fc.constantFrom(...zones), (ms, zone) => {
        const start = Math.floor(ms / 60_000) * 60_000;
        const rendered = renderSlot({ start, end: start + 30 * 60_000 }, zone);
        const luxonStart = DateTime.fromMillis(start, { zone });
        expect(rendered.local.start).toBe(luxonStart.toISO());
        expect(rendered.local.end).toBe(DateTime.fromMillis(start + 30 * 60_000, { zone }).toISO());
        expect(rendered.local.date).toBe(luxonStart.toISODate());
      }),
      { numRuns: 2000 },
    );
  });
});

describe('renderSlot writes UTC instants exactly as toISOString does', () => {
  it('for random millisecond instants, including years before 1000 and after 9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e14, max: 4e14 }), (start) => {
        const rendered = renderSlot({ start, end: start + 3_600_000 }, 'UTC');
        expect(rendered.start).toBe(new Date(start).toISOString());
        expect(rendered.end).toBe(new Date(start + 3_600_000).toISOString());
      }),
      { numRuns: 3000 },
    );
  });

  it('for every millisecond of a day boundary and a leap day', () => {
    for (const base of [Date.parse('2028-02-29T23:59:59.000Z'), Date.parse('1999-12-31T23:59:59.990Z')]) {
      for (let ms = base; ms < base + 1500; ms += 7) {
        const rendered = renderSlot({ start: ms, end: ms + 1 }, 'Asia/Kolkata');
        expect(rendered.start).toBe(new Date(ms).toISOString());
        expect(rendered.local.start).toBe(DateTime.fromMillis(ms, { zone: 'Asia/Kolkata' }).toISO());
      }
    }
  });
});

