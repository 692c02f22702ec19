import type { CancellationPolicy } from './cancellation-policy';
import type { IsoDateTime } from './time';
import type { Actor, CancellationReason, ClientContact, Money, ProviderSnapshot } from './types';

/**
 * Events are past tense, JSON-serialisable (ISO strings, integer minor units) and self-contained:
 * the state — and any projection — can be rebuilt from them alone.
 */

export type AppointmentRequested = {
  readonly type: 'AppointmentRequested';
  readonly appointmentId: string;
  readonly providerId: string;
  readonly clientId: string;
  readonly start: IsoDateTime;
  readonly end: IsoDateTime;
  readonly bufferBeforeMinutes: number;
  readonly bufferAfterMinutes: number;
  readonly price: Money;
  /** Snapshot: the rules this booking lives by. */
  readonly policy: CancellationPolicy;
  readonly client: ClientContact;
  readonly providerSnapshot?: ProviderSnapshot;
  readonly holdExpiresAt: IsoDateTime;
  readonly requestedAt: IsoDateTime;
};

export type ConfirmationReason = 'PAYMENT_SUCCEEDED' | 'NO_PAYMENT_REQUIRED';

export type AppointmentConfirmed = {
  readonly type: 'AppointmentConfirmed';
  readonly appointmentId: string;
  readonly reason: ConfirmationReason;
  /** null when NO_PAYMENT_REQUIRED. */
  readonly paymentId: string | null;
  readonly paidMinor: number;
  readonly currency: string;
  readonly confirmedAt: IsoDateTime;
};

export type AppointmentCancelled = {
  readonly type: 'AppointmentCancelled';
  readonly appointmentId: string;
  readonly by: Actor;
  readonly reason: CancellationReason;
  readonly previousStatus: 'PENDING' | 'CONFIRMED';
  /** Client cancelled after the free window (fee may apply). */
  readonly late: boolean;
  /** Paid amount still held for the appointment just before cancelling; feeMinor + refundMinor === balanceMinor. */
  readonly balanceMinor: number;
  readonly feeMinor: number;
  readonly refundMinor: number;
  readonly currency: string;
  /** The captured payment to refund against (null when nothing was paid). */
  readonly paymentId: string | null;
  /** Set when the cancellation comes from FailPayment. */
  readonly failedPayment?: { readonly paymentId: string; readonly reason: string };
  readonly cancelledAt: IsoDateTime;
};

export type AppointmentRescheduled = {
  readonly type: 'AppointmentRescheduled';
  readonly appointmentId: string;
  readonly by: 'CLIENT' | 'PROVIDER';
  readonly previousStart: IsoDateTime;
  readonly previousEnd: IsoDateTime;
  readonly newStart: IsoDateTime;
  readonly newEnd: IsoDateTime;
  readonly free: boolean;
  /** Kept by the provider (late reschedule). */
  readonly feeMinor: number;
  /** Moves with the appointment to the new slot; feeMinor + creditMinor === balance before. */
  readonly creditMinor: number;
  readonly currency: string;
  readonly rescheduledAt: IsoDateTime;
};

export type AppointmentCompleted = {
  readonly type: 'AppointmentCompleted';
  readonly appointmentId: string;
  /** Paid balance now definitively kept by the provider. */
  readonly settledMinor: number;
  readonly currency: string;
  readonly completedAt: IsoDateTime;
};

export type AppointmentMarkedNoShow = {
  readonly type: 'AppointmentMarkedNoShow';
  readonly appointmentId: string;
  /** Kept by the provider (whole balance when policy.noShowForfeits, else 0). */
  readonly forfeitedMinor: number;
  /** Returned to the client (whole balance when !policy.noShowForfeits, else 0). */
  readonly refundMinor: number;
  readonly currency: string;
  readonly paymentId: string | null;
  readonly markedAt: IsoDateTime;
};

export type LatePaymentRefundReason =
  /** The payment succeeded but the appointment was no longer PENDING (typically expired/cancelled). */
  | 'APPOINTMENT_NOT_PENDING'
  /** A second, different payment succeeded for an appointment that is already confirmed. */
  | 'DUPLICATE_PAYMENT';

/** Money was captured with no appointment to show for it: the payment service must refund it in full. */
export type LatePaymentRefundRequested = {
  readonly type: 'LatePaymentRefundRequested';
  readonly appointmentId: string;
  readonly paymentId: string;
  readonly amountMinor: number;
  readonly currency: string;
  readonly reason: LatePaymentRefundReason;
  readonly requestedAt: IsoDateTime;
};

export type AppointmentEvent =
  | AppointmentRequested
  | AppointmentConfirmed
  | AppointmentCancelled
  | AppointmentRescheduled
  | AppointmentCompleted
  | AppointmentMarkedNoShow
  | LatePaymentRefundRequested;

export type AppointmentEventType = AppointmentEvent['type'];

export const APPOINTMENT_EVENT_TYPES: readonly AppointmentEventType[] = [
  'AppointmentRequested',
  'AppointmentConfirmed',
  'AppointmentCancelled',
  'AppointmentRescheduled',
  'AppointmentCompleted',
  'AppointmentMarkedNoShow',
  'LatePaymentRefundRequested',
];
