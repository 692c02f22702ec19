import { randomUUID } from 'node:crypto';
import { eventually } from '@booking/platform/testing';
import { PaymentRepository } from '../payments/payment.repository';
import { KnexGatewayStore } from '../provider/knex-gateway-store';
import { SimulatedPaymentProvider, TEST_TOKENS } from '../provider/simulated-payment-provider';
import { PAYMENT_SCHEMA } from '../schema';
import { appointmentEvents, PaymentHarness } from '../testing/payment-harness';
import { CHARGE_CONSUMER, chargeIdempotencyKey } from './charge-appointment.handler';
import { ProcessingChargesPoller } from './processing-charges.poller';

/**
 * AppointmentRequested on the real broker → the payment service charges the simulated gateway → its
 * outcome on payment.v1, read back from the real topic and the real tables.
 */
describe('charging an appointment (payment service, real Kafka and Postgres)', () => {
  const harness = new PaymentHarness();
  const appointment = () => `appt-${randomUUID()}`;
  const paymentRow = (appointmentId: string) => harness.knex.withSchema(PAYMENT_SCHEMA).table('payments').where({ appointment_id: appointmentId }).first();
  const gatewayCharges = (appointmentId: string) =>
    harness.knex.withSchema(PAYMENT_SCHEMA).table('provider_charges').where({ idempotency_key: chargeIdempotencyKey(appointmentId) });

  beforeAll(() => harness.start());
  afterAll(() => harness.stop());

  it('charges a priced appointment once and publishes PaymentSucceeded', async () => {
    const id = appointment();
    const request = await harness.publish('AppointmentRequested', appointmentEvents.requested(id, { amountMinor: 4500, paymentMethod: TEST_TOKENS.success }));
    const event = await harness.eventOf(id, 'PaymentSucceeded');
    const payment = await paymentRow(id);
    expect(event).toMatchObject({
      type: 'PaymentSucceeded',
      aggregateId: id,
      aggregateVersion: 1,
      correlationId: request.envelope.correlationId,
      causationId: request.envelope.eventId,
      data: { appointmentId: id, paymentId: payment.id, amountMinor: 4500, currency: 'EUR', providerRef: payment.provider_ref },
    });
    expect(payment).toMatchObject({ status: 'SUCCEEDED', amount_minor: '4500', currency: 'EUR', failure_reason: null });
    const charges = await gatewayCharges(id);
    expect(charges).toHaveLength(1);
    expect(charges[0]).toMatchObject({ charge_id: payment.provider_ref, status: 'SUCCEEDED', amount_minor: '4500', requests: 1 });
    await harness.consumed(request);
    expect(harness.eventsOf(id)).toHaveLength(1);
  });

  it('charges with tok_success when the request carries no card token', async () => {
    const id = appointment();
    await harness.publish('AppointmentRequested', appointmentEvents.requested(id));
    await harness.eventOf(id, 'PaymentSucceeded');
    expect((await gatewayCharges(id))[0].payment_method).toBe(TEST_TOKENS.success);
  });

  it.each([
    [TEST_TOKENS.decline, 'card_declined'],
    [TEST_TOKENS.insufficientFunds, 'insufficient_funds'],
    ['tok_unknown_to_the_gateway', 'invalid_payment_method'],
  ])('publishes PaymentFailed for %s with reason %s', async (token, reason) => {
    const id = appointment();
    await harness.publish('AppointmentRequested', appointmentEvents.requested(id, { paymentMethod: token }));
    const event = await harness.eventOf(id, 'PaymentFailed');
    const payment = await paymentRow(id);
    expect(event.data).toMatchObject({ appointmentId: id, paymentId: payment.id, reason });
    expect(payment).toMatchObject({ status: 'FAILED', failure_reason: reason });
    expect(harness.eventsOf(id, 'PaymentSucceeded')).toHaveLength(0);
  });

  it('charges nothing and publishes nothing for a free appointment', async () => {
    const id = appointment();
    const request = await harness.publish('AppointmentRequested', appointmentEvents.requested(id, { amountMinor: 0 }));
    await harness.consumed(request);
    expect(await paymentRow(id)).toBeUndefined();
    expect(await gatewayCharges(id)).toHaveLength(0);
    expect(harness.eventsOf(id)).toHaveLength(0);
    expect((await harness.deadLetters()).filter((m) => m.key === id)).toEqual([]);
    expect((await harness.get(`/payments?appointmentId=${id}`)).body).toMatchObject({ appointmentId: id, payment: null, refunds: [], balance: null });
  });

  it('marks a charge the gateway never answers TIMED_OUT and publishes nothing, so the hold expires', async () => {
    const id = appointment();
    const request = await harness.publish('AppointmentRequested', appointmentEvents.requested(id, { paymentMethod: TEST_TOKENS.timeout }));
    await harness.consumed(request);
    expect(await paymentRow(id)).toMatchObject({ status: 'TIMED_OUT', failure_reason: 'provider_timeout', version: 0 });
    expect(await gatewayCharges(id)).toHaveLength(0);
    // Asked about again and again: the gateway has no record of the key, so it never charged.
    const poller = harness.app.get(ProcessingChargesPoller);
    for (let round = 0; round < 3; round++) await poller.pollOnce();
    expect(await paymentRow(id)).toMatchObject({ status: 'TIMED_OUT', version: 0 });
    expect(harness.eventsOf(id)).toHaveLength(0);
    expect((await harness.deadLetters()).filter((m) => m.key === id)).toEqual([]);
  });

  it('reports a capture whose answer was lost: TIMED_OUT first, then PaymentSucceeded once the gateway is asked', async () => {
    const id = appointment();
    const request = await harness.publish('AppointmentRequested', appointmentEvents.requested(id, { amountMinor: 3100, paymentMethod: TEST_TOKENS.timeoutAfterCapture }));
    await harness.consumed(request);
    // Every attempt (TEST_PAYMENT_ENV: 2) went out with the same key: one capture at the gateway.
    const charges = await gatewayCharges(id);
    expect(charges).toHaveLength(1);
    expect(charges[0]).toMatchObject({ status: 'SUCCEEDED', amount_minor: '3100', requests: 2 });
    const event = await harness.eventOf(id, 'PaymentSucceeded');
    expect(event.data).toMatchObject({ amountMinor: 3100, providerRef: charges[0].charge_id });
    expect(event.correlationId).toBe(request.envelope.correlationId);
    expect(await paymentRow(id)).toMatchObject({ status: 'SUCCEEDED', provider_ref: charges[0].charge_id, failure_reason: null, version: 1 });
    await harness.app.get(ProcessingChargesPoller).pollOnce();
    expect(harness.eventsOf(id)).toHaveLength(1);
  });

  it('stops asking about a charge the gateway never answered after PAYMENT_TIMEOUT_RECONCILE_HOURS (24)', async () => {
    // The state a TIMED_OUT charge leaves, made 25 hours ago (or 23: the control), with the money
    // captured at the gateway.
    const gateway = new SimulatedPaymentProvider(new KnexGatewayStore(harness.knex, PAYMENT_SCHEMA), { latencyMs: 0, delayedSuccessMs: 0 });
    const timedOut = async (hoursAgo: number) => {
      const id = appointment();
      const requestEventId = randomUUID();
      const opened = await new PaymentRepository(harness.platform).openCharges(CHARGE_CONSUMER, [
        {
          eventId: requestEventId,
          payment: { id: randomUUID(), appointmentId: id, amountMinor: 5000, currency: 'EUR', idempotencyKey: chargeIdempotencyKey(id), correlationId: 'aged', requestEventId },
        },
      ]);
      const payment = opened.get(requestEventId)?.payment;
      if (!payment) throw new Error('openCharges opened no payment');
      await gateway.charge({ idempotencyKey: payment.idempotencyKey, amountMinor: 5000, currency: 'EUR' }, new AbortController().signal);
      await harness.knex.withSchema(PAYMENT_SCHEMA).table('payments').where({ id: payment.id }).update({
        status: 'TIMED_OUT',
        failure_reason: 'provider_timeout',
        created_at: harness.knex.raw(`now() - make_interval(hours => ?)`, [hoursAgo]),
      });
      return id;
    };
    const old = await timedOut(25);
    const recent = await timedOut(23);
    await harness.app.get(ProcessingChargesPoller).pollOnce();
    expect(await paymentRow(old)).toMatchObject({ status: 'TIMED_OUT', version: 0 });
    expect(await paymentRow(recent)).toMatchObject({ status: 'SUCCEEDED', version: 1 });
  });

  it('charges once and publishes once when the same AppointmentRequested is delivered twice', async () => {
    const id = appointment();
    const first = await harness.publish('AppointmentRequested', appointmentEvents.requested(id));
    const again = await harness.republish(first);
    await harness.consumed(again);
    // A second request for the same appointment under a new event id is still the same charge.
    const another = await harness.publish('AppointmentRequested', appointmentEvents.requested(id));
    await harness.consumed(another);
    expect(harness.eventsOf(id, 'PaymentSucceeded')).toHaveLength(1);
    const charges = await gatewayCharges(id);
    expect(charges).toHaveLength(1);
    expect(charges[0].requests).toBe(1);
    expect(await harness.knex.withSchema(PAYMENT_SCHEMA).table('payments').where({ appointment_id: id })).toHaveLength(1);
  });

  it('dead-letters a second request for the same appointment at another price instead of charging it', async () => {
    const id = appointment();
    await harness.publish('AppointmentRequested', appointmentEvents.requested(id, { amountMinor: 5000 }));
    await harness.eventOf(id, 'PaymentSucceeded');
    const conflicting = await harness.publish('AppointmentRequested', appointmentEvents.requested(id, { amountMinor: 9000 }));
    await harness.consumed(conflicting);
    const dead = await harness.deadLetters();
    expect(dead.some((m) => m.key === id && m.headers['dlq-reason'].includes('already charged 5000 EUR'))).toBe(true);
    expect((await gatewayCharges(id))[0]).toMatchObject({ amount_minor: '5000', requests: 1 });
  });

  it('keeps a delayed charge PROCESSING, then publishes PaymentSucceeded once the gateway settles it', async () => {
    const id = appointment();
    await harness.publish('AppointmentRequested', appointmentEvents.requested(id, { paymentMethod: TEST_TOKENS.successDelayed }));
    const processing = await eventually(
      async () => {
        const row = await paymentRow(id);
        return row?.status === 'PROCESSING' ? row : undefined;
      },
      20000,
      'PROCESSING payment',
    );
    expect(harness.eventsOf(id)).toHaveLength(0);
    const event = await harness.eventOf(id, 'PaymentSucceeded');
    expect(event.data).toMatchObject({ paymentId: processing.id, amountMinor: 5000, providerRef: processing.provider_ref });
    expect(await paymentRow(id)).toMatchObject({ status: 'SUCCEEDED', version: 1 });
    expect(harness.eventsOf(id)).toHaveLength(1);
  });

  it('does not charge again after a crash between the gateway charge and our commit', async () => {
    // The state such a crash leaves: our PENDING row committed, the gateway charged, nothing else.
    const id = appointment();
    const { knex } = harness;
    const payments = new PaymentRepository(harness.platform);
    const requestEventId = randomUUID();
    const opened = await payments.openCharges(CHARGE_CONSUMER, [
      {
        eventId: requestEventId,
        payment: {
          id: randomUUID(),
          appointmentId: id,
          amountMinor: 5000,
          currency: 'EUR',
          idempotencyKey: chargeIdempotencyKey(id),
          correlationId: 'crashed',
          requestEventId,
        },
      },
    ]);
    const pending = opened.get(requestEventId)?.payment;
    if (!pending) throw new Error('openCharges opened no payment');
    const gateway = new SimulatedPaymentProvider(new KnexGatewayStore(knex, PAYMENT_SCHEMA), { latencyMs: 0, delayedSuccessMs: 0 });
    const charged = await gateway.charge({ idempotencyKey: pending.idempotencyKey, amountMinor: 5000, currency: 'EUR' }, new AbortController().signal);

    await harness.publish('AppointmentRequested', appointmentEvents.requested(id));
    const event = await harness.eventOf(id, 'PaymentSucceeded');
    expect(event.data).toMatchObject({ paymentId: pending.id, providerRef: charged.providerRef });
    const charges = await gatewayCharges(id);
    expect(charges).toHaveLength(1);
    expect(charges[0].requests).toBe(2);
  });

  describe('GET /payments', () => {
    it('returns the payment of an appointment with its balance', async () => {
      const id = appointment();
      await harness.publish('AppointmentRequested', appointmentEvents.requested(id, { amountMinor: 1234, currency: 'USD' }));
      const event = await harness.eventOf(id, 'PaymentSucceeded');
      const { status, body } = await harness.get(`/payments?appointmentId=${encodeURIComponent(id)}`);
      expect(status).toBe(200);
      expect(body).toMatchObject({
        appointmentId: id,
        payment: { id: event.data.paymentId, status: 'SUCCEEDED', amountMinor: 1234, currency: 'USD', providerRef: event.data.providerRef },
        refunds: [],
        credits: [],
        retainedFees: [],
        balance: { capturedMinor: 1234, refundedMinor: 0, retainedMinor: 0, heldMinor: 1234, creditMinor: null },
      });
    });

    it.each([
      ['no appointmentId', '/payments'],
      ['an empty appointmentId', '/payments?appointmentId='],
      ['two appointmentIds', '/payments?appointmentId=a&appointmentId=b'],
      ['an unknown parameter', '/payments?appointmentId=a&status=SUCCEEDED'],
      ['an over-long appointmentId', `/payments?appointmentId=${'x'.repeat(101)}`],
      ['a NUL in the appointmentId', '/payments?appointmentId=a%00b'],
      ['a lone surrogate in the appointmentId', '/payments?appointmentId=a%ED%A0%80'],
    ])('answers 400 problem+json for %s', async (_, path) => {
      const { status, body } = await harness.get(path);
      expect(status).toBe(400);
      expect(body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      expect(body.errors[0].path).toMatch(/^query/);
    });
  });
});
