import { counter } from '@booking/platform';

/** Payment's domain metrics (no payment or appointment ids as labels). */
export const paymentMetrics = {
  payments: counter({
    name: 'payments_total',
    help: 'Charge outcomes recorded, by the status the payment moved to (SUCCEEDED, FAILED, PROCESSING, TIMED_OUT).',
    labelNames: ['outcome'] as const,
  }),
  refunds: counter({
    name: 'refunds_total',
    help: 'Refunds issued at the payment gateway and recorded (RefundIssued).',
  }),
  credits: counter({
    name: 'credits_total',
    help: 'Credits issued for rescheduled appointments (CreditIssued).',
  }),
};
