// Relative import (nx boundary rule); the `@booking/appointment-domain` alias points at this file.
import * as api from './index';

describe('@booking/appointment-domain public API', () => {
  it('exposes the decider and its helpers from the entry point', () => {
    expect(Object.keys(api.appointmentDecider).sort()).toEqual(['decide', 'evolve', 'initialState']);
    expect(api.appointmentDecider.decide).toBe(api.decide);
    expect(typeof api.foldEvents).toBe('function');
    expect(typeof api.blockedRange).toBe('function');
    expect(typeof api.computeCancellationOutcome).toBe('function');
    expect(api.APPOINTMENT_EVENT_TYPES).toEqual([
      'AppointmentRequested',
      'AppointmentConfirmed',
      'AppointmentCancelled',
      'AppointmentRescheduled',
      'AppointmentCompleted',
      'AppointmentMarkedNoShow',
      'LatePaymentRefundRequested',
    ]);
    for (const ErrorClass of [
      api.IllegalTransitionError,
      api.AlreadyCancelledError,
      api.NotStartedYetError,
      api.AlreadyExistsError,
      api.AppointmentNotFoundError,
      api.InvalidCommandError,
      api.HoldNotExpiredError,
    ]) {
      expect(ErrorClass.prototype).toBeInstanceOf(api.AppointmentDomainError);
    }
  });
});
