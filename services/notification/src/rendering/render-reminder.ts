import { EventData } from '@booking/contracts';
import { formatDuration, formatInstant, formatMinutes } from './format-time';
import { buildMessage, Rendered } from './message';
import { parties } from './parties';

/** Reminders go to the client only; `offsetMinutes` says how far ahead this one was scheduled. */
export function renderReminder(data: EventData<'ReminderDue'>): Rendered {
  const { me, otherName, myName } = parties(data, 'CLIENT');
  const start = formatInstant(data.start, me);
  const ahead = formatMinutes(data.offsetMinutes);
  return buildMessage({
    subject: `Reminder: ${start}`,
    greetingName: myName,
    lines: [`This is a reminder of your appointment with ${otherName}, starting in ${ahead}.`],
    details: [
      ['Starts', start],
      ['Ends', formatInstant(data.end, me)],
      ['Length', formatDuration(data.start, data.end)],
      ['Reference', data.appointmentId],
    ],
    sms: `Reminder: your appointment with ${otherName} is on ${start} (in ${ahead}). Ref ${data.appointmentId}`,
    pushTitle: 'Appointment reminder',
  });
}
