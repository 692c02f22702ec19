import { EventData, TOPICS } from '@booking/contracts';
import type { OutgoingEvent } from '@booking/platform';
import { Credit, Payment, Refund } from './payment';

/**
 * The events the payment service publishes on `payment.v1`, keyed by appointment id so they stay in
 * order with the appointment's own events. Each `data` is the contract's shape plus what a reader of
 * the payment would want to correlate with the gateway.
 */
type PaymentEventType = 'PaymentSucceeded' | 'PaymentFailed' | 'RefundIssued' | 'CreditIssued';
type Data<T extends PaymentEventType> = EventData<T>;

function event(type: PaymentEventType, payment: Payment, version: number, data: Record<string, unknown>): OutgoingEvent {
  return { topic: TOPICS.payment, type, aggregateId: payment.appointmentId, aggregateVersion: version, data };
}

export function paymentSucceeded(payment: Payment): OutgoingEvent {
  const data: Data<'PaymentSucceeded'> & { providerRef: string | null } = {
    appointmentId: payment.appointmentId,
    paymentId: payment.id,
    requestEventId: payment.requestEventId,
    amountMinor: payment.amountMinor,
    currency: payment.currency,
    providerRef: payment.providerRef,
  };
  return event('PaymentSucceeded', payment, payment.version, data);
}

export function paymentFailed(payment: Payment): OutgoingEvent {
  const data: Data<'PaymentFailed'> & { amountMinor: number; currency: string; providerRef: string | null } = {
    appointmentId: payment.appointmentId,
    paymentId: payment.id,
    requestEventId: payment.requestEventId,
    reason: payment.failureReason ?? 'unknown',
    amountMinor: payment.amountMinor,
    currency: payment.currency,
    providerRef: payment.providerRef,
  };
  return event('PaymentFailed', payment, payment.version, data);
}

export function refundIssued(payment: Payment, refund: Omit<Refund, 'createdAt'>, version: number): OutgoingEvent {
  const data: Data<'RefundIssued'> & Pick<Refund, 'reason' | 'requestedMinor' | 'providerRef' | 'sourceEventId'> = {
    appointmentId: payment.appointmentId,
    paymentId: payment.id,
    refundId: refund.id,
    amountMinor: refund.amountMinor,
    currency: refund.currency,
    reason: refund.reason,
    requestedMinor: refund.requestedMinor,
    providerRef: refund.providerRef,
    sourceEventId: refund.sourceEventId,
  };
  return event('RefundIssued', payment, version, data);
}

export function creditIssued(payment: Payment, credit: Omit<Credit, 'createdAt'>, feeMinor: number, version: number): OutgoingEvent {
  const data: Data<'CreditIssued'> & { feeMinor: number; reason: Credit['reason']; sourceEventId: string } = {
    appointmentId: payment.appointmentId,
    paymentId: payment.id,
    creditId: credit.id,
    amountMinor: credit.amountMinor,
    currency: credit.currency,
    feeMinor,
    reason: credit.reason,
    sourceEventId: credit.sourceEventId,
  };
  return event('CreditIssued', payment, version, data);
}
