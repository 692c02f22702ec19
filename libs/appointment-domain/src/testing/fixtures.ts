import type {
  CancelAppointment,
  CompleteAppointment,
  ConfirmAppointment,
  FailPayment,
  MarkNoShow,
  RequestAppointment,
  RescheduleAppointment,
} from '../appointment.commands';
import type {
  AppointmentCancelled,
  AppointmentConfirmed,
  AppointmentEvent,
  AppointmentRequested,
} from '../appointment.events';
import type { AppointmentStatus } from '../appointment.state';
import type { CancellationPolicy } from '../cancellation-policy';
import { HOUR_MS, MINUTE_MS, toIsoUtc } from '../time';
import type { Actor, CancellationReason } from '../types';

/** Test data for the appointment decider. Times are fixed; nothing reads a clock. */
export const APPOINTMENT_ID = 'appt-1';
export const START = '2026-12-01T14:00:00.000Z';
export const END = '2026-12-01T15:00:00.000Z';
export const BOOKED_AT = '2026-11-20T10:00:00.000Z';
export const HOLD_EXPIRES_AT = '2026-11-20T10:15:00.000Z';
export const PRICE = { amountMinor: 10_000, currency: 'EUR' } as const;

export const POLICY: CancellationPolicy = {
  freeUntilHoursBefore: 24,
  lateFee: { kind: 'PERCENT', percent: 50 },
  noShowForfeits: true,
  rescheduleFreeUntilHoursBefore: 48,
};

/** `iso` shifted by hours/minutes/seconds/ms. */
export function shift(iso: string, by: { hours?: number; minutes?: number; seconds?: number; ms?: number }): string {
  const delta = (by.hours ?? 0) * HOUR_MS + (by.minutes ?? 0) * MINUTE_MS + (by.seconds ?? 0) * 1000 + (by.ms ?? 0);
  return toIsoUtc(Date.parse(iso) + delta);
}
export const hoursBeforeStart = (h: number) => shift(START, { hours: -h });

export function requestAppointment(overrides: Partial<RequestAppointment> = {}): RequestAppointment {
  return {
    type: 'RequestAppointment',
    appointmentId: APPOINTMENT_ID,
    providerId: 'prov-1',
    clientId: 'client-1',
    start: START,
    end: END,
    bufferBeforeMinutes: 10,
    bufferAfterMinutes: 15,
    price: PRICE,
    policy: POLICY,
    client: { timeZone: 'Europe/Paris', email: 'client@example.com', locale: 'fr-FR' },
    providerSnapshot: { displayName: 'Dr. Who', timeZone: 'Europe/Paris' },
    holdExpiresAt: HOLD_EXPIRES_AT,
    at: BOOKED_AT,
    ...overrides,
  };
}

/** The event `decide` produces for `requestAppointment(overrides)`. */
export function appointmentRequested(overrides: Partial<RequestAppointment> = {}): AppointmentRequested {
  const { type: _type, at, ...rest } = requestAppointment(overrides);
  return { type: 'AppointmentRequested', ...rest, requestedAt: at };
}

export function appointmentConfirmed(overrides: Partial<AppointmentConfirmed> = {}): AppointmentConfirmed {
  return {
    type: 'AppointmentConfirmed',
    appointmentId: APPOINTMENT_ID,
    reason: 'PAYMENT_SUCCEEDED',
    paymentId: 'pay-1',
    paidMinor: PRICE.amountMinor,
    currency: PRICE.currency,
    confirmedAt: shift(BOOKED_AT, { minutes: 2 }),
    ...overrides,
  };
}

export function appointmentCancelled(overrides: Partial<AppointmentCancelled> = {}): AppointmentCancelled {
  return {
    type: 'AppointmentCancelled',
    appointmentId: APPOINTMENT_ID,
    by: 'SYSTEM',
    reason: 'EXPIRED',
    previousStatus: 'PENDING',
    late: false,
    balanceMinor: 0,
    feeMinor: 0,
    refundMinor: 0,
    currency: PRICE.currency,
    paymentId: null,
    cancelledAt: HOLD_EXPIRES_AT,
    ...overrides,
  };
}

export const confirm = (overrides: Partial<ConfirmAppointment> = {}): ConfirmAppointment => ({
  type: 'ConfirmAppointment',
  appointmentId: APPOINTMENT_ID,
  paymentId: 'pay-1',
  amountMinor: PRICE.amountMinor,
  currency: PRICE.currency,
  at: shift(BOOKED_AT, { minutes: 2 }),
  ...overrides,
});

export const cancel = (by: Actor, reason: CancellationReason, at: string): CancelAppointment => ({
  type: 'CancelAppointment',
  appointmentId: APPOINTMENT_ID,
  by,
  reason,
  at,
});

export const reschedule = (overrides: Partial<RescheduleAppointment> = {}): RescheduleAppointment => ({
  type: 'RescheduleAppointment',
  appointmentId: APPOINTMENT_ID,
  newStart: '2026-12-03T09:00:00.000Z',
  newEnd: '2026-12-03T10:00:00.000Z',
  by: 'CLIENT',
  at: hoursBeforeStart(72),
  ...overrides,
});

export const complete = (at: string = shift(END, { minutes: 1 })): CompleteAppointment => ({
  type: 'CompleteAppointment',
  appointmentId: APPOINTMENT_ID,
  at,
});

export const markNoShow = (at: string = shift(START, { minutes: 20 })): MarkNoShow => ({
  type: 'MarkNoShow',
  appointmentId: APPOINTMENT_ID,
  at,
});

export const failPayment = (overrides: Partial<FailPayment> = {}): FailPayment => ({
  type: 'FailPayment',
  appointmentId: APPOINTMENT_ID,
  paymentId: 'pay-1',
  reason: 'card_declined',
  at: shift(BOOKED_AT, { minutes: 3 }),
  ...overrides,
});

/** A stream that leaves the appointment in each status (paid 100.00 EUR where it was confirmed). */
export const STREAMS: Readonly<Record<AppointmentStatus, readonly AppointmentEvent[]>> = {
  NONE: [],
  PENDING: [appointmentRequested()],
  CONFIRMED: [appointmentRequested(), appointmentConfirmed()],
  CANCELLED: [appointmentRequested(), appointmentCancelled()],
  COMPLETED: [
    appointmentRequested(),
    appointmentConfirmed(),
    {
      type: 'AppointmentCompleted',
      appointmentId: APPOINTMENT_ID,
      settledMinor: PRICE.amountMinor,
      currency: PRICE.currency,
      completedAt: shift(END, { minutes: 1 }),
    },
  ],
  NO_SHOW: [
    appointmentRequested(),
    appointmentConfirmed(),
    {
      type: 'AppointmentMarkedNoShow',
      appointmentId: APPOINTMENT_ID,
      forfeitedMinor: PRICE.amountMinor,
      refundMinor: 0,
      currency: PRICE.currency,
      paymentId: 'pay-1',
      markedAt: shift(START, { minutes: 20 }),
    },
  ],
};
