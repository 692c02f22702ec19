import { counter } from '@booking/platform';

/** Scheduling's domain metrics (no provider, client or appointment ids as labels). */
export const schedulingMetrics = {
  bookingsCreated: counter({
    name: 'bookings_created_total',
    help: 'Appointments booked (201; an Idempotency-Key replay is not counted again).',
  }),
  bookingsRefused: counter({
    name: 'bookings_refused_total',
    help: 'Booking requests refused, by the problem code answered (SLOT_UNAVAILABLE, VALIDATION_FAILED, ...).',
    labelNames: ['code'] as const,
  }),
  holdsExpired: counter({
    name: 'holds_expired_total',
    help: 'PENDING holds cancelled because their HOLD_TTL_SECONDS passed unpaid.',
  }),
};
