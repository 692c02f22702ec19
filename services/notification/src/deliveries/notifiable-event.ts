import { Envelope, EventData } from '@booking/contracts';
import { PermanentEventError } from '@booking/platform';

export const NOTIFIABLE_TYPES = ['AppointmentConfirmed', 'AppointmentCancelled', 'AppointmentRescheduled', 'ReminderDue'] as const;

export type NotifiableType = (typeof NOTIFIABLE_TYPES)[number];

/** An envelope whose data the platform consumer has already validated against its contract. */
export type NotifiableEvent = {
  [T in NotifiableType]: Omit<Envelope, 'type' | 'data'> & { type: T; data: EventData<T> };
}[NotifiableType];

/** Semantic checks the contract schemas cannot make; failing them dead-letters the event. */
export function asNotifiable(event: Envelope): NotifiableEvent {
  if (!(NOTIFIABLE_TYPES as readonly string[]).includes(event.type)) {
    throw new PermanentEventError(`notification does not handle ${event.type}`);
  }
  const { start, end } = event.data as { start: string; end: string };
  if (!(Date.parse(end) > Date.parse(start))) {
    throw new PermanentEventError(`${event.type} ${event.eventId}: end ${end} is not after start ${start}`);
  }
  return event as NotifiableEvent;
}

/** A cancellation of a booking that never got confirmed: nobody got an invitation to withdraw. */
export function cancelledBeforeConfirmation(event: NotifiableEvent): boolean {
  return event.type === 'AppointmentCancelled' && (event.data.reason === 'PAYMENT_FAILED' || event.data.reason === 'EXPIRED');
}
