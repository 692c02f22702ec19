import fc from 'fast-check';
import { formatDuration, formatInstant, formatMinutes, resolveAudience } from './format-time';

const newYork = { timeZone: 'America/New_York', locale: 'en-US' };
const tokyo = { timeZone: 'Asia/Tokyo', locale: 'en-US' };

describe('formatInstant', () => {
  it('renders one instant in each recipient’s zone, naming the zone', () => {
    const start = '2026-12-01T14:00:00.000Z';
    expect(formatInstant(start, newYork)).toBe('Tuesday, December 1, 2026 at 9:00 AM EST (America/New_York)');
    expect(formatInstant(start, tokyo)).toBe('Tuesday, December 1, 2026 at 11:00 PM GMT+9 (Asia/Tokyo)');
  });

  it('follows the recipient’s locale', () => {
    expect(formatInstant('2026-12-01T14:00:00.000Z', { timeZone: 'Asia/Tokyo', locale: 'ja-JP' })).toBe('2026年12月1日火曜日 23:00 JST (Asia/Tokyo)');
    expect(formatInstant('2026-12-01T14:00:00.000Z', { timeZone: 'Europe/Berlin', locale: 'de-DE' })).toBe(
      'Dienstag, 1. Dezember 2026 um 15:00 MEZ (Europe/Berlin)',
    );
  });

  it('tells the two 1:30 AMs of the New York fall-back night apart', () => {
    expect(formatInstant('2026-11-01T05:30:00.000Z', newYork)).toBe('Sunday, November 1, 2026 at 1:30 AM EDT (America/New_York)');
    expect(formatInstant('2026-11-01T06:30:00.000Z', newYork)).toBe('Sunday, November 1, 2026 at 1:30 AM EST (America/New_York)');
  });

  it('renders the instant after the spring-forward gap in the new offset', () => {
    // 2026-03-08 02:00 EST does not exist in New York; 07:00Z is 3:00 AM EDT.
    expect(formatInstant('2026-03-08T06:59:00.000Z', newYork)).toBe('Sunday, March 8, 2026 at 1:59 AM EST (America/New_York)');
    expect(formatInstant('2026-03-08T07:00:00.000Z', newYork)).toBe('Sunday, March 8, 2026 at 3:00 AM EDT (America/New_York)');
  });

  it('falls back to UTC for an unknown zone and to en-US for an unknown locale, still naming the zone', () => {
    expect(resolveAudience({ timeZone: 'Mars/Olympus_Mons', locale: 'not a locale!' })).toEqual({ zone: 'UTC', locale: 'en-US' });
    expect(formatInstant('2026-12-01T14:00:00.000Z', { timeZone: 'Mars/Olympus_Mons' })).toBe('Tuesday, December 1, 2026 at 2:00 PM UTC (UTC)');
  });

  it('refuses something that is not an instant', () => {
    expect(() => formatInstant('next Tuesday', newYork)).toThrow('not an ISO instant');
  });

  it('never renders two different minutes the same way in one zone, DST nights included (property)', () => {
    const zones = ['America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Tokyo', 'America/Santiago'];
    // Minutes around the 2026 transitions of those zones, where wall-clock times repeat or vanish.
    const around = (iso: string) => fc.integer({ min: -180, max: 180 }).map((m) => new Date(Date.parse(iso) + m * 60000).toISOString());
    const instant = fc.oneof(around('2026-11-01T06:00:00Z'), around('2026-10-25T01:00:00Z'), around('2026-04-04T15:00:00Z'), around('2026-04-05T03:00:00Z'));
    // Repeated wall-clock times are one DST shift apart (an hour; 30 minutes on Lord Howe Island).
    const apart = fc.oneof(fc.constantFrom(60, -60, 30, -30), fc.integer({ min: -360, max: 360 }).filter((m) => m !== 0));
    fc.assert(
      fc.property(fc.constantFrom(...zones), instant, apart, (zone, a, minutes) => {
        const b = new Date(Date.parse(a) + minutes * 60000).toISOString();
        expect(formatInstant(a, { timeZone: zone })).not.toBe(formatInstant(b, { timeZone: zone }));
      }),
      { numRuns: 500 },
    );
  });
});

describe('formatDuration', () => {
  it('measures on instants, so an hour across the fall-back change is one hour', () => {
    expect(formatDuration('2026-11-01T05:30:00.000Z', '2026-11-01T06:30:00.000Z')).toBe('1 hour');
    expect(formatDuration('2026-12-01T14:00:00.000Z', '2026-12-01T15:30:00.000Z')).toBe('1 hour, 30 minutes');
    expect(formatMinutes(1440)).toBe('24 hours');
    expect(formatMinutes(45)).toBe('45 minutes');
  });
});
