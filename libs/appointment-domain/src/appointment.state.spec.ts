import { appointmentDecider } from './appointment.decider';
import { APPOINTMENT_EVENT_TYPES, type AppointmentEvent } from './appointment.events';
import {
  APPOINTMENT_STATUSES,
  TERMINAL_STATUSES,
  type AppointmentState,
  balanceMinor,
  blockedRange,
  evolve,
  foldEvents,
  initialState,
} from './appointment.state';
import {
  APPOINTMENT_ID,
  END,
  START,
  STREAMS,
  appointmentCancelled,
  appointmentConfirmed,
  appointmentRequested,
  hoursBeforeStart,
  reschedule,
} from './testing/fixtures';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const ALL_EVENTS: AppointmentEvent[] = [
  ...STREAMS.NO_SHOW,
  ...STREAMS.COMPLETED.slice(2),
  appointmentCancelled(),
  {
    type: 'AppointmentRescheduled',
    appointmentId: APPOINTMENT_ID,
    by: 'CLIENT',
    previousStart: START,
    previousEnd: END,
    newStart: '2026-12-02T14:00:00.000Z',
    newEnd: '2026-12-02T15:00:00.000Z',
    free: true,
    feeMinor: 0,
    creditMinor: 10_000,
    currency: 'EUR',
    rescheduledAt: hoursBeforeStart(72),
  },
  {
    type: 'LatePaymentRefundRequested',
    appointmentId: APPOINTMENT_ID,
    paymentId: 'pay-9',
    amountMinor: 100,
    currency: 'EUR',
    reason: 'APPOINTMENT_NOT_PENDING',
    requestedAt: hoursBeforeStart(72),
  },
];

describe('initialState / foldEvents', () => {
  it('starts at NONE, version 0', () => {
    expect(initialState()).toEqual({ status: 'NONE', version: 0 });
  });

  it.each(APPOINTMENT_STATUSES)('rebuilds %s from its stream; version = number of events', (status) => {
    const state = foldEvents(STREAMS[status]);
    expect(state.status).toBe(status);
    expect(state.version).toBe(STREAMS[status].length);
  });

  it('can continue from a snapshot', () => {
    const [first, ...rest] = STREAMS.COMPLETED;
    expect(foldEvents(rest, foldEvents([first!]))).toEqual(foldEvents(STREAMS.COMPLETED));
  });

  it.each(APPOINTMENT_STATUSES)('%s: state rebuilt from JSON-serialised events is identical', (status) => {
    const roundTripped = JSON.parse(JSON.stringify(STREAMS[status])) as AppointmentEvent[];
    expect(foldEvents(roundTripped)).toStrictEqual(foldEvents(STREAMS[status]));
  });

  it('keeps the snapshotted policy, price, contact and hold from AppointmentRequested', () => {
    const state = foldEvents(STREAMS.PENDING);
    const requested = appointmentRequested();
    expect(state).toMatchObject({
      status: 'PENDING',
      price: requested.price,
      policy: requested.policy,
      client: requested.client,
      providerSnapshot: requested.providerSnapshot,
      holdExpiresAt: requested.holdExpiresAt,
      bufferBeforeMinutes: 10,
      bufferAfterMinutes: 15,
    });
  });

  it.each(TERMINAL_STATUSES)('%s: the ledger is settled (paid = retained + refunded, balance 0)', (status) => {
    const state = foldEvents(STREAMS[status]);
    if (state.status === 'NONE') throw new Error('unreachable');
    expect(balanceMinor(state)).toBe(0);
    expect(state.ledger.paidMinor).toBe(state.ledger.retainedMinor + state.ledger.refundedMinor);
  });
});

describe('evolve', () => {
  it('is total: every event on every status returns a state and never throws', () => {
    for (const status of APPOINTMENT_STATUSES) {
      for (const event of ALL_EVENTS) {
        const state = foldEvents(STREAMS[status]);
        expect(() => evolve(state, event)).not.toThrow();
        expect(evolve(state, event).version).toBe(state.version + 1);
      }
    }
    expect(new Set(ALL_EVENTS.map((e) => e.type))).toEqual(new Set(APPOINTMENT_EVENT_TYPES));
  });

  it('is pure: does not mutate state or event, same input → same output', () => {
    for (const status of APPOINTMENT_STATUSES) {
      for (const event of ALL_EVENTS) {
        const state = deepFreeze(foldEvents(STREAMS[status]));
        deepFreeze(event);
        expect(evolve(state, event)).toStrictEqual(evolve(state, event));
      }
    }
  });

  it('an event that cannot apply (never produced by decide) only advances the version', () => {
    const completed = foldEvents(STREAMS.COMPLETED);
    expect(evolve(completed, appointmentConfirmed())).toEqual({ ...completed, version: completed.version + 1 });
    expect(evolve(initialState(), appointmentCancelled())).toEqual({ status: 'NONE', version: 1 });
    const pending = foldEvents(STREAMS.PENDING);
    expect(evolve(pending, appointmentRequested({ providerId: 'other' }))).toEqual({ ...pending, version: 2 });
  });

  it('skips an unknown event type (from a newer writer)', () => {
    const state = foldEvents(STREAMS.CONFIRMED);
    expect(evolve(state, { type: 'AppointmentTeleported' } as unknown as AppointmentEvent)).toEqual({ ...state, version: 3 });
  });

  it('decide never mutates the state it is given', () => {
    const state = deepFreeze(foldEvents(STREAMS.CONFIRMED));
    expect(() => appointmentDecider.decide(reschedule(), state)).not.toThrow();
  });
});

describe('blockedRange', () => {
  it('is [start − bufferBefore, end + bufferAfter) as ISO strings', () => {
    expect(blockedRange(foldEvents(STREAMS.CONFIRMED) as Exclude<AppointmentState, { status: 'NONE' }>)).toEqual([
      '2026-12-01T13:50:00.000Z',
      '2026-12-01T15:15:00.000Z',
    ]);
  });

  it('works on the AppointmentRequested event and across midnight', () => {
    expect(
      blockedRange(appointmentRequested({ start: '2026-12-31T23:55:00.000Z', end: '2027-01-01T00:30:00.000Z', bufferBeforeMinutes: 0, bufferAfterMinutes: 45 })),
    ).toEqual(['2026-12-31T23:55:00.000Z', '2027-01-01T01:15:00.000Z']);
  });

  it('follows a reschedule (same stream, new slot)', () => {
    const state = foldEvents(STREAMS.CONFIRMED);
    const moved = foldEvents(appointmentDecider.decide(reschedule(), state), state);
    if (moved.status === 'NONE') throw new Error('unreachable');
    expect(moved.appointmentId).toBe(APPOINTMENT_ID);
    expect(blockedRange(moved)).toEqual(['2026-12-03T08:50:00.000Z', '2026-12-03T10:15:00.000Z']);
  });
});
