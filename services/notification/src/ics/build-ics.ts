import { DateTime } from 'luxon';

export type IcsPerson = { email: string; name?: string };

export type IcsEvent = {
  /** REQUEST adds or updates the event in the recipient's calendar; CANCEL removes it (RFC 5546). */
  method: 'REQUEST' | 'CANCEL';
  /** Stable across every message about one appointment, so calendars update one entry. */
  uid: string;
  /** Must grow with every revision, or calendars ignore the update. */
  sequence: number;
  /** When this revision was made (UTC ISO instant). */
  stamp: string;
  start: string;
  end: string;
  summary: string;
  description?: string;
  organizer: IcsPerson;
  attendee?: IcsPerson;
};

const CRLF = '\r\n';
const MAX_OCTETS = 75;

/** An iCalendar (RFC 5545) object with one VEVENT: CRLF line ends, lines folded at 75 octets. */
export function buildIcs(event: IcsEvent): string {
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Booking Platform//Notification Service//EN',
    'CALSCALE:GREGORIAN',
    `METHOD:${event.method}`,
    'BEGIN:VEVENT',
    `UID:${escapeText(event.uid)}`,
    `SEQUENCE:${event.sequence}`,
    `DTSTAMP:${utc(event.stamp)}`,
    `DTSTART:${utc(event.start)}`,
    `DTEND:${utc(event.end)}`,
    `SUMMARY:${escapeText(event.summary)}`,
    ...(event.description ? [`DESCRIPTION:${escapeText(event.description)}`] : []),
    `ORGANIZER${person(event.organizer)}`,
    ...(event.attendee ? [`ATTENDEE;ROLE=REQ-PARTICIPANT${person(event.attendee)}`] : []),
    `STATUS:${event.method === 'CANCEL' ? 'CANCELLED' : 'CONFIRMED'}`,
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  return lines.map(foldLine).join(CRLF) + CRLF;
}

/** DATE-TIME in UTC form (FORM #2): `20261201T140000Z`. */
export function utc(iso: string): string {
  const instant = DateTime.fromISO(iso, { zone: 'utc' });
  if (!instant.isValid) throw new Error(`not an ISO instant: ${iso}`);
  return instant.toFormat("yyyyLLdd'T'HHmmss'Z'");
}

/** TEXT value escaping (RFC 5545 §3.3.11). */
export function escapeText(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(/\r\n|\r|\n/g, '\\n');
}

function person(p: IcsPerson): string {
  // A parameter value may not contain DQUOTE or control characters, even quoted (RFC 5545 §3.1).
  const name = p.name?.replace(/["\p{Cc}]/gu, '').trim();
  return `${name ? `;CN="${name}"` : ''}:mailto:${p.email}`;
}

/**
 * Splits a content line into chunks of at most 75 octets, continuation lines starting with one space
 * (RFC 5545 §3.1). Splits only between code points, so no UTF-8 sequence is cut in half.
 */
export function foldLine(line: string): string {
  const chunks: string[] = [];
  let current = '';
  let octets = 0;
  for (const char of line) {
    const size = Buffer.byteLength(char, 'utf8');
    const limit = chunks.length === 0 ? MAX_OCTETS : MAX_OCTETS - 1;
    if (octets + size > limit) {
      chunks.push(current);
      current = '';
      octets = 0;
    }
    current += char;
    octets += size;
  }
  chunks.push(current);
  return chunks.join(`${CRLF} `);
}
