import { DateTime, Duration, IANAZone } from 'luxon';
import { plainSpaces } from './message';

/** Whom a time is shown to: their IANA zone and, if known, their BCP 47 locale. */
export type Audience = { timeZone: string; locale?: string };

const DEFAULT_LOCALE = 'en-US';

const FULL: Intl.DateTimeFormatOptions = {
  weekday: 'long',
  year: 'numeric',
  month: 'long',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
  timeZoneName: 'short',
};

/**
 * The zone and locale a message is rendered in. A zone or locale the runtime does not know falls back
 * to UTC / en-US rather than failing the delivery: the instant stays right and the zone stays named.
 */
export function resolveAudience(audience: Audience): { zone: string; locale: string } {
  const zone = IANAZone.isValidZone(audience.timeZone) ? audience.timeZone : 'UTC';
  return { zone, locale: audience.locale && isSupportedLocale(audience.locale) ? audience.locale : DEFAULT_LOCALE };
}

function isSupportedLocale(locale: string): boolean {
  try {
    return Intl.DateTimeFormat.supportedLocalesOf([locale]).length > 0;
  } catch {
    return false;
  }
}

/**
 * An instant as the recipient reads it, with the zone named twice: the local abbreviation or offset
 * (which tells EDT from EST in the repeated hour of a fall-back night) and the IANA name, e.g.
 * "Sunday, November 1, 2026 at 1:30 AM EST (America/New_York)".
 */
export function formatInstant(iso: string, audience: Audience): string {
  const { zone, locale } = resolveAudience(audience);
  const local = DateTime.fromISO(iso, { zone }).setLocale(locale);
  if (!local.isValid) throw new Error(`not an ISO instant: ${iso}`);
  return `${plainSpaces(local.toLocaleString(FULL))} (${zone})`;
}

/**
 * How long an appointment lasts, e.g. "1 hour, 30 minutes". Computed on instants, so an appointment
 * across a DST change keeps its real length, not its wall-clock difference. English, like the copy
 * around it; only dates and money follow the recipient's locale.
 */
export function formatDuration(startIso: string, endIso: string): string {
  const minutes = Math.round(DateTime.fromISO(endIso).diff(DateTime.fromISO(startIso), 'minutes').minutes);
  return formatMinutes(minutes);
}

export function formatMinutes(total: number): string {
  const parts = Object.fromEntries(Object.entries({ hours: Math.floor(total / 60), minutes: total % 60 }).filter(([, v]) => v > 0));
  return Duration.fromObject(Object.keys(parts).length ? parts : { minutes: 0 }, { locale: 'en' }).toHuman();
}
