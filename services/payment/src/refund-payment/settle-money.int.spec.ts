import { randomUUID } from 'node:crypto';
import { Knex } from 'knex';
import { PAYMENT_SCHEMA } from '../schema';
import { appointmentEvents, PaymentHarness } from '../testing/payment-harness';

/**
 * Scheduling's money decisions on the real broker — late-payment refunds, cancellations, no-shows and
 * reschedules — carried out at the simulated gateway and in the payment tables, once each.
 */
describe('refunds, retained fees and credits (payment service, real Kafka and Postgres)', () => {
  const harness = new PaymentHarness();
  const table = (name: string) => harness.knex.withSchema(PAYMENT_SCHEMA).table(name);

  /** An appointment whose 5000 EUR charge succeeded; returns its payment id. */
  async function paidAppointment(amountMinor = 5000): Promise<{ id: string; paymentId: string; providerRef: string }> {
    const id = `appt-${randomUUID()}`;
    await harness.publish('AppointmentRequested', appointmentEvents.requested(id, { amountMinor }));
    const succeeded = await harness.eventOf(id, 'PaymentSucceeded');
    return { id, paymentId: String(succeeded.data.paymentId), providerRef: String(succeeded.data.providerRef) };
  }

  const ledger = async (id: string) => (await harness.get(`/payments?appointmentId=${id}`)).body;
  const refundedAtGateway = async (providerRef: string) => Number((await table('provider_charges').where({ charge_id: providerRef }).first()).refunded_minor);

  beforeAll(() => harness.start());
  afterAll(() => harness.stop());

  describe('LatePaymentRefundRequested', () => {
    it('refunds the whole payment once, however often it is delivered or asked again', async () => {
      const { id, paymentId, providerRef } = await paidAppointment();
      const request = await harness.publish('LatePaymentRefundRequested', appointmentEvents.lateRefund(id, paymentId, 5000));
      const refund = await harness.eventOf(id, 'RefundIssued');
      expect(refund).toMatchObject({
        aggregateId: id,
        aggregateVersion: 2,
        causationId: request.envelope.eventId,
        data: { appointmentId: id, paymentId, amountMinor: 5000, currency: 'EUR', reason: 'LATE_PAYMENT', sourceEventId: request.envelope.eventId },
      });

      await harness.republish(request);
      const askedAgain = await harness.publish('LatePaymentRefundRequested', appointmentEvents.lateRefund(id, paymentId, 5000));
      await harness.consumed(askedAgain);
      expect(harness.eventsOf(id, 'RefundIssued')).toHaveLength(1);
      expect(await table('refunds').where({ payment_id: paymentId })).toHaveLength(1);
      expect(await refundedAtGateway(providerRef)).toBe(5000);
      expect((await ledger(id)).balance).toMatchObject({ capturedMinor: 5000, refundedMinor: 5000, heldMinor: 0 });
    });

    it('dead-letters a refund request for a payment it never took at once, without retrying', async () => {
      const request = await harness.publish('LatePaymentRefundRequested', appointmentEvents.lateRefund('appt-unknown', randomUUID(), 5000));
      await harness.consumed(request);
      const dead = await harness.deadLetters();
      expect(dead.filter((m) => m.key === 'appt-unknown')).toEqual([
        expect.objectContaining({ headers: expect.objectContaining({ 'dlq-reason': expect.stringContaining('unknown payment'), 'dlq-attempts': '1' }) }),
      ]);
    });
  });

  describe('AppointmentCancelled', () => {
    it('refunds exactly refundMinor and keeps the fee, once even when delivered twice', async () => {
      const { id, paymentId, providerRef } = await paidAppointment();
      const cancel = await harness.publish('AppointmentCancelled', appointmentEvents.cancelled(id, { paymentId, refundMinor: 3000, feeMinor: 2000 }));
      const refund = await harness.eventOf(id, 'RefundIssued');
      expect(refund.data).toMatchObject({ paymentId, amountMinor: 3000, requestedMinor: 3000, reason: 'CANCELLATION' });
      await harness.consumed(await harness.republish(cancel));

      expect(harness.eventsOf(id, 'RefundIssued')).toHaveLength(1);
      expect(await refundedAtGateway(providerRef)).toBe(3000);
      const body = await ledger(id);
      expect(body.refunds).toEqual([expect.objectContaining({ amountMinor: 3000, reason: 'CANCELLATION', sourceEventId: cancel.envelope.eventId })]);
      expect(body.retainedFees).toEqual([expect.objectContaining({ amountMinor: 2000, reason: 'CANCELLATION_FEE' })]);
      expect(body.balance).toEqual({ capturedMinor: 5000, refundedMinor: 3000, retainedMinor: 2000, heldMinor: 0, creditMinor: null });
    });

    it('keeps a late fee of everything without refunding anything', async () => {
      const { id, paymentId, providerRef } = await paidAppointment();
      const cancel = await harness.publish('AppointmentCancelled', appointmentEvents.cancelled(id, { paymentId, refundMinor: 0, feeMinor: 5000 }));
      await harness.consumed(cancel);
      expect(harness.eventsOf(id, 'RefundIssued')).toHaveLength(0);
      expect(await refundedAtGateway(providerRef)).toBe(0);
      expect((await ledger(id)).balance).toMatchObject({ refundedMinor: 0, retainedMinor: 5000, heldMinor: 0 });
    });

    it('moves no money for an appointment that was never paid (expired hold, failed payment)', async () => {
      const id = `appt-${randomUUID()}`;
      const cancel = await harness.publish('AppointmentCancelled', {
        ...appointmentEvents.cancelled(id, { paymentId: null, refundMinor: 0, feeMinor: 0 }),
        by: 'SYSTEM',
        reason: 'EXPIRED',
      });
      await harness.consumed(cancel);
      expect(harness.eventsOf(id)).toHaveLength(0);
      expect((await harness.deadLetters()).filter((m) => m.key === id)).toEqual([]);
    });

    it('never refunds more than the payment holds', async () => {
      const { id, paymentId, providerRef } = await paidAppointment();
      await harness.publish('AppointmentCancelled', appointmentEvents.cancelled(id, { paymentId, refundMinor: 9000, feeMinor: 0 }));
      const refund = await harness.eventOf(id, 'RefundIssued');
      expect(refund.data).toMatchObject({ amountMinor: 5000, requestedMinor: 9000 });
      expect(await refundedAtGateway(providerRef)).toBe(5000);
    });
  });

  describe('AppointmentMarkedNoShow', () => {
    it('keeps the forfeit and refunds nothing when the policy forfeits', async () => {
      const { id, paymentId } = await paidAppointment();
      const noShow = await harness.publish('AppointmentMarkedNoShow', appointmentEvents.noShow(id, { paymentId, refundMinor: 0, forfeitedMinor: 5000 }));
      await harness.consumed(noShow);
      expect(harness.eventsOf(id, 'RefundIssued')).toHaveLength(0);
      const body = await ledger(id);
      expect(body.retainedFees).toEqual([expect.objectContaining({ amountMinor: 5000, reason: 'NO_SHOW_FORFEIT' })]);
      expect(body.balance).toMatchObject({ heldMinor: 0 });
    });

    it('refunds refundMinor when the policy does not forfeit', async () => {
      const { id, paymentId } = await paidAppointment();
      await harness.publish('AppointmentMarkedNoShow', appointmentEvents.noShow(id, { paymentId, refundMinor: 5000, forfeitedMinor: 0 }));
      expect((await harness.eventOf(id, 'RefundIssued')).data).toMatchObject({ amountMinor: 5000, reason: 'NO_SHOW' });
    });
  });

  describe('AppointmentRescheduled', () => {
    it('records a credit for the moved appointment and keeps the fee; a later cancellation settles the credit', async () => {
      const { id, paymentId, providerRef } = await paidAppointment();
      const reschedule = await harness.publish('AppointmentRescheduled', appointmentEvents.rescheduled(id, { paymentId, creditMinor: 4000, feeMinor: 1000 }));
      const credit = await harness.eventOf(id, 'CreditIssued');
      expect(credit).toMatchObject({
        aggregateId: id,
        aggregateVersion: 2,
        data: { appointmentId: id, paymentId, amountMinor: 4000, currency: 'EUR', feeMinor: 1000, sourceEventId: reschedule.envelope.eventId },
      });
      await harness.consumed(await harness.republish(reschedule));
      expect(harness.eventsOf(id, 'CreditIssued')).toHaveLength(1);
      expect(await refundedAtGateway(providerRef)).toBe(0);
      expect((await ledger(id)).balance).toEqual({ capturedMinor: 5000, refundedMinor: 0, retainedMinor: 1000, heldMinor: 4000, creditMinor: 4000 });

      // The moved appointment is then cancelled in time: its whole credit goes back to the client.
      await harness.publish('AppointmentCancelled', appointmentEvents.cancelled(id, { paymentId, refundMinor: 4000, feeMinor: 0 }));
      const refund = await harness.eventOf(id, 'RefundIssued');
      expect(refund).toMatchObject({ aggregateVersion: 3, data: { amountMinor: 4000 } });
      expect((await ledger(id)).balance).toEqual({ capturedMinor: 5000, refundedMinor: 4000, retainedMinor: 1000, heldMinor: 0, creditMinor: 4000 });
    });
  });

  it('agrees with the gateway on every charge and refund, and never moves more than a payment captured', async () => {
    // Its own money movements, one of each kind: a full refund, a partial one with a fee, a forfeit, a
    // credit later refunded, a refund asked beyond the capture.
    const sent = [];
    const full = await paidAppointment();
    sent.push(await harness.publish('LatePaymentRefundRequested', appointmentEvents.lateRefund(full.id, full.paymentId, 5000)));
    const partial = await paidAppointment();
    sent.push(await harness.publish('AppointmentCancelled', appointmentEvents.cancelled(partial.id, { paymentId: partial.paymentId, refundMinor: 3000, feeMinor: 2000 })));
    const forfeit = await paidAppointment();
    sent.push(await harness.publish('AppointmentMarkedNoShow', appointmentEvents.noShow(forfeit.id, { paymentId: forfeit.paymentId, refundMinor: 0, forfeitedMinor: 5000 })));
    const moved = await paidAppointment();
    sent.push(await harness.publish('AppointmentRescheduled', appointmentEvents.rescheduled(moved.id, { paymentId: moved.paymentId, creditMinor: 4000, feeMinor: 1000 })));
    await harness.eventOf(moved.id, 'CreditIssued');
    sent.push(await harness.publish('AppointmentCancelled', appointmentEvents.cancelled(moved.id, { paymentId: moved.paymentId, refundMinor: 4000, feeMinor: 0 })));
    const over = await paidAppointment();
    sent.push(await harness.publish('AppointmentCancelled', appointmentEvents.cancelled(over.id, { paymentId: over.paymentId, refundMinor: 9000, feeMinor: 0 })));
    // Keyed by appointment, they went to different partitions: each is waited for.
    for (const message of sent) await harness.consumed(message);
    const mine = [full, partial, forfeit, moved, over];

    const rows = await table('appointment_ledger').whereIn('appointment_id', mine.map((m) => m.id));
    const byId = new Map(rows.map((r) => [r.appointment_id, [Number(r.captured_minor), Number(r.refunded_minor), Number(r.retained_minor), Number(r.held_minor)]]));
    expect(mine.map((m) => byId.get(m.id))).toEqual([
      [5000, 5000, 0, 0],
      [5000, 3000, 2000, 0],
      [5000, 0, 5000, 0],
      [5000, 4000, 1000, 0],
      [5000, 5000, 0, 0],
    ]);
    const sum = async (name: string, column: string, where: (q: Knex.QueryBuilder) => Knex.QueryBuilder) =>
      Number((await where(table(name)).sum({ total: column }))[0].total);
    const paymentIds = mine.map((m) => m.paymentId);
    const charges = mine.map((m) => m.providerRef);
    expect(await sum('refunds', 'amount_minor', (q) => q.whereIn('payment_id', paymentIds))).toBe(17000);
    expect(await sum('provider_charges', 'refunded_minor', (q) => q.whereIn('charge_id', charges))).toBe(17000);
    expect(await sum('payments', 'amount_minor', (q) => q.whereIn('id', paymentIds).where({ status: 'SUCCEEDED' }))).toBe(25000);
    expect(await sum('provider_charges', 'amount_minor', (q) => q.whereIn('charge_id', charges).where({ status: 'SUCCEEDED' }))).toBe(25000);
  });
});
