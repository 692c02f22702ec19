import { EventData } from '@booking/contracts';
import { formatInstant, resolveAudience } from './format-time';
import { formatMoney } from './format-money';
import { buildMessage, RecipientRole, Rendered } from './message';
import { capitalise, parties } from './parties';

type Cancelled = EventData<'AppointmentCancelled'>;

/** A cancellation of a confirmed appointment (by the client or the provider), or of a booking that never completed. */
export function renderCancellation(data: Cancelled, role: RecipientRole): Rendered {
  const { me, otherName, myName } = parties(data, role);
  const start = formatInstant(data.start, me);
  const money = (minor: number) => formatMoney(minor, data.currency, resolveAudience(me).locale);
  const settlement: [string, string][] = [
    ...(data.refundMinor > 0 ? [['Refund', money(data.refundMinor)] as [string, string]] : []),
    ...(data.feeMinor > 0 ? [['Cancellation fee', money(data.feeMinor)] as [string, string]] : []),
  ];
  const details: [string, string][] = [['Was due to start', start], ...(role === 'CLIENT' ? settlement : []), ['Reference', data.appointmentId]];
  const refundNote = role === 'CLIENT' && data.refundMinor > 0 ? ` A refund of ${money(data.refundMinor)} is on its way.` : '';

  if (data.reason === 'PAYMENT_FAILED' || data.reason === 'EXPIRED') {
    const why = data.reason === 'PAYMENT_FAILED' ? 'the payment did not go through' : 'the payment did not arrive in time';
    return buildMessage({
      subject: `Booking not completed: ${start}`,
      greetingName: myName,
      lines: [`Your booking with ${otherName} was not completed because ${why}. The time is no longer held for you.${refundNote}`],
      details,
      sms: `Your booking with ${otherName} on ${start} was not completed: ${why}. Ref ${data.appointmentId}`,
      pushTitle: 'Booking not completed',
    });
  }

  const byMe = (data.by === 'CLIENT' && role === 'CLIENT') || (data.by === 'PROVIDER' && role === 'PROVIDER');
  const what = byMe
    ? `You cancelled your appointment with ${otherName}.`
    : data.by === 'SYSTEM'
      ? `Your appointment with ${otherName} was cancelled.`
      : `${capitalise(otherName)} cancelled the appointment with you.`;
  return buildMessage({
    subject: `Appointment cancelled: ${start}`,
    greetingName: myName,
    lines: [`${what}${refundNote}`, 'The attached update removes it from your calendar.'],
    details,
    sms: `Cancelled: appointment with ${otherName} on ${start}.${refundNote} Ref ${data.appointmentId}`,
    pushTitle: 'Appointment cancelled',
  });
}
