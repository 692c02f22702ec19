import { Envelope, EventData } from '@booking/contracts';
import { PermanentEventError } from '@booking/platform';

export const NOTIFIABLE_TYPES = ['AppointmentConfirmed', 'AppointmentCancelled', 'AppointmentRescheduled', 'ReminderDue', 'LatePaymentRefundRequested'] as const;

export type NotifiableType = (typeof NOTIFIABLE_TYPES)[number];

type Contact = EventData<'AppointmentConfirmed'>['client'];

/**
 * A late payment's refund with the appointment's parties and times, which scheduling writes on it
 * since they were added to the contract (optional there: events written before carry none and tell nobody).
 */
export type LateRefundData = EventData<'LatePaymentRefundRequested'> & { start: string; end: string; client: Contact; provider: Contact };

/** An envelope whose data the platform consumer has already validated against its contract. */
export type NotifiableEvent = {
  [T in NotifiableType]: Omit<Envelope, 'type' | 'data'> & { type: T; data: T extends 'LatePaymentRefundRequested' ? LateRefundData : EventData<T> };
}[NotifiableType];

/**
 * Semantic checks the contract schemas cannot make; failing them dead-letters the event. Null: an
 * event that concerns nobody (a late refund written before it carried the client's contact).
 */
export function asNotifiable(event: Envelope): NotifiableEvent | null {
  if (!(NOTIFIABLE_TYPES as readonly string[]).includes(event.type)) {
    throw new PermanentEventError(`notification does not handle ${event.type}`);
  }
  if (event.type === 'LatePaymentRefundRequested') {
    const data = event.data as Partial<LateRefundData>;
    if (!data.client || !data.provider || !data.start || !data.end) return null;
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
