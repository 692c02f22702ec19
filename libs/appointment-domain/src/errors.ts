import type { AppointmentStatus } from './appointment.state';

/** Stable codes for the API layer (suggested HTTP mapping in the README). */
export type AppointmentErrorCode =
  | 'ILLEGAL_TRANSITION'
  | 'ALREADY_CANCELLED'
  | 'NOT_STARTED_YET'
  | 'ALREADY_EXISTS'
  | 'NOT_FOUND'
  | 'INVALID_COMMAND'
  | 'HOLD_NOT_EXPIRED';

/** Base class of everything `decide` throws on purpose. Anything else thrown is a bug. */
export class AppointmentDomainError extends Error {
  constructor(
    readonly code: AppointmentErrorCode,
    /** Status of the appointment when the command was rejected. */
    readonly currentStatus: AppointmentStatus,
    /** The rejected command's `type`. */
    readonly commandType: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 409 — the command is not allowed in the current status. */
export class IllegalTransitionError extends AppointmentDomainError {
  declare readonly code: 'ILLEGAL_TRANSITION';
  constructor(currentStatus: AppointmentStatus, commandType: string, detail?: string) {
    super(
      'ILLEGAL_TRANSITION',
      currentStatus,
      commandType,
      `illegal transition: appointment is ${currentStatus} (${commandType} not allowed${detail ? `: ${detail}` : ''})`,
    );
  }
}

/** 409 — cancelling twice never refunds twice. */
export class AlreadyCancelledError extends AppointmentDomainError {
  declare readonly code: 'ALREADY_CANCELLED';
  constructor(commandType: string) {
    super('ALREADY_CANCELLED', 'CANCELLED', commandType, 'appointment is already cancelled');
  }
}

/** 409 — completing / marking no-show before the appointment starts. */
export class NotStartedYetError extends AppointmentDomainError {
  declare readonly code: 'NOT_STARTED_YET';
  constructor(currentStatus: AppointmentStatus, commandType: string, start: string) {
    super('NOT_STARTED_YET', currentStatus, commandType, `appointment has not started yet (starts ${start})`);
  }
}

/** 409 — RequestAppointment on an existing stream. */
export class AlreadyExistsError extends AppointmentDomainError {
  declare readonly code: 'ALREADY_EXISTS';
  constructor(currentStatus: AppointmentStatus, appointmentId: string) {
    super('ALREADY_EXISTS', currentStatus, 'RequestAppointment', `appointment ${appointmentId} already exists`);
  }
}

/** 404 — any command but RequestAppointment on an empty stream. */
export class AppointmentNotFoundError extends AppointmentDomainError {
  declare readonly code: 'NOT_FOUND';
  constructor(commandType: string, appointmentId: string) {
    super('NOT_FOUND', 'NONE', commandType, `appointment ${appointmentId} not found`);
  }
}

/** 400/422 — the command itself is malformed or contradicts the appointment (bad times, amounts…). */
export class InvalidCommandError extends AppointmentDomainError {
  declare readonly code: 'INVALID_COMMAND';
  constructor(
    currentStatus: AppointmentStatus,
    commandType: string,
    readonly problems: readonly string[],
  ) {
    super('INVALID_COMMAND', currentStatus, commandType, `invalid ${commandType}: ${problems.join('; ')}`);
  }
}

/** 409 — EXPIRED cancellation before `holdExpiresAt`. */
export class HoldNotExpiredError extends AppointmentDomainError {
  declare readonly code: 'HOLD_NOT_EXPIRED';
  constructor(holdExpiresAt: string) {
    super('HOLD_NOT_EXPIRED', 'PENDING', 'CancelAppointment', `hold does not expire before ${holdExpiresAt}`);
  }
}
