import { TOPICS } from '@booking/contracts';
import { expectKeepsContract } from '@booking/contracts/testing';
import { Payment } from './payment';
import { creditIssued, paymentFailed, paymentSucceeded, refundIssued } from './payment-events';

const payment: Payment = {
  id: '5d0c1f0e-2a53-4f39-9a55-0d6f4a1f6c11',
  appointmentId: 'appt-1',
  amountMinor: 5000,
  currency: 'EUR',
  status: 'SUCCEEDED',
  idempotencyKey: 'appointment:appt-1:charge',
  providerRef: 'ch_1',
  failureReason: null,
  version: 1,
  correlationId: 'corr-1',
  requestEventId: '8a8f7d0e-8a38-4d0a-8a56-2b7f0b9f2e11',
  createdAt: new Date(),
  updatedAt: new Date(),
};
const source = { paymentId: payment.id, appointmentId: 'appt-1', currency: 'EUR', sourceEventId: '0b4d2b84-6a38-4a43-8d4b-1c1f7f0a7a11', sourceEventType: 'AppointmentCancelled' };

describe('payment events', () => {
  it.each([
    ['PaymentSucceeded', paymentSucceeded(payment)],
    ['PaymentFailed', paymentFailed({ ...payment, status: 'FAILED', failureReason: 'card_declined' })],
    ['RefundIssued', refundIssued(payment, { ...source, id: 'r-1', amountMinor: 2000, requestedMinor: 2000, reason: 'CANCELLATION', providerRef: 're_1' }, 2)],
    ['CreditIssued', creditIssued(payment, { ...source, id: 'c-1', amountMinor: 4000, reason: 'RESCHEDULED' }, 1000, 3)],
  ] as const)('%s keeps its contract (every field declared), on payment.v1, keyed by the appointment', (type, event) => {
    expect(event.type).toBe(type);
    expect(event.topic).toBe(TOPICS.payment);
    expect(event.aggregateId).toBe('appt-1');
    expectKeepsContract(event);
  });

  it('carries the failure reason the gateway gave', () => {
    expect(paymentFailed({ ...payment, status: 'FAILED', failureReason: 'insufficient_funds' }).data.reason).toBe('insufficient_funds');
  });
});
