import fc from 'fast-check';
import { normalizeIsoUtc, parseIsoUtc, toIsoUtc } from './time';

describe('time', () => {
  it('toIsoUtc matches Date#toISOString for years 0000–9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62167219200000, max: 253402300799999 }), (ms) => {
        expect(toIsoUtc(ms)).toBe(new Date(ms).toISOString());
        expect(parseIsoUtc(toIsoUtc(ms))).toBe(ms);
      }),
      { numRuns: 2000 },
    );
  });

  it('handles leap days and epoch edges', () => {
    for (const iso of ['1970-01-01T00:00:00.000Z', '1969-12-31T23:59:59.999Z', '2000-02-29T12:00:00.000Z', '2024-02-29T23:59:59.999Z', '2100-03-01T00:00:00.000Z']) {
      expect(toIsoUtc(Date.parse(iso))).toBe(iso);
    }
  });

  it('accepts UTC instants with 0–3 fraction digits and normalises them', () => {
    expect(normalizeIsoUtc('2026-12-01T14:00:00Z')).toBe('2026-12-01T14:00:00.000Z');
    expect(normalizeIsoUtc('2026-12-01T14:00:00.5Z')).toBe('2026-12-01T14:00:00.500Z');
    expect(normalizeIsoUtc('2026-12-01T14:00:00.123Z')).toBe('2026-12-01T14:00:00.123Z');
  });

  it.each([
    '2026-12-01T14:00:00',
    '2026-12-01T14:00:00+01:00',
    '2026-12-01',
    '2026-02-29T00:00:00.000Z',
    '2026-11-31T00:00:00.000Z',
    '2026-12-01T24:00:00.000Z',
    '2026-12-01T14:60:00.000Z',
    '2026-12-01T14:00:00.1234Z',
    ' 2026-12-01T14:00:00.000Z',
    '',
    1796133600000,
    null,
    undefined,
  ])('rejects %j', (value) => {
    expect(parseIsoUtc(value)).toBeUndefined();
  });

  it('rejects non-integer milliseconds', () => {
    expect(() => toIsoUtc(1.5)).toThrow(RangeError);
    expect(() => toIsoUtc(Number.NaN)).toThrow(RangeError);
  });
});
