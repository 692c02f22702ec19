import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { eventually } from '@booking/platform/testing';
import { PAYMENT_SCHEMA } from '../schema';
import { KnexGatewayStore } from '../provider/knex-gateway-store';
import { SimulatedPaymentProvider, TEST_TOKENS } from '../provider/simulated-payment-provider';
import { appointmentEvents, PaymentHarness } from '../testing/payment-harness';
import { ChargeAppointmentHandler, chargeIdempotencyKey } from './charge-appointment.handler';

/**
 * Requests that reach the service together are charged as a batch: one statement opens their
 * payments, the gateway is asked for each, one statement records every outcome. The service is
 * stopped while they are published, so its first fetch gets them all at once.
 */
describe('charging a batch of appointment requests (payment service, real Kafka and Postgres)', () => {
  const harness = new PaymentHarness();
  const appointment = () => `appt-${randomUUID()}`;
  const requested = (id: string, options: Parameters<typeof appointmentEvents.requested>[1] = {}) => ({
    type: 'AppointmentRequested' as const,
    data: appointmentEvents.requested(id, options),
  });
  const gatewayCharges = (id: string) => harness.knex.withSchema(PAYMENT_SCHEMA).table('provider_charges').where({ idempotency_key: chargeIdempotencyKey(id) });
  const payment = (id: string) => harness.knex.withSchema(PAYMENT_SCHEMA).table('payments').where({ appointment_id: id });

  beforeAll(() => harness.start());
  afterAll(() => harness.stop());
  afterEach(() => jest.restoreAllMocks());

  it('charges each appointment once and publishes each outcome once, a repeated request included', async () => {
    const batch = jest.spyOn(ChargeAppointmentHandler.prototype, 'handleBatch');
    const [a, b, declined, c] = [appointment(), appointment(), appointment(), appointment()];
    await harness.stopApp();
    const published = await harness.publishTogether(0, [
      requested(a),
      requested(b),
      requested(declined, { paymentMethod: TEST_TOKENS.decline }),
      requested(a), // the same appointment again, under a new event id
      requested(c),
    ]);
    await harness.startApp();
    await harness.consumed(published[published.length - 1]);

    // A repeated key starts a new run: [a, b, declined] then [a, c].
    expect(batch.mock.calls.map(([events]) => events.map((e) => e.aggregateId))).toEqual([
      [a, b, declined],
      [a, c],
    ]);
    for (const id of [a, b, c]) {
      expect(harness.eventsOf(id, 'PaymentSucceeded')).toHaveLength(1);
      expect(await gatewayCharges(id)).toMatchObject([{ status: 'SUCCEEDED', requests: 1 }]);
      expect(await payment(id)).toMatchObject([{ status: 'SUCCEEDED', version: 1 }]);
    }
    expect(harness.eventsOf(declined)).toMatchObject([{ type: 'PaymentFailed', aggregateVersion: 1, data: { reason: 'card_declined' } }]);
    // Every event of the batch continues the thread of its own request.
    for (const p of published) {
      const caused = harness.emitted.filter((e) => e.causationId === p.envelope.eventId);
      expect(caused.every((e) => e.correlationId === p.envelope.correlationId)).toBe(true);
    }
    const inbox = await harness.knex.withSchema(PAYMENT_SCHEMA).table('inbox').whereIn('event_id', published.map((p) => p.envelope.eventId));
    expect(inbox).toHaveLength(published.length);
  });

  it("records outcomes without a NOTIFY while this instance's relay is the active one (woken in-process), and they are sent", async () => {
    const listener = new Client({ connectionString: harness.env.databaseUrl });
    const heard: string[] = [];
    await listener.connect();
    try {
      listener.on('notification', (n) => heard.push(n.payload ?? ''));
      const channel = `${PAYMENT_SCHEMA}_outbox`;
      await listener.query(`LISTEN ${channel}`);
      await eventually(async () => harness.platform.relay.isLeader(), 10000, 'the relay to be the active one');
      const [a, b] = [appointment(), appointment()];
      const published = await harness.publishTogether(2, [requested(a), requested(b)]);
      await harness.consumed(published[published.length - 1]);
      expect((await harness.eventOf(a, 'PaymentSucceeded')).causationId).toBe(published[0].envelope.eventId);
      expect((await harness.eventOf(b, 'PaymentSucceeded')).causationId).toBe(published[1].envelope.eventId);
      // A marker notified after the outcomes committed bounds what they could have notified: nothing.
      await harness.knex.raw('SELECT pg_notify(?, ?)', [channel, 'marker']);
      await eventually(async () => heard.includes('marker'), 20000, 'the marker');
      expect(heard).toEqual(['marker']);
    } finally {
      await listener.end();
    }
  });

  it('dead-letters the one request the gateway refuses and charges the others once, the fallback replaying their keys', async () => {
    // The gateway already knows this appointment's key with another amount: it refuses the charge.
    const refused = appointment();
    const gateway = new SimulatedPaymentProvider(new KnexGatewayStore(harness.knex, PAYMENT_SCHEMA), { latencyMs: 0, delayedSuccessMs: 0 });
    await gateway.charge({ idempotencyKey: chargeIdempotencyKey(refused), amountMinor: 7000, currency: 'EUR' }, new AbortController().signal);
    const batch = jest.spyOn(ChargeAppointmentHandler.prototype, 'handleBatch');
    const [a, b, c] = [appointment(), appointment(), appointment()];
    await harness.stopApp();
    const published = await harness.publishTogether(1, [requested(a), requested(b), requested(refused), requested(c)]);
    await harness.startApp();
    await harness.consumed(published[published.length - 1]);

    expect(batch).toHaveBeenCalledTimes(1);
    await expect(batch.mock.results[0].value).rejects.toThrow(/idempotency key/);
    for (const id of [a, b, c]) {
      expect(harness.eventsOf(id, 'PaymentSucceeded')).toHaveLength(1);
      // Asked twice — by the batch, then by the one-by-one replay — and charged once.
      expect(await gatewayCharges(id)).toMatchObject([{ status: 'SUCCEEDED', requests: 2 }]);
    }
    expect(harness.eventsOf(refused)).toHaveLength(0);
    const dead = (await harness.deadLetters()).filter((m) => m.key === refused);
    expect(dead).toHaveLength(1);
    expect(dead[0].headers['dlq-original-offset']).toBe(String(published[2].offset));
    expect(dead[0].headers['dlq-reason']).toContain('idempotency key');
  });
});
