import {
  appointmentEvents,
  appointmentResponse,
  appointmentsPage,
  BookAppointmentRequest,
  bookAppointmentRequest,
  blockedTimeResponse,
  blockedTimesResponse,
  CancelAppointmentRequest,
  createProviderRequest,
  CreateProviderRequest,
  providerResponse,
  providersPage,
  rebuildProjectionsResponse,
  RescheduleAppointmentRequest,
  slotsResponse,
  updateProviderRequest,
} from '@booking/contracts';
import { httpContractProblems } from '@booking/contracts/testing';
import { SchedulingTestApp, startSchedulingApp } from './testing/scheduling-app';

/**
 * The HTTP contract between the gateway and scheduling (@booking/contracts): both import the same zod
 * schemas, so what the gateway accepts is what it sends and what scheduling validates. Here scheduling
 * answers every kind of request the gateway sends, using every optional field, and each reply must be
 * exactly what the contract's response schema promises: valid, and with no field it does not declare
 * (the gateway would drop it).
 */
describe('scheduling keeps the gateway HTTP contract (e2e)', () => {
  let t: SchedulingTestApp;

  beforeAll(async () => {
    t = await startSchedulingApp({ now: '2030-03-04T12:00:00.000Z' });
  });
  afterAll(async () => t?.close());

  async function expectReply(method: string, path: string, body: unknown, status: number, schema: Parameters<typeof httpContractProblems>[0]) {
    const res = await t.request(method, path, body);
    expect({ path, status: res.status, detail: res.status === status ? undefined : res.body }).toEqual({ path, status, detail: undefined });
    expect({ path, problems: httpContractProblems(schema, res.body) }).toEqual({ path, problems: [] });
    return res.body;
  }

  it('accepts the contract\'s requests and answers exactly its responses', async () => {
    const create: CreateProviderRequest = createProviderRequest.parse({
      name: 'Dr. Contract',
      timeZone: 'America/New_York',
      slotDurationMinutes: 30,
      workingHours: { MON: ['09:00', '17:00'], TUE: [['09:00', '12:00'], ['13:00', '17:00']], WED: [] },
      dateOverrides: { '2030-03-06': [['10:00', '12:00']] },
      bufferBeforeMinutes: 5,
      bufferAfterMinutes: 5,
      minimumNoticeMinutes: 60,
      bookingHorizonDays: 365,
      price: { amountMinor: 0, currency: 'USD' },
      cancellationPolicy: { freeUntilHoursBefore: 24, lateFee: { kind: 'AMOUNT', amountMinor: 500 }, noShowForfeits: false, rescheduleFreeUntilHoursBefore: 12 },
      contact: { email: 'dr@clinic.example', phone: '+12125550123', pushEndpoint: 'https://push.example/dr', locale: 'en-US' },
    });
    const provider = await expectReply('POST', '/providers', create, 201, providerResponse);
    const id = provider.id as string;
    await expectReply('GET', `/providers/${id}`, undefined, 200, providerResponse);
    await expectReply('GET', '/providers?limit=5', undefined, 200, providersPage);
    await expectReply('PATCH', `/providers/${id}`, updateProviderRequest.parse({ name: 'Dr. Contract Jr.', bufferAfterMinutes: 0 }), 200, providerResponse);

    const blocked = await expectReply('POST', `/providers/${id}/blocked-times`, { start: '2030-03-05T19:00:00Z', end: '2030-03-05T20:00:00Z', reason: 'BREAK', note: 'lunch' }, 201, blockedTimeResponse);
    await expectReply('GET', `/providers/${id}/blocked-times?from=2030-03-05T00:00:00Z&to=2030-03-06T00:00:00Z`, undefined, 200, blockedTimesResponse);
    const slots = await expectReply('GET', `/providers/${id}/slots?from=2030-03-05&to=2030-03-06&timeZone=Asia/Tokyo`, undefined, 200, slotsResponse);
    expect(slots.slots.length).toBeGreaterThan(0);

    const book: BookAppointmentRequest = bookAppointmentRequest.parse({
      providerId: id,
      clientId: 'client-contract',
      start: '2030-03-05T14:00:00Z',
      end: '2030-03-05T14:30:00Z',
      client: { timeZone: 'Asia/Tokyo', name: 'Kenji', email: 'kenji@example.jp', phone: '+819012345678', pushEndpoint: 'https://push.example/kenji', locale: 'ja-JP' },
      paymentMethod: 'tok_success',
    });
    const appointment = await expectReply('POST', '/appointments', book, 201, appointmentResponse);
    const path = `/appointments/${appointment.id}`;
    await expectReply('GET', path, undefined, 200, appointmentResponse);
    await expectReply('GET', `/appointments?providerId=${id}&status=CONFIRMED&limit=10`, undefined, 200, appointmentsPage);
    const reschedule: RescheduleAppointmentRequest = { start: '2030-03-05T15:00:00Z', by: 'CLIENT' };
    await expectReply('POST', `${path}/reschedule`, reschedule, 200, appointmentResponse);
    const cancel: CancelAppointmentRequest = { by: 'PROVIDER' };
    const cancelled = await expectReply('POST', `${path}/cancel`, cancel, 200, appointmentResponse);
    expect(cancelled.cancellation).toMatchObject({ by: 'PROVIDER' });
    await expectReply('GET', `${path}/events`, undefined, 200, appointmentEvents);
    await expectReply('POST', '/admin/projections/rebuild', undefined, 200, rebuildProjectionsResponse);

    expect((await t.request('DELETE', `/providers/${id}/blocked-times/${blocked.id}`)).status).toBe(204);
    expect((await t.request('DELETE', `/providers/${id}`)).status).toBe(204);
  });

  it('notices a reply that leaves the contract', () => {
    const reply = { items: [], nextCursor: null, total: 3 };
    expect(httpContractProblems(providersPage, reply)).toEqual(['total: not in the contract']);
    expect(httpContractProblems(providersPage, { items: [] })).toEqual(['nextCursor: Required']);
  });
});
