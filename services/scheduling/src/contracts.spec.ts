import { randomUUID } from 'node:crypto';
import { samplesOf, expectKeepsContract } from '@booking/contracts/testing';
import { decodeEnvelope } from '@booking/platform';
import { AppointmentCommand, AppointmentState, decide, evolve, initialState } from '@booking/appointment-domain';
import { parseProviderRules } from '@booking/slot-engine';
import { toWireEvent } from './appointments/wire-events';
import { PAYMENT_OUTCOMES } from './appointments/payment-events.kafka.controller';
import { Provider } from './providers/provider';
import { blockedTimeAdded, blockedTimeRemoved, providerCreated, providerDeleted, providerUpdated } from './providers/provider-events';

const ID = 'b8f1c0de-5a3e-4c61-9d7e-2f4a8c1e9b01';
const START = '2030-03-06T09:00:00.000Z';
const END = '2030-03-06T10:00:00.000Z';
const request = (at: string): AppointmentCommand => ({
  type: 'RequestAppointment',
  appointmentId: ID,
  providerId: 'prov-1',
  clientId: 'client-1',
  start: START,
  end: END,
  bufferBeforeMinutes: 0,
  bufferAfterMinutes: 10,
  price: { amountMinor: 6000, currency: 'EUR' },
  policy: { freeUntilHoursBefore: 24, lateFee: { kind: 'PERCENT', percent: 50 }, noShowForfeits: true, rescheduleFreeUntilHoursBefore: 48 },
  client: { timeZone: 'Asia/Tokyo', email: 'client@example.com', phone: '+819012345678', pushToken: 'https://push.example.com/d/1', locale: 'ja-JP' },
  providerSnapshot: { displayName: 'Dr. Weber', timeZone: 'Europe/Berlin', email: 'weber@example.com' },
  holdExpiresAt: '2030-03-01T10:15:00.000Z',
  at,
});
const confirm = (at: string): AppointmentCommand => ({ type: 'ConfirmAppointment', appointmentId: ID, paymentId: 'pay-1', amountMinor: 6000, currency: 'EUR', at });

/** Every wire event scheduling publishes for a stream of commands, built as the service builds them. */
function wireEvents(commands: AppointmentCommand[]) {
  let state: AppointmentState = initialState();
  return commands.flatMap((command) =>
    decide(command, state).map((event) => {
      state = evolve(state, event);
      const stored = { eventId: randomUUID(), version: state.version, data: event, occurredAt: command.at };
      return toWireEvent(stored, state as Exclude<AppointmentState, { status: 'NONE' }>, event.type === 'AppointmentRequested' ? { paymentMethod: 'tok_success' } : {});
    }),
  );
}

describe('scheduling keeps its event contracts', () => {
  const streams = [
    [request('2030-03-01T10:00:00.000Z'), confirm('2030-03-01T10:02:00.000Z'), { type: 'RescheduleAppointment', appointmentId: ID, newStart: '2030-03-07T09:00:00.000Z', newEnd: '2030-03-07T10:00:00.000Z', by: 'CLIENT', at: '2030-03-06T00:00:00.000Z' }, { type: 'CancelAppointment', appointmentId: ID, by: 'CLIENT', reason: 'CLIENT_REQUEST', at: '2030-03-07T00:00:00.000Z' }],
    [request('2030-03-01T10:00:00.000Z'), confirm('2030-03-01T10:02:00.000Z'), { type: 'CompleteAppointment', appointmentId: ID, at: '2030-03-06T10:01:00.000Z' }],
    [request('2030-03-01T10:00:00.000Z'), confirm('2030-03-01T10:02:00.000Z'), { type: 'MarkNoShow', appointmentId: ID, at: '2030-03-06T09:20:00.000Z' }],
    [request('2030-03-01T10:00:00.000Z'), { type: 'CancelAppointment', appointmentId: ID, by: 'SYSTEM', reason: 'EXPIRED', at: '2030-03-01T10:16:00.000Z' }, confirm('2030-03-01T10:17:00.000Z')],
  ] as AppointmentCommand[][];
  const events = streams.flatMap(wireEvents);

  it('covers every appointment event type', () => {
    expect(new Set(events.map((e) => e.type))).toEqual(
      new Set(['AppointmentRequested', 'AppointmentConfirmed', 'AppointmentRescheduled', 'AppointmentCancelled', 'AppointmentCompleted', 'AppointmentMarkedNoShow', 'LatePaymentRefundRequested']),
    );
  });

  it.each(events.map((e, i) => [`${e.type} #${i}`, e] as const))('%s: wire event keeps its contract', (_, event) => {
    expectKeepsContract(event);
  });

  const provider: Provider = {
    id: '3c9d2e7a-1b4f-4e8a-a6c2-7d5e9f0b1a23',
    name: 'Dr. Weber',
    rules: parseProviderRules({ timezone: 'Europe/Berlin', slotDurationMinutes: 30, workingHours: { MON: [['09:00', '17:00']] }, dateOverrides: { '2030-12-25': [] }, bookingHorizonDays: 90 }),
    price: { amountMinor: 6000, currency: 'EUR' },
    cancellationPolicy: { freeUntilHoursBefore: 24, lateFee: { kind: 'AMOUNT', amountMinor: 1000 }, noShowForfeits: false, rescheduleFreeUntilHoursBefore: 24 },
    contact: { email: 'weber@example.com', locale: 'de-DE' },
    version: 2,
    createdAt: '2030-01-10T08:00:00.000Z',
    updatedAt: '2030-01-11T08:00:00.000Z',
  };
  const blocked = { id: randomUUID(), providerId: provider.id, start: '2030-08-01T00:00:00.000Z', end: '2030-08-15T00:00:00.000Z', reason: 'VACATION' as const, note: null };

  it.each([
    providerCreated(provider),
    providerUpdated(provider, ['name', 'price']),
    providerDeleted(provider.id),
    blockedTimeAdded(blocked),
    blockedTimeRemoved({ ...blocked, note: 'Summer' }),
  ].map((e) => [e.type, e] as const))('%s keeps its contract', (_, event) => {
    expectKeepsContract(event);
  });

  it.each(samplesOf(PAYMENT_OUTCOMES).map((s) => [s.file, s] as const))('the payment-outcome consumer reads %s', (_, sample) => {
    const event = decodeEnvelope(Buffer.from(JSON.stringify(sample.envelope)));
    expect(event.data.appointmentId).toBe(sample.envelope.data.appointmentId);
    expect(event.data.paymentId).toBe(sample.envelope.data.paymentId);
  });
});
