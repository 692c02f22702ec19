import type { CancellationPolicy } from './cancellation-policy';
import type { IsoDateTime } from './time';
import type { Actor, CancellationReason, ClientContact, Money, ProviderSnapshot } from './types';

/**
 * Commands are imperative. Every command names its appointment and carries `at`: the current time,
 * read by the caller (the decider never reads a clock). Times are UTC ISO-8601 strings.
 */

/** Book a slot: creates the stream. A price of 0 confirms immediately (see README). */
export type RequestAppointment = {
  readonly type: 'RequestAppointment';
  readonly appointmentId: string;
  readonly providerId: string;
  readonly clientId: string;
  readonly start: IsoDateTime;
  readonly end: IsoDateTime;
  readonly bufferBeforeMinutes: number;
  readonly bufferAfterMinutes: number;
  readonly price: Money;
  readonly policy: CancellationPolicy;
  readonly client: ClientContact;
  readonly providerSnapshot?: ProviderSnapshot;
  /** When an unpaid hold may be cancelled with reason EXPIRED. */
  readonly holdExpiresAt: IsoDateTime;
  readonly at: IsoDateTime;
};

/** A payment for this appointment succeeded: of exactly its price, or it is refused (INVALID_COMMAND). */
export type ConfirmAppointment = {
  readonly type: 'ConfirmAppointment';
  readonly appointmentId: string;
  readonly paymentId: string;
  readonly amountMinor: number;
  readonly currency: string;
  readonly at: IsoDateTime;
};

export type CancelAppointment = {
  readonly type: 'CancelAppointment';
  readonly appointmentId: string;
  /** CLIENT ↔ CLIENT_REQUEST, PROVIDER ↔ PROVIDER_REQUEST, SYSTEM ↔ PAYMENT_FAILED | EXPIRED. */
  readonly by: Actor;
  readonly reason: CancellationReason;
  readonly at: IsoDateTime;
};

/** Moves the SAME appointment (same id, same stream) to a new slot. */
export type RescheduleAppointment = {
  readonly type: 'RescheduleAppointment';
  readonly appointmentId: string;
  /** Same-stream model: must be omitted or equal to `appointmentId`. */
  readonly newAppointmentId?: string;
  readonly newStart: IsoDateTime;
  readonly newEnd: IsoDateTime;
  readonly by: 'CLIENT' | 'PROVIDER';
  readonly at: IsoDateTime;
};

export type CompleteAppointment = {
  readonly type: 'CompleteAppointment';
  readonly appointmentId: string;
  readonly at: IsoDateTime;
};

export type MarkNoShow = {
  readonly type: 'MarkNoShow';
  readonly appointmentId: string;
  readonly at: IsoDateTime;
};

/** A payment for this appointment failed: cancels a PENDING appointment (SYSTEM / PAYMENT_FAILED). */
export type FailPayment = {
  readonly type: 'FailPayment';
  readonly appointmentId: string;
  readonly paymentId: string;
  readonly reason: string;
  readonly at: IsoDateTime;
};

export type AppointmentCommand =
  | RequestAppointment
  | ConfirmAppointment
  | CancelAppointment
  | RescheduleAppointment
  | CompleteAppointment
  | MarkNoShow
  | FailPayment;

export type AppointmentCommandType = AppointmentCommand['type'];

export const APPOINTMENT_COMMAND_TYPES: readonly AppointmentCommandType[] = [
  'RequestAppointment',
  'ConfirmAppointment',
  'CancelAppointment',
  'RescheduleAppointment',
  'CompleteAppointment',
  'MarkNoShow',
  'FailPayment',
];
