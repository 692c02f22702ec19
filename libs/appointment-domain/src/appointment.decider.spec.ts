import { appointmentDecider } from './appointment.decider';
import type { AppointmentEvent } from './appointment.events';
import type { CancelledAppointment, ConfirmedAppointment } from './appointment.state';
import {
  AlreadyCancelledError,
  AlreadyExistsError,
  AppointmentDomainError,
  AppointmentNotFoundError,
  HoldNotExpiredError,
  IllegalTransitionError,
  InvalidCommandError,
  NotStartedYetError,
} from './errors';
import { DeciderSpecification } from './testing/decider-spec';
import {
  APPOINTMENT_ID,
  BOOKED_AT,
  END,
  HOLD_EXPIRES_AT,
  POLICY,
  PRICE,
  START,
  STREAMS,
  appointmentCancelled,
  appointmentConfirmed,
  appointmentRequested,
  cancel,
  complete,
  confirm,
  failPayment,
  hoursBeforeStart,
  markNoShow,
  requestAppointment,
  reschedule,
  shift,
} from './testing/fixtures';

const spec = DeciderSpecification.for(appointmentDecider);
const given = (events: readonly AppointmentEvent[]) => spec.given(events);
const confirmedWith = (policy = POLICY) => [appointmentRequested({ policy }), appointmentConfirmed()];

describe('RequestAppointment', () => {
  it('NONE → AppointmentRequested with everything downstream needs', () => {
    given([]).when(requestAppointment()).then([appointmentRequested()]);
  });

  it('a free appointment is requested AND confirmed in the same decision', () => {
    const free = { price: { amountMinor: 0, currency: 'EUR' } };
    const state = given([])
      .when(requestAppointment(free))
      .then([
        appointmentRequested(free),
        appointmentConfirmed({ reason: 'NO_PAYMENT_REQUIRED', paymentId: null, paidMinor: 0, confirmedAt: BOOKED_AT }),
      ]);
    expect(state.status).toBe('CONFIRMED');
  });

  it('normalises instants to canonical UTC ISO strings', () => {
    const [event] = appointmentDecider.decide(
      requestAppointment({ start: '2026-12-01T14:00:00Z', end: '2026-12-01T15:00:00.5Z' }),
      appointmentDecider.initialState(),
    );
    expect(event).toMatchObject({ start: '2026-12-01T14:00:00.000Z', end: '2026-12-01T15:00:00.500Z' });
  });

  it('omits undefined optional contact fields so the event serialises cleanly', () => {
    const [event] = appointmentDecider.decide(
      requestAppointment({ client: { timeZone: 'UTC', email: undefined }, providerSnapshot: undefined }),
      appointmentDecider.initialState(),
    );
    expect(Object.keys(event as object)).not.toContain('providerSnapshot');
    expect(event).toMatchObject({ client: { timeZone: 'UTC' } });
    expect(Object.keys((event as { client: object }).client)).toEqual(['timeZone']);
  });

  it.each(['PENDING', 'CONFIRMED', 'CANCELLED', 'COMPLETED', 'NO_SHOW'] as const)('%s → ALREADY_EXISTS', (status) => {
    given(STREAMS[status])
      .when(requestAppointment())
      .thenThrows(AlreadyExistsError, (e) => e.code === 'ALREADY_EXISTS' && e.currentStatus === status);
  });

  it.each([
    ['end before start', { end: shift(START, { minutes: -1 }) }],
    ['end equal to start', { end: START }],
    ['start in the past', { start: shift(BOOKED_AT, { ms: -1 }), end: END }],
    ['hold not after at', { holdExpiresAt: BOOKED_AT }],
    ['local time without Z', { start: '2026-12-01T14:00:00' }],
    ['offset instead of Z', { start: '2026-12-01T15:00:00+01:00' }],
    ['impossible date', { start: '2026-11-31T14:00:00.000Z' }],
    ['epoch number', { start: 1796133600000 as unknown as string }],
    ['negative buffer', { bufferBeforeMinutes: -5 }],
    ['fractional buffer', { bufferAfterMinutes: 2.5 }],
    ['fractional price', { price: { amountMinor: 10.5, currency: 'EUR' } }],
    ['negative price', { price: { amountMinor: -1, currency: 'EUR' } }],
    ['bad currency', { price: { amountMinor: 100, currency: 'euro' } }],
    ['percent > 100', { policy: { ...POLICY, lateFee: { kind: 'PERCENT', percent: 101 } } }],
    ['negative free hours', { policy: { ...POLICY, freeUntilHoursBefore: -1 } }],
    ['missing time zone', { client: { timeZone: '' } }],
    ['empty providerId', { providerId: '' }],
    ['empty appointmentId', { appointmentId: '' }],
    ['invalid at', { at: 'now' }],
  ] as const)('rejects %s → INVALID_COMMAND', (_name, overrides) => {
    given([])
      .when(requestAppointment(overrides as never))
      .thenThrows(InvalidCommandError, (e) => e.code === 'INVALID_COMMAND' && e.problems.length > 0);
  });
});

describe('ConfirmAppointment', () => {
  it('PENDING → AppointmentConfirmed (payment succeeded)', () => {
    const state = given(STREAMS.PENDING).when(confirm()).then([appointmentConfirmed()]);
    expect(state).toMatchObject({ status: 'CONFIRMED', ledger: { paymentId: 'pay-1', paidMinor: PRICE.amountMinor } });
  });

  it('PENDING past its hold expiry but not yet expired → still confirms (the payment won the race)', () => {
    given(STREAMS.PENDING)
      .when(confirm({ at: shift(HOLD_EXPIRES_AT, { minutes: 5 }) }))
      .then([appointmentConfirmed({ confirmedAt: shift(HOLD_EXPIRES_AT, { minutes: 5 }) })]);
  });

  it('CONFIRMED with the same paymentId → no events (idempotent redelivery)', () => {
    given(STREAMS.CONFIRMED).when(confirm({ at: shift(BOOKED_AT, { hours: 1 }) })).thenNothingHappened();
  });

  it('CONFIRMED with another paymentId → the duplicate charge is refunded', () => {
    const at = shift(BOOKED_AT, { hours: 1 });
    given(STREAMS.CONFIRMED)
      .when(confirm({ paymentId: 'pay-2', amountMinor: 10_000, at }))
      .then([
        {
          type: 'LatePaymentRefundRequested',
          appointmentId: APPOINTMENT_ID,
          paymentId: 'pay-2',
          amountMinor: 10_000,
          currency: 'EUR',
          reason: 'DUPLICATE_PAYMENT',
          requestedAt: at,
        },
      ]);
  });

  it('CANCELLED (expired) → LatePaymentRefundRequested instead of an error: nobody stays charged', () => {
    const at = shift(HOLD_EXPIRES_AT, { minutes: 1 });
    const state = given(STREAMS.CANCELLED)
      .when(confirm({ at }))
      .then([
        {
          type: 'LatePaymentRefundRequested',
          appointmentId: APPOINTMENT_ID,
          paymentId: 'pay-1',
          amountMinor: PRICE.amountMinor,
          currency: 'EUR',
          reason: 'APPOINTMENT_NOT_PENDING',
          requestedAt: at,
        },
      ]);
    expect(state.status).toBe('CANCELLED');
  });

  it('CANCELLED: the same late payment delivered twice is refunded once', () => {
    const late = confirm({ at: shift(HOLD_EXPIRES_AT, { minutes: 1 }) });
    const events = [...STREAMS.CANCELLED, ...decideOn(STREAMS.CANCELLED, late)];
    given(events).when(late).thenNothingHappened();
  });

  it('CANCELLED after being paid: redelivery of the confirming payment → no events (the cancellation settled it)', () => {
    const stream = [...STREAMS.CONFIRMED, ...decideOn(STREAMS.CONFIRMED, cancel('CLIENT', 'CLIENT_REQUEST', hoursBeforeStart(48)))];
    given(stream).when(confirm()).thenNothingHappened();
  });

  it.each([
    ['PENDING', 'an amount other than the price', { amountMinor: 1 }, 'amountMinor 1'],
    ['PENDING', 'another currency', { currency: 'JPY' }, 'currency JPY'],
    ['CONFIRMED', 'a second payment of another amount (no refund in its name)', { paymentId: 'pay-2', amountMinor: PRICE.amountMinor + 1 }, 'amountMinor'],
    ['CANCELLED', 'a late payment in another currency (no refund in its name)', { currency: 'USD' }, 'currency USD'],
  ] as const)('%s: a payment of %s → INVALID_COMMAND, nothing happens', (status, _what, overrides, problem) => {
    given(STREAMS[status])
      .when(confirm({ ...overrides, at: shift(HOLD_EXPIRES_AT, { minutes: 1 }) }))
      .thenThrows(InvalidCommandError, (e) => e.problems.some((p) => p.startsWith(problem)));
  });

  it.each(['COMPLETED', 'NO_SHOW'] as const)('%s → ILLEGAL_TRANSITION', (status) => {
    given(STREAMS[status])
      .when(confirm())
      .thenThrows(IllegalTransitionError, (e) => e.currentStatus === status);
  });

  it('NONE → NOT_FOUND', () => {
    given([]).when(confirm()).thenThrows(AppointmentNotFoundError, (e) => e.code === 'NOT_FOUND');
  });

  it.each([
    ['empty paymentId', { paymentId: '' }],
    ['negative amount', { amountMinor: -1 }],
    ['fractional amount', { amountMinor: 1.5 }],
  ] as const)('rejects %s → INVALID_COMMAND', (_n, overrides) => {
    given(STREAMS.PENDING).when(confirm(overrides)).thenThrows(InvalidCommandError);
  });
});

describe('CancelAppointment', () => {
  describe('from PENDING (nothing paid → refund 0)', () => {
    it.each([
      ['CLIENT', 'CLIENT_REQUEST'],
      ['PROVIDER', 'PROVIDER_REQUEST'],
      ['SYSTEM', 'PAYMENT_FAILED'],
    ] as const)('%s / %s → AppointmentCancelled', (by, reason) => {
      const at = shift(BOOKED_AT, { minutes: 5 });
      given(STREAMS.PENDING)
        .when(cancel(by, reason, at))
        .then([appointmentCancelled({ by, reason, cancelledAt: at })]);
    });

    it('a late client cancellation of an unpaid appointment is late but costs nothing', () => {
      const pendingLate = [appointmentRequested({ at: hoursBeforeStart(2), holdExpiresAt: hoursBeforeStart(1) })];
      const at = hoursBeforeStart(1.5);
      given(pendingLate)
        .when(cancel('CLIENT', 'CLIENT_REQUEST', at))
        .then([appointmentCancelled({ by: 'CLIENT', reason: 'CLIENT_REQUEST', late: true, cancelledAt: at })]);
    });

    it('EXPIRED at exactly holdExpiresAt → AppointmentCancelled', () => {
      const state = given(STREAMS.PENDING)
        .when(cancel('SYSTEM', 'EXPIRED', HOLD_EXPIRES_AT))
        .then([appointmentCancelled()]);
      expect((state as CancelledAppointment).cancellation).toMatchObject({ reason: 'EXPIRED', previousStatus: 'PENDING' });
    });

    it('EXPIRED one millisecond before holdExpiresAt → HOLD_NOT_EXPIRED', () => {
      given(STREAMS.PENDING)
        .when(cancel('SYSTEM', 'EXPIRED', shift(HOLD_EXPIRES_AT, { ms: -1 })))
        .thenThrows(HoldNotExpiredError, (e) => e.code === 'HOLD_NOT_EXPIRED' && e.currentStatus === 'PENDING');
    });
  });

  describe('from CONFIRMED (policy snapshot, amount paid)', () => {
    it('client, exactly 24 h before start → free, full refund', () => {
      given(STREAMS.CONFIRMED)
        .when(cancel('CLIENT', 'CLIENT_REQUEST', hoursBeforeStart(24)))
        .then([
          appointmentCancelled({
            by: 'CLIENT',
            reason: 'CLIENT_REQUEST',
            previousStatus: 'CONFIRMED',
            late: false,
            balanceMinor: 10_000,
            feeMinor: 0,
            refundMinor: 10_000,
            paymentId: 'pay-1',
            cancelledAt: hoursBeforeStart(24),
          }),
        ]);
    });

    it('client, one second later → late fee (50 %)', () => {
      const at = shift(hoursBeforeStart(24), { seconds: 1 });
      given(STREAMS.CONFIRMED)
        .when(cancel('CLIENT', 'CLIENT_REQUEST', at))
        .then([
          appointmentCancelled({
            by: 'CLIENT',
            reason: 'CLIENT_REQUEST',
            previousStatus: 'CONFIRMED',
            late: true,
            balanceMinor: 10_000,
            feeMinor: 5_000,
            refundMinor: 5_000,
            paymentId: 'pay-1',
            cancelledAt: at,
          }),
        ]);
    });

    it('client after the start → treated as late (fee applies)', () => {
      given(STREAMS.CONFIRMED)
        .when(cancel('CLIENT', 'CLIENT_REQUEST', shift(START, { minutes: 30 })))
        .then([expect.objectContaining({ late: true, feeMinor: 5_000, refundMinor: 5_000 }) as AppointmentEvent]);
    });

    it('fixed amount fee', () => {
      given(confirmedWith({ ...POLICY, lateFee: { kind: 'AMOUNT', amountMinor: 2_500 } }))
        .when(cancel('CLIENT', 'CLIENT_REQUEST', hoursBeforeStart(2)))
        .then([expect.objectContaining({ feeMinor: 2_500, refundMinor: 7_500 }) as AppointmentEvent]);
    });

    it('amount fee above the price is capped at the price', () => {
      given(confirmedWith({ ...POLICY, lateFee: { kind: 'AMOUNT', amountMinor: 50_000 } }))
        .when(cancel('CLIENT', 'CLIENT_REQUEST', hoursBeforeStart(2)))
        .then([expect.objectContaining({ feeMinor: 10_000, refundMinor: 0 }) as AppointmentEvent]);
    });

    it('fee is capped at the amount actually paid', () => {
      const partiallyPaid = [appointmentRequested(), appointmentConfirmed({ paidMinor: 3_000 })];
      given(partiallyPaid)
        .when(cancel('CLIENT', 'CLIENT_REQUEST', hoursBeforeStart(2)))
        .then([expect.objectContaining({ balanceMinor: 3_000, feeMinor: 3_000, refundMinor: 0 }) as AppointmentEvent]);
    });

    it('provider cancellation, even late or after start → full refund, fee 0', () => {
      for (const at of [hoursBeforeStart(48), hoursBeforeStart(1), shift(START, { minutes: 5 })]) {
        given(STREAMS.CONFIRMED)
          .when(cancel('PROVIDER', 'PROVIDER_REQUEST', at))
          .then([expect.objectContaining({ by: 'PROVIDER', late: false, feeMinor: 0, refundMinor: 10_000 }) as AppointmentEvent]);
      }
    });

    it('the policy snapshotted at booking applies, not a later one', () => {
      // The stream was requested with a 0 % fee; nothing in later commands can change that.
      given(confirmedWith({ ...POLICY, lateFee: { kind: 'PERCENT', percent: 0 } }))
        .when(cancel('CLIENT', 'CLIENT_REQUEST', hoursBeforeStart(1)))
        .then([expect.objectContaining({ late: true, feeMinor: 0, refundMinor: 10_000 }) as AppointmentEvent]);
    });

    it.each(['EXPIRED', 'PAYMENT_FAILED'] as const)('SYSTEM / %s → ILLEGAL_TRANSITION', (reason) => {
      given(STREAMS.CONFIRMED)
        .when(cancel('SYSTEM', reason, shift(HOLD_EXPIRES_AT, { minutes: 1 })))
        .thenThrows(IllegalTransitionError, (e) => e.currentStatus === 'CONFIRMED' && /CONFIRMED/.test(e.message));
    });
  });

  it('cancel twice → ALREADY_CANCELLED (never a second refund)', () => {
    const first = cancel('CLIENT', 'CLIENT_REQUEST', hoursBeforeStart(30));
    const stream = [...STREAMS.CONFIRMED, ...decideOn(STREAMS.CONFIRMED, first)];
    given(stream)
      .when(cancel('CLIENT', 'CLIENT_REQUEST', hoursBeforeStart(29)))
      .thenThrows(AlreadyCancelledError, (e) => e.code === 'ALREADY_CANCELLED' && e.currentStatus === 'CANCELLED');
  });

  it.each(['COMPLETED', 'NO_SHOW'] as const)('%s → ILLEGAL_TRANSITION', (status) => {
    given(STREAMS[status])
      .when(cancel('CLIENT', 'CLIENT_REQUEST', shift(END, { hours: 1 })))
      .thenThrows(IllegalTransitionError, (e) => e.currentStatus === status);
  });

  it.each([
    ['CLIENT', 'EXPIRED'],
    ['CLIENT', 'PROVIDER_REQUEST'],
    ['PROVIDER', 'PAYMENT_FAILED'],
    ['SYSTEM', 'CLIENT_REQUEST'],
    ['ADMIN', 'CLIENT_REQUEST'],
    ['CLIENT', 'BORED'],
  ])('by %s with reason %s → INVALID_COMMAND', (by, reason) => {
    given(STREAMS.PENDING)
      .when(cancel(by as never, reason as never, HOLD_EXPIRES_AT))
      .thenThrows(InvalidCommandError);
  });
});

describe('RescheduleAppointment (same stream is moved)', () => {
  const newStart = '2026-12-03T09:00:00.000Z';
  const newEnd = '2026-12-03T10:00:00.000Z';

  it('client, at the reschedule boundary (48 h before) → free, the whole payment moves as credit', () => {
    const at = hoursBeforeStart(48);
    const state = given(STREAMS.CONFIRMED)
      .when(reschedule({ at }))
      .then([
        {
          type: 'AppointmentRescheduled',
          appointmentId: APPOINTMENT_ID,
          by: 'CLIENT',
          previousStart: START,
          previousEnd: END,
          newStart,
          newEnd,
          free: true,
          feeMinor: 0,
          creditMinor: 10_000,
          currency: 'EUR',
          rescheduledAt: at,
        },
      ]);
    expect(state).toMatchObject({ status: 'CONFIRMED', appointmentId: APPOINTMENT_ID, start: newStart, end: newEnd, rescheduleCount: 1 });
  });

  it('client, one second after the boundary → late fee charged, rest moves as credit', () => {
    const at = shift(hoursBeforeStart(48), { seconds: 1 });
    const state = given(STREAMS.CONFIRMED)
      .when(reschedule({ at }))
      .then([
        expect.objectContaining({ free: false, feeMinor: 5_000, creditMinor: 5_000, rescheduledAt: at }) as AppointmentEvent,
      ]);
    expect((state as ConfirmedAppointment).ledger).toMatchObject({ paidMinor: 10_000, retainedMinor: 5_000 });
  });

  it('after a late reschedule, a cancellation works on the remaining credit', () => {
    const late = reschedule({ at: hoursBeforeStart(30) });
    const stream = [...STREAMS.CONFIRMED, ...decideOn(STREAMS.CONFIRMED, late)];
    // new start is 2026-12-03T09:00Z; 3 days before it is free.
    given(stream)
      .when(cancel('CLIENT', 'CLIENT_REQUEST', hoursBeforeStart(29)))
      .then([expect.objectContaining({ balanceMinor: 5_000, feeMinor: 0, refundMinor: 5_000, late: false }) as AppointmentEvent]);
  });

  it('provider, late → always free', () => {
    given(STREAMS.CONFIRMED)
      .when(reschedule({ by: 'PROVIDER', at: hoursBeforeStart(1) }))
      .then([expect.objectContaining({ by: 'PROVIDER', free: true, feeMinor: 0, creditMinor: 10_000 }) as AppointmentEvent]);
  });

  it('accepts newAppointmentId equal to appointmentId', () => {
    given(STREAMS.CONFIRMED)
      .when(reschedule({ newAppointmentId: APPOINTMENT_ID }))
      .then([expect.objectContaining({ type: 'AppointmentRescheduled' }) as AppointmentEvent]);
  });

  it.each([
    ['the same slot', { newStart: START, newEnd: END }],
    ['the same slot written differently', { newStart: '2026-12-01T14:00:00Z', newEnd: '2026-12-01T15:00:00Z' }],
    ['newEnd before newStart', { newStart, newEnd: shift(newStart, { minutes: -30 }) }],
    ['newEnd equal to newStart', { newStart, newEnd: newStart }],
    ['a new slot in the past', { newStart: shift(hoursBeforeStart(72), { hours: -1 }), newEnd: hoursBeforeStart(72) }],
    ['after the appointment started', { at: START }],
    ['a different newAppointmentId', { newAppointmentId: 'appt-2' }],
    ['by SYSTEM', { by: 'SYSTEM' as never }],
    ['an invalid newStart', { newStart: 'tomorrow' }],
  ] as const)('rejects %s → INVALID_COMMAND', (_n, overrides) => {
    given(STREAMS.CONFIRMED).when(reschedule(overrides)).thenThrows(InvalidCommandError, (e) => e.currentStatus === 'CONFIRMED');
  });

  it.each(['PENDING', 'CANCELLED', 'COMPLETED', 'NO_SHOW'] as const)('%s → ILLEGAL_TRANSITION', (status) => {
    given(STREAMS[status]).when(reschedule()).thenThrows(IllegalTransitionError, (e) => e.currentStatus === status);
  });
});

describe('CompleteAppointment', () => {
  it('CONFIRMED, at the start → AppointmentCompleted, the balance is settled', () => {
    const state = given(STREAMS.CONFIRMED)
      .when(complete(START))
      .then([
        { type: 'AppointmentCompleted', appointmentId: APPOINTMENT_ID, settledMinor: 10_000, currency: 'EUR', completedAt: START },
      ]);
    expect(state.status).toBe('COMPLETED');
  });

  it('before the start → NOT_STARTED_YET', () => {
    given(STREAMS.CONFIRMED)
      .when(complete(shift(START, { ms: -1 })))
      .thenThrows(NotStartedYetError, (e) => e.code === 'NOT_STARTED_YET' && e.currentStatus === 'CONFIRMED');
  });

  it.each(['PENDING', 'CANCELLED', 'COMPLETED', 'NO_SHOW'] as const)('%s → ILLEGAL_TRANSITION', (status) => {
    given(STREAMS[status]).when(complete()).thenThrows(IllegalTransitionError, (e) => e.currentStatus === status);
  });
});

describe('MarkNoShow', () => {
  it('policy forfeits → the provider keeps everything', () => {
    given(STREAMS.CONFIRMED)
      .when(markNoShow(START))
      .then([
        {
          type: 'AppointmentMarkedNoShow',
          appointmentId: APPOINTMENT_ID,
          forfeitedMinor: 10_000,
          refundMinor: 0,
          currency: 'EUR',
          paymentId: 'pay-1',
          markedAt: START,
        },
      ]);
  });

  it('policy does not forfeit → the paid amount is refunded', () => {
    const state = given(confirmedWith({ ...POLICY, noShowForfeits: false }))
      .when(markNoShow())
      .then([expect.objectContaining({ forfeitedMinor: 0, refundMinor: 10_000 }) as AppointmentEvent]);
    expect(state).toMatchObject({ status: 'NO_SHOW', ledger: { refundedMinor: 10_000, retainedMinor: 0 } });
  });

  it('before the start → NOT_STARTED_YET', () => {
    given(STREAMS.CONFIRMED).when(markNoShow(shift(START, { seconds: -1 }))).thenThrows(NotStartedYetError);
  });

  it.each(['PENDING', 'CANCELLED', 'COMPLETED', 'NO_SHOW'] as const)('%s → ILLEGAL_TRANSITION', (status) => {
    given(STREAMS[status]).when(markNoShow()).thenThrows(IllegalTransitionError, (e) => e.currentStatus === status);
  });
});

describe('FailPayment', () => {
  it('PENDING → AppointmentCancelled by SYSTEM / PAYMENT_FAILED', () => {
    const at = shift(BOOKED_AT, { minutes: 3 });
    given(STREAMS.PENDING)
      .when(failPayment())
      .then([
        {
          ...appointmentCancelled({ by: 'SYSTEM', reason: 'PAYMENT_FAILED', cancelledAt: at }),
          failedPayment: { paymentId: 'pay-1', reason: 'card_declined' },
        },
      ]);
  });

  it('CANCELLED → no events (idempotent)', () => {
    given(STREAMS.CANCELLED).when(failPayment()).thenNothingHappened();
  });

  it.each(['CONFIRMED', 'COMPLETED', 'NO_SHOW'] as const)('%s → ILLEGAL_TRANSITION', (status) => {
    given(STREAMS[status]).when(failPayment()).thenThrows(IllegalTransitionError, (e) => e.currentStatus === status);
  });
});

describe('commands on a missing appointment', () => {
  it.each([
    confirm(),
    cancel('CLIENT', 'CLIENT_REQUEST', BOOKED_AT),
    reschedule(),
    complete(),
    markNoShow(),
    failPayment(),
  ])('$type on NONE → NOT_FOUND', (command) => {
    given([]).when(command).thenThrows(AppointmentNotFoundError, (e) => e.code === 'NOT_FOUND' && e.currentStatus === 'NONE');
  });
});

describe('guards', () => {
  it('a command for another appointment id → INVALID_COMMAND', () => {
    given(STREAMS.CONFIRMED).when(complete()).then([expect.anything() as AppointmentEvent]);
    given(STREAMS.CONFIRMED)
      .when({ ...complete(), appointmentId: 'appt-other' })
      .thenThrows(InvalidCommandError);
  });

  it('an unknown command type → INVALID_COMMAND', () => {
    given(STREAMS.CONFIRMED)
      .when({ type: 'TeleportAppointment', appointmentId: APPOINTMENT_ID, at: START } as never)
      .thenThrows(InvalidCommandError);
  });

  it('errors are AppointmentDomainError with a stable code, status and readable message', () => {
    const error = given(STREAMS.CONFIRMED).when(failPayment()).thenThrows(AppointmentDomainError);
    expect(error).toBeInstanceOf(IllegalTransitionError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: 'ILLEGAL_TRANSITION', currentStatus: 'CONFIRMED', commandType: 'FailPayment', name: 'IllegalTransitionError' });
    expect(error.message).toMatch(/^illegal transition: appointment is CONFIRMED/);
  });
});

function decideOn(stream: readonly AppointmentEvent[], command: Parameters<typeof appointmentDecider.decide>[0]) {
  const state = stream.reduce(appointmentDecider.evolve, appointmentDecider.initialState());
  return appointmentDecider.decide(command, state);
}
