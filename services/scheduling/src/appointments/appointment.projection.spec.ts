import { AppointmentCommand, AppointmentState, decide, evolve, initialState } from '@booking/appointment-domain';
import { parseProviderRules } from '@booking/slot-engine';
import { appointmentResponse, rowFromState } from './appointment.projection';
import { providerSnapshotOf, toWireEvent } from './wire-events';

type LiveState = Exclude<AppointmentState, { status: 'NONE' }>;

const ID = 'b8f1c0de-5a3e-4c61-9d7e-2f4a8c1e9b01';
const provider = {
  name: 'Dr. Lena Weber',
  rules: parseProviderRules({ timezone: 'Europe/Berlin', slotDurationMinutes: 60, workingHours: { MON: [['09:00', '17:00']] }, bookingHorizonDays: 90 }),
  contact: { email: 'weber@example.de', phone: '+4930123456', pushEndpoint: 'https://push.example.de/weber', locale: 'de-DE' },
};
const request: AppointmentCommand = {
  type: 'RequestAppointment',
  appointmentId: ID,
  providerId: 'prov-1',
  clientId: 'client-1',
  start: '2030-03-04T09:00:00.000Z',
  end: '2030-03-04T10:00:00.000Z',
  bufferBeforeMinutes: 0,
  bufferAfterMinutes: 0,
  price: { amountMinor: 6000, currency: 'EUR' },
  policy: { freeUntilHoursBefore: 24, lateFee: { kind: 'PERCENT', percent: 50 }, noShowForfeits: true, rescheduleFreeUntilHoursBefore: 48 },
  client: { timeZone: 'Asia/Tokyo', email: 'kenji@example.jp', pushToken: 'https://push.example.jp/kenji', locale: 'ja-JP' },
  providerSnapshot: providerSnapshotOf(provider),
  holdExpiresAt: '2030-03-01T10:15:00.000Z',
  at: '2030-03-01T10:00:00.000Z',
};
const confirm: AppointmentCommand = { type: 'ConfirmAppointment', appointmentId: ID, paymentId: 'pay-1', amountMinor: 6000, currency: 'EUR', at: '2030-03-01T10:02:00.000Z' };

function run(commands: AppointmentCommand[]) {
  let state: AppointmentState = initialState();
  const wire = commands.flatMap((command) =>
    decide(command, state).map((event) => {
      state = evolve(state, event);
      return toWireEvent({ eventId: '00000000-0000-4000-8000-000000000000', version: state.version, data: event, occurredAt: command.at }, state as LiveState);
    }),
  );
  return { state: state as LiveState, wire };
}

describe('the booking records the provider with every contact field', () => {
  it('carries the provider\'s push endpoint and locale on AppointmentRequested (and on every later event)', () => {
    const { wire } = run([request, confirm]);
    for (const event of wire) {
      expect((event.data as { provider: unknown }).provider).toEqual({
        name: 'Dr. Lena Weber',
        timeZone: 'Europe/Berlin',
        email: 'weber@example.de',
        phone: '+4930123456',
        pushEndpoint: 'https://push.example.de/weber',
        locale: 'de-DE',
      });
    }
  });

  it('leaves out contact fields the provider did not give', () => {
    expect(providerSnapshotOf({ ...provider, contact: { email: 'weber@example.de' } })).toEqual({ displayName: 'Dr. Lena Weber', timeZone: 'Europe/Berlin', email: 'weber@example.de' });
  });
});

describe('a late payment\'s refund', () => {
  it('carries the client and the appointment\'s times, so the client can be told it is refunded', () => {
    const expired: AppointmentCommand = { type: 'CancelAppointment', appointmentId: ID, by: 'SYSTEM', reason: 'EXPIRED', at: '2030-03-01T10:16:00.000Z' };
    const late: AppointmentCommand = { type: 'ConfirmAppointment', appointmentId: ID, paymentId: 'pay-late', amountMinor: 6000, currency: 'EUR', at: '2030-03-01T10:17:00.000Z' };
    const refund = run([request, expired, late]).wire.find((e) => e.type === 'LatePaymentRefundRequested')!;
    expect(refund.data).toMatchObject({
      appointmentId: ID,
      paymentId: 'pay-late',
      amountMinor: 6000,
      currency: 'EUR',
      start: '2030-03-04T09:00:00.000Z',
      end: '2030-03-04T10:00:00.000Z',
      client: { timeZone: 'Asia/Tokyo', email: 'kenji@example.jp', pushEndpoint: 'https://push.example.jp/kenji', locale: 'ja-JP' },
      provider: { name: 'Dr. Lena Weber', timeZone: 'Europe/Berlin' },
    });
  });
});

describe('appointmentResponse', () => {
  it('answers the client\'s push endpoint under the name the request gave it (client.pushEndpoint)', () => {
    const { state } = run([request]);
    const response = appointmentResponse(rowFromState(state, new Date('2030-03-01T10:00:00.000Z')));
    expect(response.client).toEqual({ timeZone: 'Asia/Tokyo', email: 'kenji@example.jp', pushEndpoint: 'https://push.example.jp/kenji', locale: 'ja-JP' });
  });

  it('shows no fee for a COMPLETED appointment: the price it settled is not a fee', () => {
    const { state } = run([request, confirm, { type: 'CompleteAppointment', appointmentId: ID, at: '2030-03-04T10:01:00.000Z' }]);
    const response = appointmentResponse(rowFromState(state, new Date('2030-03-04T10:01:00.000Z')));
    expect(response).toMatchObject({ status: 'COMPLETED', paidMinor: 6000, feeMinor: 0, refundMinor: 0 });
  });

  it('still shows a late cancellation\'s fee and a no-show\'s forfeit', () => {
    const late = run([request, confirm, { type: 'CancelAppointment', appointmentId: ID, by: 'CLIENT', reason: 'CLIENT_REQUEST', at: '2030-03-04T08:00:00.000Z' }]).state;
    expect(appointmentResponse(rowFromState(late, new Date()))).toMatchObject({ status: 'CANCELLED', feeMinor: 3000, refundMinor: 3000 });
    const noShow = run([request, confirm, { type: 'MarkNoShow', appointmentId: ID, at: '2030-03-04T09:20:00.000Z' }]).state;
    expect(appointmentResponse(rowFromState(noShow, new Date()))).toMatchObject({ status: 'NO_SHOW', feeMinor: 6000, refundMinor: 0 });
  });
});
