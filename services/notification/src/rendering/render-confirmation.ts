import { EventData } from '@booking/contracts';
import { formatDuration, formatInstant, resolveAudience } from './format-time';
import { formatMoney } from './format-money';
import { buildMessage, RecipientRole, Rendered } from './message';
import { capitalise, parties } from './parties';

export function renderConfirmation(data: EventData<'AppointmentConfirmed'>, role: RecipientRole): Rendered {
  const { me, otherName, myName } = parties(data, role);
  const start = formatInstant(data.start, me);
  const end = formatInstant(data.end, me);
  const length = formatDuration(data.start, data.end);
  const paid: [string, string][] =
    role === 'CLIENT' && data.amountMinor > 0 ? [['Paid', formatMoney(data.amountMinor, data.currency, resolveAudience(me).locale)]] : [];
  const details: [string, string][] = [['Starts', start], ['Ends', end], ...paid, ['Reference', data.appointmentId]];
  return role === 'CLIENT'
    ? buildMessage({
        subject: `Appointment confirmed: ${start}`,
        greetingName: myName,
        lines: [`Your appointment with ${otherName} is confirmed.`, 'The attached invitation adds it to your calendar.'],
        details,
        sms: `Confirmed: your appointment with ${otherName} on ${start} (${length}). Ref ${data.appointmentId}`,
        pushTitle: 'Appointment confirmed',
      })
    : buildMessage({
        subject: `New booking: ${start}`,
        greetingName: myName,
        lines: [`${capitalise(otherName)} booked an appointment with you.`, 'The attached invitation adds it to your calendar.'],
        details,
        sms: `New booking: ${otherName} on ${start} (${length}). Ref ${data.appointmentId}`,
        pushTitle: 'New booking',
      });
}
