import { APPOINTMENT_COMMAND_TYPES, type AppointmentCommand } from './appointment.commands';
import { appointmentDecider } from './appointment.decider';
import type { AppointmentEventType } from './appointment.events';
import { APPOINTMENT_STATUSES, type AppointmentStatus, foldEvents } from './appointment.state';
import { AppointmentDomainError, type AppointmentErrorCode } from './errors';
import {
  HOLD_EXPIRES_AT,
  STREAMS,
  cancel,
  complete,
  confirm,
  failPayment,
  hoursBeforeStart,
  markNoShow,
  requestAppointment,
  reschedule,
} from './testing/fixtures';

/**
 * The whole state machine as a table: every status × every command (with each variant that matters).
 * Kept in sync with the table in README.md.
 */
const COMMANDS: Record<string, AppointmentCommand> = {
  'Request': requestAppointment(),
  'Confirm (same payment)': confirm({ paymentId: 'pay-1' }),
  'Confirm (other payment)': confirm({ paymentId: 'pay-2' }),
  'Cancel CLIENT': cancel('CLIENT', 'CLIENT_REQUEST', hoursBeforeStart(48)),
  'Cancel PROVIDER': cancel('PROVIDER', 'PROVIDER_REQUEST', hoursBeforeStart(48)),
  'Cancel SYSTEM EXPIRED': cancel('SYSTEM', 'EXPIRED', HOLD_EXPIRES_AT),
  'Cancel SYSTEM PAYMENT_FAILED': cancel('SYSTEM', 'PAYMENT_FAILED', HOLD_EXPIRES_AT),
  'Reschedule': reschedule(),
  'Complete': complete(),
  'MarkNoShow': markNoShow(),
  'FailPayment': failPayment(),
};

type Outcome = readonly AppointmentEventType[] | AppointmentErrorCode;
const CANCELLED_EVENT = ['AppointmentCancelled'] as const;
const LATE_REFUND = ['LatePaymentRefundRequested'] as const;
const ALL_ILLEGAL = Object.fromEntries(Object.keys(COMMANDS).map((k) => [k, 'ILLEGAL_TRANSITION'])) as Record<string, Outcome>;

const TABLE: Record<AppointmentStatus, Record<string, Outcome>> = {
  NONE: {
    ...Object.fromEntries(Object.keys(COMMANDS).map((k) => [k, 'NOT_FOUND'])),
    'Request': ['AppointmentRequested'],
  },
  PENDING: {
    'Request': 'ALREADY_EXISTS',
    'Confirm (same payment)': ['AppointmentConfirmed'],
    'Confirm (other payment)': ['AppointmentConfirmed'],
    'Cancel CLIENT': CANCELLED_EVENT,
    'Cancel PROVIDER': CANCELLED_EVENT,
    'Cancel SYSTEM EXPIRED': CANCELLED_EVENT,
    'Cancel SYSTEM PAYMENT_FAILED': CANCELLED_EVENT,
    'Reschedule': 'ILLEGAL_TRANSITION',
    'Complete': 'ILLEGAL_TRANSITION',
    'MarkNoShow': 'ILLEGAL_TRANSITION',
    'FailPayment': CANCELLED_EVENT,
  },
  CONFIRMED: {
    'Request': 'ALREADY_EXISTS',
    'Confirm (same payment)': [],
    'Confirm (other payment)': LATE_REFUND,
    'Cancel CLIENT': CANCELLED_EVENT,
    'Cancel PROVIDER': CANCELLED_EVENT,
    'Cancel SYSTEM EXPIRED': 'ILLEGAL_TRANSITION',
    'Cancel SYSTEM PAYMENT_FAILED': 'ILLEGAL_TRANSITION',
    'Reschedule': ['AppointmentRescheduled'],
    'Complete': ['AppointmentCompleted'],
    'MarkNoShow': ['AppointmentMarkedNoShow'],
    'FailPayment': 'ILLEGAL_TRANSITION',
  },
  CANCELLED: {
    'Request': 'ALREADY_EXISTS',
    'Confirm (same payment)': LATE_REFUND,
    'Confirm (other payment)': LATE_REFUND,
    'Cancel CLIENT': 'ALREADY_CANCELLED',
    'Cancel PROVIDER': 'ALREADY_CANCELLED',
    'Cancel SYSTEM EXPIRED': 'ALREADY_CANCELLED',
    'Cancel SYSTEM PAYMENT_FAILED': 'ALREADY_CANCELLED',
    'Reschedule': 'ILLEGAL_TRANSITION',
    'Complete': 'ILLEGAL_TRANSITION',
    'MarkNoShow': 'ILLEGAL_TRANSITION',
    'FailPayment': [],
  },
  COMPLETED: { ...ALL_ILLEGAL, 'Request': 'ALREADY_EXISTS' },
  NO_SHOW: { ...ALL_ILLEGAL, 'Request': 'ALREADY_EXISTS' },
};

/** Status reached after the events of the row (only these edges exist). */
const NEXT_STATUS: Partial<Record<AppointmentEventType, AppointmentStatus>> = {
  AppointmentRequested: 'PENDING',
  AppointmentConfirmed: 'CONFIRMED',
  AppointmentCancelled: 'CANCELLED',
  AppointmentCompleted: 'COMPLETED',
  AppointmentMarkedNoShow: 'NO_SHOW',
};

const cases = APPOINTMENT_STATUSES.flatMap((status) =>
  Object.entries(COMMANDS).map(([name, command]) => ({ status, name, command, expected: TABLE[status][name] })),
);

describe('state machine table (status × command)', () => {
  it('covers every status and every command type', () => {
    expect(Object.keys(TABLE).sort()).toEqual([...APPOINTMENT_STATUSES].sort());
    expect(new Set(Object.values(COMMANDS).map((c) => c.type))).toEqual(new Set(APPOINTMENT_COMMAND_TYPES));
    for (const status of APPOINTMENT_STATUSES) expect(Object.keys(TABLE[status]).sort()).toEqual(Object.keys(COMMANDS).sort());
    expect(cases).toHaveLength(APPOINTMENT_STATUSES.length * Object.keys(COMMANDS).length);
  });

  it.each(cases)('$status × $name → $expected', ({ status, command, expected }) => {
    const state = foldEvents(STREAMS[status]);
    expect(state.status).toBe(status);

    if (typeof expected === 'string') {
      let thrown: unknown;
      try {
        appointmentDecider.decide(command, state);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(AppointmentDomainError);
      expect(thrown).toMatchObject({ code: expected, currentStatus: status, commandType: command.type });
      return;
    }

    const events = appointmentDecider.decide(command, state);
    expect(events.map((e) => e.type)).toEqual(expected);
    const after = events.reduce(appointmentDecider.evolve, state);
    const lastTransition = [...expected].reverse().find((t) => NEXT_STATUS[t] !== undefined);
    expect(after.status).toBe(lastTransition ? NEXT_STATUS[lastTransition] : status);
    expect(after.version).toBe(state.version + events.length);
  });
});
