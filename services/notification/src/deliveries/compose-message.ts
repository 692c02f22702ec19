import { buildIcs, IcsPerson } from '../ics/build-ics';
import { EmailMessage, OutgoingMessage } from '../channels/channel';
import { Rendered } from '../rendering/message';
import { parties } from '../rendering/parties';
import { renderCancellation } from '../rendering/render-cancellation';
import { renderConfirmation } from '../rendering/render-confirmation';
import { renderLateRefund } from '../rendering/render-late-refund';
import { renderReminder } from '../rendering/render-reminder';
import { renderReschedule } from '../rendering/render-reschedule';
import { cancelledBeforeConfirmation, NotifiableEvent } from './notifiable-event';
import { PlannedDelivery } from './plan-deliveries';

export type ComposeSettings = { organizer: IcsPerson };

/** The exact message for one delivery. Pure, so every attempt of a delivery sends the same thing. */
export function composeMessage(
  event: NotifiableEvent,
  planned: PlannedDelivery & { address: string },
  deliveryId: string,
  settings: ComposeSettings,
): OutgoingMessage {
  const rendered = render(event, planned);
  switch (planned.channel) {
    case 'EMAIL': {
      const calendar = calendarFor(event, planned, settings);
      return {
        channel: 'EMAIL',
        deliveryId,
        to: { address: planned.address, ...(planned.contact.name && { name: planned.contact.name }) },
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        ...(calendar && { calendar }),
      };
    }
    case 'SMS':
      return { channel: 'SMS', deliveryId, to: planned.address, body: rendered.sms };
    case 'PUSH':
      return {
        channel: 'PUSH',
        deliveryId,
        endpoint: planned.address,
        payload: {
          deliveryId,
          event: event.type,
          appointmentId: event.data.appointmentId,
          title: rendered.push.title,
          body: rendered.push.body,
          start: event.data.start,
          end: event.data.end,
        },
      };
    default: {
      const unreachable: never = planned.channel;
      throw new Error(`unknown channel ${String(unreachable)}`);
    }
  }
}

function render(event: NotifiableEvent, planned: PlannedDelivery): Rendered {
  switch (event.type) {
    case 'AppointmentConfirmed':
      return renderConfirmation(event.data, planned.role);
    case 'AppointmentCancelled':
      return renderCancellation(event.data, planned.role);
    case 'AppointmentRescheduled':
      return renderReschedule(event.data, planned.role);
    case 'ReminderDue':
      return renderReminder(event.data);
    case 'LatePaymentRefundRequested':
      return renderLateRefund(event.data);
    default: {
      const unreachable: never = event;
      throw new Error(`unknown event ${(unreachable as { type: string }).type}`);
    }
  }
}

/**
 * Calendar objects for confirmations and reschedules (REQUEST) and cancellations (CANCEL) share the
 * appointment's UID; SEQUENCE is the appointment's stream version, so each revision outranks the last.
 */
function calendarFor(
  event: NotifiableEvent,
  planned: PlannedDelivery & { address: string },
  settings: ComposeSettings,
): EmailMessage['calendar'] | undefined {
  // No calendar entry was ever sent for these: nothing to add or withdraw.
  if (event.type === 'ReminderDue' || event.type === 'LatePaymentRefundRequested' || cancelledBeforeConfirmation(event)) return undefined;
  const method = event.type === 'AppointmentCancelled' ? 'CANCEL' : 'REQUEST';
  const { otherName } = parties(event.data, planned.role);
  const content = buildIcs({
    method,
    uid: `${event.data.appointmentId}@booking`,
    sequence: event.aggregateVersion,
    stamp: event.occurredAt,
    start: event.data.start,
    end: event.data.end,
    summary: `Appointment with ${otherName}`,
    description: `Reference: ${event.data.appointmentId}`,
    organizer: settings.organizer,
    attendee: { email: planned.address, ...(planned.contact.name && { name: planned.contact.name }) },
  });
  return { method, content };
}
