import { EventData } from '@booking/contracts';
import { formatInstant, resolveAudience } from './format-time';
import { formatMoney } from './format-money';
import { buildMessage, RecipientRole, Rendered } from './message';
import { parties } from './parties';

export function renderReschedule(data: EventData<'AppointmentRescheduled'>, role: RecipientRole): Rendered {
  const { me, otherName, myName } = parties(data, role);
  const start = formatInstant(data.start, me);
  const money = (minor: number) => formatMoney(minor, data.currency, resolveAudience(me).locale);
  const settlement: [string, string][] =
    role === 'CLIENT'
      ? [
          ...(data.feeMinor > 0 ? [['Reschedule fee', money(data.feeMinor)] as [string, string]] : []),
          ...(data.creditMinor > 0 ? [['Credit', money(data.creditMinor)] as [string, string]] : []),
        ]
      : [];
  return buildMessage({
    subject: `Appointment moved: ${start}`,
    greetingName: myName,
    lines: [`Your appointment with ${otherName} has moved to a new time.`, 'The attached update changes it in your calendar.'],
    details: [
      ['Was', formatInstant(data.previousStart, me)],
      ['Now starts', start],
      ['Ends', formatInstant(data.end, me)],
      ...settlement,
      ['Reference', data.appointmentId],
    ],
    sms: `Moved: your appointment with ${otherName} is now on ${start} (was ${formatInstant(data.previousStart, me)}). Ref ${data.appointmentId}`,
    pushTitle: 'Appointment moved',
  });
}
