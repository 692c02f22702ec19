export type { IsoDateTime } from './time';
export { parseIsoUtc, normalizeIsoUtc, toIsoUtc, MINUTE_MS, HOUR_MS } from './time';
export type { Actor, CancellationReason, ClientContact, Money, ProviderSnapshot } from './types';
export type { CancellationPolicy, CancellationOutcome, LateFee, RescheduleOutcome } from './cancellation-policy';
export {
  computeCancellationOutcome,
  computeRescheduleOutcome,
  isWithinFreeWindow,
  policyLateFeeMinor,
  validateCancellationPolicy,
} from './cancellation-policy';
export type {
  AppointmentCommand,
  AppointmentCommandType,
  CancelAppointment,
  CompleteAppointment,
  ConfirmAppointment,
  FailPayment,
  MarkNoShow,
  RequestAppointment,
  RescheduleAppointment,
} from './appointment.commands';
export { APPOINTMENT_COMMAND_TYPES } from './appointment.commands';
export type {
  AppointmentCancelled,
  AppointmentCompleted,
  AppointmentConfirmed,
  AppointmentEvent,
  AppointmentEventType,
  AppointmentMarkedNoShow,
  AppointmentRequested,
  AppointmentRescheduled,
  ConfirmationReason,
  LatePaymentRefundReason,
  LatePaymentRefundRequested,
} from './appointment.events';
export { APPOINTMENT_EVENT_TYPES } from './appointment.events';
export type {
  AppointmentDetails,
  AppointmentState,
  AppointmentStatus,
  CancelledAppointment,
  Cancellation,
  CompletedAppointment,
  Confirmation,
  ConfirmedAppointment,
  ExistingAppointment,
  NoAppointment,
  NoShowAppointment,
  PaymentLedger,
  PendingAppointment,
} from './appointment.state';
export {
  APPOINTMENT_STATUSES,
  TERMINAL_STATUSES,
  balanceMinor,
  blockedRange,
  evolve,
  foldEvents,
  initialState,
} from './appointment.state';
export { appointmentDecider, decide } from './appointment.decider';
export type { Decider } from './decider';
export type { AppointmentErrorCode } from './errors';
export {
  AlreadyCancelledError,
  AlreadyExistsError,
  AppointmentDomainError,
  AppointmentNotFoundError,
  HoldNotExpiredError,
  IllegalTransitionError,
  InvalidCommandError,
  NotStartedYetError,
} from './errors';
