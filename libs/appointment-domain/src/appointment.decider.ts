import type {
  AppointmentCommand,
  CancelAppointment,
  CompleteAppointment,
  ConfirmAppointment,
  FailPayment,
  MarkNoShow,
  RequestAppointment,
  RescheduleAppointment,
} from './appointment.commands';
import type {
  AppointmentCancelled,
  AppointmentConfirmed,
  AppointmentEvent,
  AppointmentRequested,
  LatePaymentRefundRequested,
} from './appointment.events';
import {
  type AppointmentState,
  type ConfirmedAppointment,
  type ExistingAppointment,
  type PendingAppointment,
  balanceMinor,
  evolve,
  initialState,
} from './appointment.state';
import {
  computeCancellationOutcome,
  computeRescheduleOutcome,
  validateCancellationPolicy,
} from './cancellation-policy';
import type { Decider } from './decider';
import {
  AlreadyCancelledError,
  AlreadyExistsError,
  AppointmentNotFoundError,
  HoldNotExpiredError,
  IllegalTransitionError,
  InvalidCommandError,
  NotStartedYetError,
} from './errors';
import { type IsoDateTime, normalizeIsoUtc, parseIsoUtc, toMillis } from './time';
import type { Actor, CancellationReason, ClientContact } from './types';

const ACTORS: readonly Actor[] = ['CLIENT', 'PROVIDER', 'SYSTEM'];
/** Which actor may give which cancellation reason. */
const REASON_ACTOR: Readonly<Record<CancellationReason, Actor>> = {
  CLIENT_REQUEST: 'CLIENT',
  PROVIDER_REQUEST: 'PROVIDER',
  PAYMENT_FAILED: 'SYSTEM',
  EXPIRED: 'SYSTEM',
};
const CURRENCY = /^[A-Z]{3}$/;

/**
 * decide(command, state) → events. Pure: time and ids come in with the command.
 * Throws an AppointmentDomainError subclass for anything illegal; never anything else on purpose.
 */
export function decide(command: AppointmentCommand, state: AppointmentState): AppointmentEvent[] {
  switch (command.type) {
    case 'RequestAppointment':
      return requestAppointment(command, state);
    case 'ConfirmAppointment':
      return confirmAppointment(command, existing(command, state, validateConfirm(command)));
    case 'CancelAppointment':
      return cancelAppointment(command, existing(command, state, validateCancel(command)));
    case 'RescheduleAppointment':
      return rescheduleAppointment(command, existing(command, state, validateReschedule(command)));
    case 'CompleteAppointment':
      return completeAppointment(command, existing(command, state, []));
    case 'MarkNoShow':
      return markNoShow(command, existing(command, state, []));
    case 'FailPayment':
      return failPayment(command, existing(command, state, validateFailPayment(command)));
    default: {
      const unknownCommand: never = command;
      const type = String((unknownCommand as { type?: unknown }).type);
      throw new InvalidCommandError(state.status, type, [`unknown command type ${type}`]);
    }
  }
}

export const appointmentDecider: Decider<AppointmentState, AppointmentCommand, AppointmentEvent> = {
  decide,
  evolve,
  initialState,
};

// ── handlers ────────────────────────────────────────────────────────────────

function requestAppointment(command: RequestAppointment, state: AppointmentState): AppointmentEvent[] {
  const problems = [...commonProblems(command), ...validateRequest(command)];
  if (problems.length > 0) throw new InvalidCommandError(state.status, command.type, problems);
  if (state.status !== 'NONE') throw new AlreadyExistsError(state.status, command.appointmentId);

  const at = iso(command.at);
  const requested: AppointmentRequested = {
    type: 'AppointmentRequested',
    appointmentId: command.appointmentId,
    providerId: command.providerId,
    clientId: command.clientId,
    start: iso(command.start),
    end: iso(command.end),
    bufferBeforeMinutes: command.bufferBeforeMinutes,
    bufferAfterMinutes: command.bufferAfterMinutes,
    price: { amountMinor: command.price.amountMinor, currency: command.price.currency },
    policy: copyPolicy(command),
    client: copyContact(command.client),
    ...(command.providerSnapshot === undefined ? {} : { providerSnapshot: { ...command.providerSnapshot } }),
    holdExpiresAt: iso(command.holdExpiresAt),
    requestedAt: at,
  };
  if (command.price.amountMinor > 0) return [requested];
  // Nothing to pay: confirmed in the same decision (the caller appends both events atomically).
  const confirmed: AppointmentConfirmed = {
    type: 'AppointmentConfirmed',
    appointmentId: command.appointmentId,
    reason: 'NO_PAYMENT_REQUIRED',
    paymentId: null,
    paidMinor: 0,
    currency: command.price.currency,
    confirmedAt: at,
  };
  return [requested, confirmed];
}

function confirmAppointment(command: ConfirmAppointment, state: ExistingAppointment): AppointmentEvent[] {
  // Payment charges exactly the price the appointment was requested at (its AppointmentRequested), so
  // an outcome of another amount or currency is not the payment this appointment asked for: it may
  // neither confirm it nor be refunded in its name.
  const mismatch = [
    ...(command.amountMinor === state.price.amountMinor ? [] : [`amountMinor ${command.amountMinor} is not the price ${state.price.amountMinor}`]),
    ...(command.currency === state.price.currency ? [] : [`currency ${command.currency} is not the price's ${state.price.currency}`]),
  ];
  if (mismatch.length > 0) throw new InvalidCommandError(state.status, command.type, mismatch);
  switch (state.status) {
    case 'PENDING':
      return [
        {
          type: 'AppointmentConfirmed',
          appointmentId: state.appointmentId,
          reason: 'PAYMENT_SUCCEEDED',
          paymentId: command.paymentId,
          paidMinor: command.amountMinor,
          currency: state.price.currency,
          confirmedAt: iso(command.at),
        },
      ];
    case 'CONFIRMED':
    case 'CANCELLED': {
      // Redelivery of a payment we already accounted for (it confirmed us, or was already sent back).
      if (paymentAlreadyHandled(state, command.paymentId)) return [];
      // Money captured with no appointment to show for it: must go back in full.
      const refund: LatePaymentRefundRequested = {
        type: 'LatePaymentRefundRequested',
        appointmentId: state.appointmentId,
        paymentId: command.paymentId,
        amountMinor: command.amountMinor,
        currency: state.price.currency,
        reason: state.status === 'CONFIRMED' ? 'DUPLICATE_PAYMENT' : 'APPOINTMENT_NOT_PENDING',
        requestedAt: iso(command.at),
      };
      return [refund];
    }
    case 'COMPLETED':
    case 'NO_SHOW':
      throw new IllegalTransitionError(state.status, command.type);
  }
}

function cancelAppointment(command: CancelAppointment, state: ExistingAppointment): AppointmentEvent[] {
  switch (state.status) {
    case 'PENDING':
      if (command.reason === 'EXPIRED' && toMillis(command.at) < toMillis(state.holdExpiresAt)) {
        throw new HoldNotExpiredError(state.holdExpiresAt);
      }
      return [cancelled(state, command.by, command.reason, command.at)];
    case 'CONFIRMED':
      if (command.by === 'SYSTEM') {
        throw new IllegalTransitionError(state.status, command.type, `${command.reason} only cancels a PENDING appointment`);
      }
      return [cancelled(state, command.by, command.reason, command.at)];
    case 'CANCELLED':
      throw new AlreadyCancelledError(command.type);
    case 'COMPLETED':
    case 'NO_SHOW':
      throw new IllegalTransitionError(state.status, command.type);
  }
}

function rescheduleAppointment(command: RescheduleAppointment, state: ExistingAppointment): AppointmentEvent[] {
  if (state.status !== 'CONFIRMED') {
    throw new IllegalTransitionError(state.status, command.type, 'only a CONFIRMED appointment can be rescheduled');
  }
  const at = toMillis(command.at);
  const newStart = iso(command.newStart);
  const newEnd = iso(command.newEnd);
  const problems: string[] = [];
  if (at >= toMillis(state.start)) problems.push('the appointment has already started');
  if (toMillis(newStart) < at) problems.push('newStart is in the past');
  if (newStart === state.start && newEnd === state.end) problems.push('the new slot is the current slot');
  if (problems.length > 0) throw new InvalidCommandError(state.status, command.type, problems);

  const outcome = computeRescheduleOutcome(state.policy, state.price, balanceMinor(state), state.start, command.at, command.by);
  return [
    {
      type: 'AppointmentRescheduled',
      appointmentId: state.appointmentId,
      by: command.by,
      previousStart: state.start,
      previousEnd: state.end,
      newStart,
      newEnd,
      free: outcome.free,
      feeMinor: outcome.feeMinor,
      creditMinor: outcome.creditMinor,
      currency: state.price.currency,
      rescheduledAt: iso(command.at),
    },
  ];
}

function completeAppointment(command: CompleteAppointment, state: ExistingAppointment): AppointmentEvent[] {
  const confirmed = startedConfirmed(command, state);
  return [
    {
      type: 'AppointmentCompleted',
      appointmentId: confirmed.appointmentId,
      settledMinor: balanceMinor(confirmed),
      currency: confirmed.price.currency,
      completedAt: iso(command.at),
    },
  ];
}

function markNoShow(command: MarkNoShow, state: ExistingAppointment): AppointmentEvent[] {
  const confirmed = startedConfirmed(command, state);
  const balance = balanceMinor(confirmed);
  const forfeitedMinor = confirmed.policy.noShowForfeits ? balance : 0;
  return [
    {
      type: 'AppointmentMarkedNoShow',
      appointmentId: confirmed.appointmentId,
      forfeitedMinor,
      refundMinor: balance - forfeitedMinor,
      currency: confirmed.price.currency,
      paymentId: confirmed.ledger.paymentId,
      markedAt: iso(command.at),
    },
  ];
}

function failPayment(command: FailPayment, state: ExistingAppointment): AppointmentEvent[] {
  switch (state.status) {
    case 'PENDING':
      return [
        {
          ...cancelled(state, 'SYSTEM', 'PAYMENT_FAILED', command.at),
          failedPayment: { paymentId: command.paymentId, reason: command.reason },
        },
      ];
    case 'CANCELLED':
      return []; // already over (expired, cancelled, or this failure redelivered)
    case 'CONFIRMED':
    case 'COMPLETED':
    case 'NO_SHOW':
      throw new IllegalTransitionError(state.status, command.type);
  }
}

// ── helpers ─────────────────────────────────────────────────────────────────

function cancelled(
  state: PendingAppointment | ConfirmedAppointment,
  by: Actor,
  reason: CancellationReason,
  at: IsoDateTime,
): AppointmentCancelled {
  const balance = balanceMinor(state);
  const outcome = computeCancellationOutcome(state.policy, state.price, balance, state.start, at, by);
  return {
    type: 'AppointmentCancelled',
    appointmentId: state.appointmentId,
    by,
    reason,
    previousStatus: state.status,
    late: outcome.late,
    balanceMinor: balance,
    feeMinor: outcome.feeMinor,
    refundMinor: outcome.refundMinor,
    currency: state.price.currency,
    paymentId: state.ledger.paymentId,
    cancelledAt: iso(at),
  };
}

function paymentAlreadyHandled(state: ExistingAppointment, paymentId: string): boolean {
  return state.ledger.paymentId === paymentId || state.ledger.lateRefundedPaymentIds.includes(paymentId);
}

function startedConfirmed(command: CompleteAppointment | MarkNoShow, state: ExistingAppointment): ConfirmedAppointment {
  if (state.status !== 'CONFIRMED') throw new IllegalTransitionError(state.status, command.type);
  if (toMillis(command.at) < toMillis(state.start)) {
    throw new NotStartedYetError(state.status, command.type, state.start);
  }
  return state;
}

/** Validates the command shape, then requires an existing stream for the same appointment. */
function existing(
  command: Exclude<AppointmentCommand, RequestAppointment>,
  state: AppointmentState,
  specificProblems: readonly string[],
): ExistingAppointment {
  const problems = [...commonProblems(command), ...specificProblems];
  if (problems.length > 0) throw new InvalidCommandError(state.status, command.type, problems);
  if (state.status === 'NONE') throw new AppointmentNotFoundError(command.type, command.appointmentId);
  if (command.appointmentId !== state.appointmentId) {
    throw new InvalidCommandError(state.status, command.type, [
      `command is for ${command.appointmentId} but the state is ${state.appointmentId}`,
    ]);
  }
  return state;
}

/** Canonical form of an already validated instant. */
function iso(value: IsoDateTime): IsoDateTime {
  return normalizeIsoUtc(value) ?? value;
}

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value.trim().length > 0;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function instantProblem(name: string, value: unknown): string[] {
  return parseIsoUtc(value) === undefined ? [`${name} must be a UTC ISO-8601 instant (e.g. 2026-12-01T14:00:00.000Z)`] : [];
}

function commonProblems(command: AppointmentCommand): string[] {
  return [
    ...(nonEmpty(command.appointmentId) ? [] : ['appointmentId is required']),
    ...instantProblem('at', command.at),
  ];
}

function validateRequest(c: RequestAppointment): string[] {
  const problems: string[] = [];
  if (!nonEmpty(c.providerId)) problems.push('providerId is required');
  if (!nonEmpty(c.clientId)) problems.push('clientId is required');
  problems.push(...instantProblem('start', c.start), ...instantProblem('end', c.end));
  problems.push(...instantProblem('holdExpiresAt', c.holdExpiresAt));
  const at = parseIsoUtc(c.at);
  const start = parseIsoUtc(c.start);
  const end = parseIsoUtc(c.end);
  const hold = parseIsoUtc(c.holdExpiresAt);
  if (start !== undefined && end !== undefined && end <= start) problems.push('end must be after start');
  if (at !== undefined && start !== undefined && start < at) problems.push('start is in the past');
  if (at !== undefined && hold !== undefined && hold <= at) problems.push('holdExpiresAt must be after at');
  if (!isCount(c.bufferBeforeMinutes)) problems.push('bufferBeforeMinutes must be an integer >= 0');
  if (!isCount(c.bufferAfterMinutes)) problems.push('bufferAfterMinutes must be an integer >= 0');
  if (typeof c.price !== 'object' || c.price === null) {
    problems.push('price is required');
  } else {
    if (!isCount(c.price.amountMinor)) problems.push('price.amountMinor must be an integer >= 0');
    if (typeof c.price.currency !== 'string' || !CURRENCY.test(c.price.currency)) {
      problems.push('price.currency must be an ISO-4217 code');
    }
  }
  problems.push(...validateCancellationPolicy(c.policy));
  if (typeof c.client !== 'object' || c.client === null || !nonEmpty(c.client.timeZone)) {
    problems.push('client.timeZone is required');
  }
  return problems;
}

function validateConfirm(c: ConfirmAppointment): string[] {
  return [
    ...(nonEmpty(c.paymentId) ? [] : ['paymentId is required']),
    ...(isCount(c.amountMinor) ? [] : ['amountMinor must be an integer >= 0']),
    ...(CURRENCY.test(String(c.currency)) ? [] : ['currency must be an ISO 4217 code']),
  ];
}

function validateCancel(c: CancelAppointment): string[] {
  if (!ACTORS.includes(c.by)) return [`by must be one of ${ACTORS.join(', ')}`];
  const expected = REASON_ACTOR[c.reason];
  if (expected === undefined) return [`unknown cancellation reason ${String(c.reason)}`];
  return expected === c.by ? [] : [`${c.reason} can only be given by ${expected}, not ${c.by}`];
}

function validateReschedule(c: RescheduleAppointment): string[] {
  const problems = [...instantProblem('newStart', c.newStart), ...instantProblem('newEnd', c.newEnd)];
  const start = parseIsoUtc(c.newStart);
  const end = parseIsoUtc(c.newEnd);
  if (start !== undefined && end !== undefined && end <= start) problems.push('newEnd must be after newStart');
  if (c.by !== 'CLIENT' && c.by !== 'PROVIDER') problems.push('by must be CLIENT or PROVIDER');
  if (c.newAppointmentId !== undefined && c.newAppointmentId !== c.appointmentId) {
    problems.push('rescheduling moves the same appointment: newAppointmentId must be omitted or equal appointmentId');
  }
  return problems;
}

function validateFailPayment(c: FailPayment): string[] {
  return [
    ...(nonEmpty(c.paymentId) ? [] : ['paymentId is required']),
    ...(typeof c.reason === 'string' ? [] : ['reason must be a string']),
  ];
}

function copyPolicy(c: RequestAppointment): RequestAppointment['policy'] {
  const p = c.policy;
  return {
    freeUntilHoursBefore: p.freeUntilHoursBefore,
    lateFee:
      p.lateFee.kind === 'PERCENT'
        ? { kind: 'PERCENT', percent: p.lateFee.percent }
        : { kind: 'AMOUNT', amountMinor: p.lateFee.amountMinor },
    noShowForfeits: p.noShowForfeits,
    rescheduleFreeUntilHoursBefore: p.rescheduleFreeUntilHoursBefore,
  };
}

/** Keeps only defined contact fields so the event serialises cleanly. */
function copyContact(client: ClientContact): ClientContact {
  const out: { -readonly [K in keyof ClientContact]?: ClientContact[K] } = { timeZone: client.timeZone };
  for (const key of ['email', 'phone', 'pushToken', 'locale'] as const) {
    if (client[key] !== undefined) out[key] = client[key];
  }
  return out as ClientContact;
}
