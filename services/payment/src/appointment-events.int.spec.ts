import { randomUUID } from 'node:crypto';
import { PAYMENT_SCHEMA } from './schema';
import { chargeIdempotencyKey } from './charge-appointment/charge-appointment.handler';
import { appointmentEvents, PaymentHarness } from './testing/payment-harness';

/** The consumer's delivery guarantees, on the real broker: poison messages and a crash before the offset commit. */
describe('appointment events consumer (payment service, real Kafka and Postgres)', () => {
  const harness = new PaymentHarness();
  const charges = (appointmentId: string) =>
    harness.knex.withSchema(PAYMENT_SCHEMA).table('provider_charges').where({ idempotency_key: chargeIdempotencyKey(appointmentId) });

  beforeAll(() => harness.start());
  afterAll(() => harness.stop());

  it('dead-letters an invalid envelope and charges the next message on that partition', async () => {
    const id = `appt-${randomUUID()}`;
    const poison = await harness.publishRaw(id, JSON.stringify({ type: 'AppointmentRequested', data: { appointmentId: id } }));
    const next = await harness.publish('AppointmentRequested', appointmentEvents.requested(id));
    expect(next.partition).toBe(poison.partition);

    await harness.eventOf(id, 'PaymentSucceeded');
    await harness.consumed(next);
    const dead = (await harness.deadLetters()).filter((m) => m.key === id);
    expect(dead).toHaveLength(1);
    expect(dead[0].headers).toMatchObject({
      'dlq-original-topic': harness.appointmentTopic,
      'dlq-original-partition': String(poison.partition),
      'dlq-original-offset': String(poison.offset),
      'dlq-reason': expect.stringContaining('invalid envelope'),
    });
  });

  it('dead-letters an AppointmentRequested whose card token is not a string (its contract says string), and goes on', async () => {
    const id = `appt-${randomUUID()}`;
    const envelope = { eventId: randomUUID(), type: 'AppointmentRequested', schemaVersion: 1, occurredAt: new Date().toISOString(), aggregateId: id, aggregateVersion: 1, correlationId: randomUUID(), causationId: null };
    const bad = await harness.publishRaw(id, JSON.stringify({ ...envelope, data: appointmentEvents.requested(id, { paymentMethod: 42 }) }));
    const other = `appt-${randomUUID()}`;
    await harness.consumed(bad);
    expect(await charges(id)).toHaveLength(0);
    expect((await harness.deadLetters()).some((m) => m.key === id && m.headers['dlq-reason'].includes('paymentMethod'))).toBe(true);
    await harness.publish('AppointmentRequested', appointmentEvents.requested(other));
    await harness.eventOf(other, 'PaymentSucceeded');
  });

  it('charges once when the service dies after its effect but before committing the offset', async () => {
    const id = `appt-${randomUUID()}`;
    const request = await harness.publish('AppointmentRequested', appointmentEvents.requested(id));
    await harness.eventOf(id, 'PaymentSucceeded');
    await harness.consumed(request);

    // What a kill between the effect's commit and the offset commit leaves behind: the effect, and a
    // committed offset that still points at the message. A fresh instance in the same group gets it again.
    await harness.stopApp();
    await harness.rewindTo(request);
    await harness.startApp();
    await harness.consumed(request);

    expect(harness.eventsOf(id, 'PaymentSucceeded')).toHaveLength(1);
    const stored = await charges(id);
    expect(stored).toHaveLength(1);
    expect(stored[0].requests).toBe(1);
    expect(await harness.knex.withSchema(PAYMENT_SCHEMA).table('payments').where({ appointment_id: id, status: 'SUCCEEDED' })).toHaveLength(1);
  });
});
