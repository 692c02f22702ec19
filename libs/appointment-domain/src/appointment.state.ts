import type { CancellationPolicy } from './cancellation-policy';
import type { AppointmentEvent, ConfirmationReason } from './appointment.events';
import { type IsoDateTime, MINUTE_MS, toIsoUtc, toMillis } from './time';
import type { Actor, CancellationReason, ClientContact, Money, ProviderSnapshot } from './types';

export type AppointmentStatus = 'NONE' | 'PENDING' | 'CONFIRMED' | 'CANCELLED' | 'COMPLETED' | 'NO_SHOW';

export const APPOINTMENT_STATUSES: readonly AppointmentStatus[] = [
  'NONE',
  'PENDING',
  'CONFIRMED',
  'CANCELLED',
  'COMPLETED',
  'NO_SHOW',
];

/**
 * Money held for the appointment. Invariant: paidMinor = retainedMinor + refundedMinor + balance,
 * and the balance is 0 in every terminal status.
 */
export type PaymentLedger = {
  /** The payment that confirmed the appointment (null: not paid / free). */
  readonly paymentId: string | null;
  readonly paidMinor: number;
  /** Kept by the provider: late fees, forfeits, settlement on completion. */
  readonly retainedMinor: number;
  readonly refundedMinor: number;
  /** Other payments already sent back in full (LatePaymentRefundRequested) — for idempotency. */
  readonly lateRefundedPaymentIds: readonly string[];
};

export type AppointmentDetails = {
  readonly appointmentId: string;
  readonly providerId: string;
  readonly clientId: string;
  /** Current slot (moved by AppointmentRescheduled). */
  readonly start: IsoDateTime;
  readonly end: IsoDateTime;
  readonly bufferBeforeMinutes: number;
  readonly bufferAfterMinutes: number;
  readonly price: Money;
  readonly policy: CancellationPolicy;
  readonly client: ClientContact;
  readonly providerSnapshot?: ProviderSnapshot;
  readonly holdExpiresAt: IsoDateTime;
  readonly requestedAt: IsoDateTime;
  readonly ledger: PaymentLedger;
  readonly rescheduleCount: number;
  /** Number of events folded into this state (= expected stream version for optimistic concurrency). */
  readonly version: number;
};

export type Confirmation = { readonly reason: ConfirmationReason; readonly confirmedAt: IsoDateTime };

export type Cancellation = {
  readonly by: Actor;
  readonly reason: CancellationReason;
  readonly previousStatus: 'PENDING' | 'CONFIRMED';
  readonly late: boolean;
  readonly feeMinor: number;
  readonly refundMinor: number;
  readonly cancelledAt: IsoDateTime;
};

export type NoAppointment = { readonly status: 'NONE'; readonly version: number };
export type PendingAppointment = AppointmentDetails & { readonly status: 'PENDING' };
export type ConfirmedAppointment = AppointmentDetails & {
  readonly status: 'CONFIRMED';
  readonly confirmation: Confirmation;
};
export type CancelledAppointment = AppointmentDetails & {
  readonly status: 'CANCELLED';
  /** null when cancelled while PENDING. */
  readonly confirmation: Confirmation | null;
  readonly cancellation: Cancellation;
};
export type CompletedAppointment = AppointmentDetails & {
  readonly status: 'COMPLETED';
  readonly confirmation: Confirmation;
  readonly completedAt: IsoDateTime;
  /** The balance the provider kept on completion (its price, less any earlier fee): a settlement, not a fee. */
  readonly settledMinor: number;
};
export type NoShowAppointment = AppointmentDetails & {
  readonly status: 'NO_SHOW';
  readonly confirmation: Confirmation;
  readonly noShow: { readonly markedAt: IsoDateTime; readonly forfeitedMinor: number; readonly refundMinor: number };
};

export type AppointmentState =
  | NoAppointment
  | PendingAppointment
  | ConfirmedAppointment
  | CancelledAppointment
  | CompletedAppointment
  | NoShowAppointment;

/** Any state with a stream behind it. */
export type ExistingAppointment = Exclude<AppointmentState, NoAppointment>;

export const TERMINAL_STATUSES: readonly AppointmentStatus[] = ['CANCELLED', 'COMPLETED', 'NO_SHOW'];

export function initialState(): AppointmentState {
  return { status: 'NONE', version: 0 };
}

/** Paid money still held for the appointment (credit on reschedule; basis for fees and refunds). */
export function balanceMinor(state: ExistingAppointment): number {
  const l = state.ledger;
  return l.paidMinor - l.retainedMinor - l.refundedMinor;
}

/**
 * Total and deterministic. It trusts the stream: an event that cannot apply to the current status
 * (which `decide` never produces) only advances `version`.
 */
export function evolve(state: AppointmentState, event: AppointmentEvent): AppointmentState {
  const version = state.version + 1;
  switch (event.type) {
    case 'AppointmentRequested': {
      if (state.status !== 'NONE') return { ...state, version };
      const pending: PendingAppointment = {
        status: 'PENDING',
        appointmentId: event.appointmentId,
        providerId: event.providerId,
        clientId: event.clientId,
        start: event.start,
        end: event.end,
        bufferBeforeMinutes: event.bufferBeforeMinutes,
        bufferAfterMinutes: event.bufferAfterMinutes,
        price: event.price,
        policy: event.policy,
        client: event.client,
        ...(event.providerSnapshot === undefined ? {} : { providerSnapshot: event.providerSnapshot }),
        holdExpiresAt: event.holdExpiresAt,
        requestedAt: event.requestedAt,
        ledger: { paymentId: null, paidMinor: 0, retainedMinor: 0, refundedMinor: 0, lateRefundedPaymentIds: [] },
        rescheduleCount: 0,
        version,
      };
      return pending;
    }
    case 'AppointmentConfirmed': {
      if (state.status !== 'PENDING') return { ...state, version };
      return {
        ...state,
        status: 'CONFIRMED',
        confirmation: { reason: event.reason, confirmedAt: event.confirmedAt },
        ledger: { ...state.ledger, paymentId: event.paymentId, paidMinor: state.ledger.paidMinor + event.paidMinor },
        version,
      };
    }
    case 'AppointmentCancelled': {
      if (state.status !== 'PENDING' && state.status !== 'CONFIRMED') return { ...state, version };
      return {
        ...state,
        status: 'CANCELLED',
        confirmation: state.status === 'CONFIRMED' ? state.confirmation : null,
        cancellation: {
          by: event.by,
          reason: event.reason,
          previousStatus: event.previousStatus,
          late: event.late,
          feeMinor: event.feeMinor,
          refundMinor: event.refundMinor,
          cancelledAt: event.cancelledAt,
        },
        ledger: {
          ...state.ledger,
          retainedMinor: state.ledger.retainedMinor + event.feeMinor,
          refundedMinor: state.ledger.refundedMinor + event.refundMinor,
        },
        version,
      };
    }
    case 'AppointmentRescheduled': {
      if (state.status !== 'CONFIRMED') return { ...state, version };
      return {
        ...state,
        start: event.newStart,
        end: event.newEnd,
        ledger: { ...state.ledger, retainedMinor: state.ledger.retainedMinor + event.feeMinor },
        rescheduleCount: state.rescheduleCount + 1,
        version,
      };
    }
    case 'AppointmentCompleted': {
      if (state.status !== 'CONFIRMED') return { ...state, version };
      return {
        ...state,
        status: 'COMPLETED',
        completedAt: event.completedAt,
        settledMinor: event.settledMinor,
        ledger: { ...state.ledger, retainedMinor: state.ledger.retainedMinor + event.settledMinor },
        version,
      };
    }
    case 'AppointmentMarkedNoShow': {
      if (state.status !== 'CONFIRMED') return { ...state, version };
      return {
        ...state,
        status: 'NO_SHOW',
        noShow: { markedAt: event.markedAt, forfeitedMinor: event.forfeitedMinor, refundMinor: event.refundMinor },
        ledger: {
          ...state.ledger,
          retainedMinor: state.ledger.retainedMinor + event.forfeitedMinor,
          refundedMinor: state.ledger.refundedMinor + event.refundMinor,
        },
        version,
      };
    }
    case 'LatePaymentRefundRequested': {
      if (state.status === 'NONE') return { ...state, version };
      return {
        ...state,
        ledger: {
          ...state.ledger,
          lateRefundedPaymentIds: [...state.ledger.lateRefundedPaymentIds, event.paymentId],
        },
        version,
      };
    }
    default: {
      // Unknown event types (e.g. from a newer writer) are skipped, keeping evolve total.
      const _unknown: never = event;
      void _unknown;
      return { ...state, version };
    }
  }
}

/** Rebuilds a state from a stream (optionally continuing from a snapshot). */
export function foldEvents(
  events: readonly AppointmentEvent[],
  from: AppointmentState = initialState(),
): AppointmentState {
  return events.reduce(evolve, from);
}

/**
 * The time the provider is blocked by this appointment, half-open `[start − bufferBefore, end + bufferAfter)`,
 * as ISO strings. Accepts a state with a stream, an AppointmentRequested event, or anything slot-shaped.
 */
export function blockedRange(
  appointment: Pick<AppointmentDetails, 'start' | 'end' | 'bufferBeforeMinutes' | 'bufferAfterMinutes'>,
): readonly [from: IsoDateTime, to: IsoDateTime] {
  return [
    toIsoUtc(toMillis(appointment.start) - appointment.bufferBeforeMinutes * MINUTE_MS),
    toIsoUtc(toMillis(appointment.end) + appointment.bufferAfterMinutes * MINUTE_MS),
  ];
}
