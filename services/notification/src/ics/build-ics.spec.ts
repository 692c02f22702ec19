import fc from 'fast-check';
import { buildIcs, escapeText, foldLine, IcsEvent, utc } from './build-ics';

const unfold = (ics: string) => ics.replace(/\r\n /g, '');
const contentLines = (ics: string) => unfold(ics).split('\r\n').slice(0, -1);
const property = (ics: string, name: string) =>
  contentLines(ics)
    .find((l) => l.startsWith(`${name}:`) || l.startsWith(`${name};`))
    ?.replace(/^[^:]*:/, '');

const request: IcsEvent = {
  method: 'REQUEST',
  uid: 'appt-42@booking',
  sequence: 2,
  stamp: '2026-11-20T10:00:00.000Z',
  start: '2026-12-01T14:00:00.000Z',
  end: '2026-12-01T14:30:00.000Z',
  summary: 'Appointment with Dr. Smith',
  description: 'Reference: appt-42',
  organizer: { email: 'no-reply@booking.test', name: 'Booking' },
  attendee: { email: 'aiko@example.jp', name: 'Aiko Tanaka' },
};

describe('buildIcs', () => {
  it('builds a REQUEST with the appointment UID, sequence and UTC times', () => {
    const ics = buildIcs(request);
    expect(contentLines(ics)).toEqual([
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'PRODID:-//Booking Platform//Notification Service//EN',
      'CALSCALE:GREGORIAN',
      'METHOD:REQUEST',
      'BEGIN:VEVENT',
      'UID:appt-42@booking',
      'SEQUENCE:2',
      'DTSTAMP:20261120T100000Z',
      'DTSTART:20261201T140000Z',
      'DTEND:20261201T143000Z',
      'SUMMARY:Appointment with Dr. Smith',
      'DESCRIPTION:Reference: appt-42',
      'ORGANIZER;CN="Booking":mailto:no-reply@booking.test',
      'ATTENDEE;ROLE=REQ-PARTICIPANT;CN="Aiko Tanaka":mailto:aiko@example.jp',
      'STATUS:CONFIRMED',
      'END:VEVENT',
      'END:VCALENDAR',
    ]);
  });

  it('builds a CANCEL with STATUS:CANCELLED for the same UID', () => {
    const ics = buildIcs({ ...request, method: 'CANCEL', sequence: 3 });
    expect(property(ics, 'METHOD')).toBe('CANCEL');
    expect(property(ics, 'STATUS')).toBe('CANCELLED');
    expect(property(ics, 'UID')).toBe('appt-42@booking');
    expect(property(ics, 'SEQUENCE')).toBe('3');
  });

  it('ends every line with CRLF and has no bare LF', () => {
    const ics = buildIcs({ ...request, description: 'line one\nline two' });
    expect(ics.endsWith('\r\n')).toBe(true);
    expect(ics.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(property(ics, 'DESCRIPTION')).toBe('line one\\nline two');
  });

  it('converts instants with an offset to UTC', () => {
    expect(utc('2026-11-01T01:30:00-04:00')).toBe('20261101T053000Z');
    expect(utc('2026-11-01T01:30:00-05:00')).toBe('20261101T063000Z');
    expect(() => utc('yesterday')).toThrow('not an ISO instant');
  });

  it('escapes TEXT values and strips quotes from names', () => {
    expect(escapeText('a\\b;c,d\r\ne')).toBe('a\\\\b\\;c\\,d\\ne');
    const ics = buildIcs({ ...request, attendee: { email: 'x@example.com', name: 'The "Best" Client' } });
    expect(property(ics, 'ATTENDEE')).toBe('mailto:x@example.com');
    expect(contentLines(ics)).toContain('ATTENDEE;ROLE=REQ-PARTICIPANT;CN="The Best Client":mailto:x@example.com');
  });

  it('folds long lines at 75 octets without cutting a multi-byte character', () => {
    const summary = '予約'.repeat(40);
    const ics = buildIcs({ ...request, summary });
    for (const line of ics.split('\r\n')) expect(Buffer.byteLength(line, 'utf8')).toBeLessThanOrEqual(75);
    expect(property(ics, 'SUMMARY')).toBe(summary);
  });

  it('folding keeps every physical line within 75 octets and unfolds to the original (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        const line = `SUMMARY:${text.replace(/[\r\n]/g, '')}`;
        const folded = foldLine(line);
        const physical = folded.split('\r\n');
        physical.forEach((l, i) => {
          expect(Buffer.byteLength(l, 'utf8')).toBeLessThanOrEqual(75);
          if (i > 0) expect(l.startsWith(' ')).toBe(true);
        });
        expect(unfold(folded)).toBe(line);
      }),
    );
  });
});
