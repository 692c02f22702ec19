import { eventually, TestEnvironment } from '@booking/platform/testing';
import { TOPICS } from '@booking/contracts';
import { caughtUp, http, nextMondayUtc, redeliver, RunningService, startService } from '../support/platform';

/**
 * The booking saga across real processes: scheduling and payment, the real broker and Postgres.
 * PENDING holds the slot; the payment's outcome confirms or cancels it; an unpaid hold expires; a
 * payment that lands after its hold expired is refunded, so nobody is charged without an appointment.
 */
describe('booking and payment saga (scheduling + payment processes)', () => {
  const env = new TestEnvironment();
  let scheduling: RunningService;
  let payment: RunningService;
  let providerId: string;
  const monday = nextMondayUtc(2).getTime();
  let nextSlot = 0;
  const slot = () => new Date(monday + 10 * 3_600_000 + nextSlot++ * 30 * 60_000).toISOString();

  beforeAll(async () => {
    [scheduling, payment] = await Promise.all([
      startService('scheduling', env, { HOLD_TTL_SECONDS: '6', EXPIRY_SWEEP_INTERVAL_MS: '200', OUTBOX_POLL_INTERVAL_MS: '100' }),
      startService('payment', env, {
        PAYMENT_PROVIDER_LATENCY_MS: '0',
        PAYMENT_PROVIDER_TIMEOUT_MS: '300',
        PAYMENT_PROVIDER_MAX_ATTEMPTS: '2',
        PAYMENT_DELAYED_SUCCESS_MS: '9000',
        PAYMENT_SETTLEMENT_POLL_MS: '200',
        OUTBOX_POLL_INTERVAL_MS: '100',
      }),
    ]);
    const res = await http('POST', `${scheduling.url}/providers`, {
      name: 'Paid clinic',
      timeZone: 'UTC',
      slotDurationMinutes: 30,
      workingHours: Object.fromEntries(['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'].map((d) => [d, ['00:00', '24:00']])),
      bookingHorizonDays: 60,
      price: { amountMinor: 5000, currency: 'USD' },
    });
    expect(res.status).toBe(201);
    providerId = res.body.id;
  }, 120000);

  afterAll(async () => {
    await Promise.all([scheduling?.stop(), payment?.stop()]);
    await env.destroy();
  });

  const book = (start: string, paymentMethod?: string) =>
    http('POST', `${scheduling.url}/appointments`, { providerId, clientId: 'client-1', start, client: { timeZone: 'Europe/Paris' }, paymentMethod });
  const statusOf = async (id: string) => (await http('GET', `${scheduling.url}/appointments/${id}`)).body;
  const until = (id: string, status: string, timeoutMs = 20000) =>
    eventually(async () => {
      const a = await statusOf(id);
      return a.status === status ? a : undefined;
    }, timeoutMs, `appointment ${id} to be ${status}`);
  const payments = async (id: string) => (await http('GET', `${payment.url}/payments?appointmentId=${id}`)).body;

  it('confirms a paid booking once the card is charged', async () => {
    const booked = await book(slot(), 'tok_success');
    expect(booked.status).toBe(201);
    expect(booked.body.status).toBe('PENDING');
    const confirmed = await until(booked.body.id, 'CONFIRMED');
    expect(confirmed.paidMinor).toBe(5000);
    const history = await http('GET', `${scheduling.url}/appointments/${booked.body.id}/events`);
    expect(history.body.items.map((e: { type: string }) => e.type)).toEqual(['AppointmentRequested', 'AppointmentConfirmed']);
  });

  it('cancels on a declined card and frees the slot', async () => {
    const start = slot();
    const booked = await book(start, 'tok_decline');
    const cancelled = await until(booked.body.id, 'CANCELLED');
    expect(cancelled.cancellation).toMatchObject({ by: 'SYSTEM', reason: 'PAYMENT_FAILED' });
    const again = await book(start, 'tok_success');
    expect(again.status).toBe(201);
    await until(again.body.id, 'CONFIRMED');
  });

  it('expires the hold when the gateway times out', async () => {
    const booked = await book(slot(), 'tok_timeout');
    const cancelled = await until(booked.body.id, 'CANCELLED', 30000);
    expect(cancelled.cancellation).toMatchObject({ by: 'SYSTEM', reason: 'EXPIRED' });
  });

  it('confirms a booking whose charge went through but whose answer was lost, once the gateway is asked', async () => {
    const booked = await book(slot(), 'tok_timeout_after_capture');
    // Both attempts time out (300 ms each), the payment is TIMED_OUT, the poller finds the capture
    // well inside the 6 s hold: the client paid, so the client gets the appointment.
    const confirmed = await until(booked.body.id, 'CONFIRMED', 6000);
    expect(confirmed.paidMinor).toBe(5000);
    const money = await payments(booked.body.id);
    expect(money.payment).toMatchObject({ status: 'SUCCEEDED', amountMinor: 5000 });
    expect(money.refunds).toEqual([]);
  });

  it('refunds a payment that succeeds after its hold expired', async () => {
    const booked = await book(slot(), 'tok_success_delayed');
    const cancelled = await until(booked.body.id, 'CANCELLED', 30000);
    expect(cancelled.cancellation.reason).toBe('EXPIRED');
    await eventually(async () => ((await payments(booked.body.id))?.refunds?.length ? true : undefined), 30000, 'the late payment to be refunded');
    await caughtUp(env, { outboxSchema: 'scheduling', topic: TOPICS.appointment, group: 'payment' });
    const settled = await payments(booked.body.id);
    expect(settled.refunds.map((r: { amountMinor: number }) => r.amountMinor)).toEqual([5000]);
    const history = await http('GET', `${scheduling.url}/appointments/${booked.body.id}/events`);
    expect(history.body.items.map((e: { type: string }) => e.type)).toEqual(['AppointmentRequested', 'AppointmentCancelled', 'LatePaymentRefundRequested']);
  });

  it('refunds exactly the policy amount when a confirmed booking is cancelled, once', async () => {
    const booked = await book(slot(), 'tok_success');
    await until(booked.body.id, 'CONFIRMED');
    const cancel = await http('POST', `${scheduling.url}/appointments/${booked.body.id}/cancel`, { by: 'CLIENT' });
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ status: 'CANCELLED', refundMinor: 5000, feeMinor: 0 });
    expect((await http('POST', `${scheduling.url}/appointments/${booked.body.id}/cancel`, { by: 'CLIENT' })).status).toBe(409);
    // The cancellation delivered a second time, as after a relay or consumer crash; the refund is
    // counted once payment has handled everything scheduling published, the redelivery included.
    await caughtUp(env, { outboxSchema: 'scheduling', topic: TOPICS.appointment, group: 'payment' });
    await redeliver(env, TOPICS.appointment, (m) => m.key === booked.body.id && m.type === 'AppointmentCancelled');
    await caughtUp(env, { outboxSchema: 'scheduling', topic: TOPICS.appointment, group: 'payment' });
    const settled = await payments(booked.body.id);
    expect(settled.refunds.map((r: { amountMinor: number }) => r.amountMinor)).toEqual([5000]);
  });

  it('charges the late fee when a confirmed booking is cancelled less than 24 h ahead', async () => {
    const halfHour = 30 * 60_000;
    const soon = new Date(Math.ceil((Date.now() + 2 * 3_600_000) / halfHour) * halfHour).toISOString();
    const booked = await book(soon, 'tok_success');
    expect(booked.status).toBe(201);
    await until(booked.body.id, 'CONFIRMED');
    const cancel = await http('POST', `${scheduling.url}/appointments/${booked.body.id}/cancel`, { by: 'CLIENT' });
    expect(cancel.body).toMatchObject({ status: 'CANCELLED', feeMinor: 2500, refundMinor: 2500 });
    await caughtUp(env, { outboxSchema: 'scheduling', topic: TOPICS.appointment, group: 'payment' });
    const settled = await payments(booked.body.id);
    expect(settled.refunds.map((r: { amountMinor: number }) => r.amountMinor)).toEqual([2500]);
  });

  it('lets a reschedule and a new booking race for one slot: one winner, the loser unchanged, the money adds up', async () => {
    const from = slot();
    const target = slot();
    const a = (await book(from, 'tok_success')).body;
    await until(a.id, 'CONFIRMED');
    const [moved, other] = await Promise.all([
      http('POST', `${scheduling.url}/appointments/${a.id}/reschedule`, { start: target, by: 'CLIENT' }),
      book(target, 'tok_success'),
    ]);
    const winners = [moved.status === 200, other.status === 201].filter(Boolean);
    expect(winners).toHaveLength(1);
    expect([moved.status, other.status]).toContain(409);
    if (moved.status === 200) {
      expect(other.body.code).toBe('SLOT_UNAVAILABLE');
      expect(moved.body.start).toBe(target);
      await eventually(async () => ((await payments(a.id))?.credits?.length ? true : undefined), 20000, 'the credit');
    } else {
      expect(moved.body.code).toBe('SLOT_UNAVAILABLE');
      const unchanged = await statusOf(a.id);
      expect(unchanged).toMatchObject({ start: from, status: 'CONFIRMED', version: a.version + 1 });
      await until(other.body.id, 'CONFIRMED');
    }
    // Charges − refunds − retained fees = what each appointment still holds: its price (or credit) while
    // confirmed, nothing once cancelled; retained equals the fees scheduling charged.
    const knex = (await import('knex')).default({ client: 'pg', connection: env.databaseUrl });
    try {
      await eventually(async () => {
        const { rows: pending } = await knex.raw(`SELECT count(*)::int AS n FROM scheduling.outbox`);
        return pending[0].n === 0 ? true : undefined;
      }, 20000, 'scheduling outbox drained');
      const wrong = await eventually(async () => {
        const { rows } = await knex.raw(`
          SELECT a.id, a.status, a.price_minor, a.fee_minor, l.held_minor, l.retained_minor, l.credit_minor
            FROM scheduling.appointments a
            JOIN payment.appointment_ledger l ON l.appointment_id = a.id::text
           WHERE (a.status IN ('CANCELLED', 'NO_SHOW') AND l.held_minor <> 0)
              OR (a.status = 'CONFIRMED' AND l.held_minor <> COALESCE(l.credit_minor, a.price_minor))
              OR l.retained_minor <> a.fee_minor`);
        return rows.length === 0 ? rows : undefined;
      }, 20000, 'the ledger to reconcile');
      expect(wrong).toEqual([]);
      const { rows: totals } = await knex.raw(`
        SELECT (SELECT coalesce(sum(captured_minor - refunded_minor), 0)::int FROM payment.appointment_ledger) AS kept,
               (SELECT coalesce(sum(CASE WHEN status = 'CONFIRMED' THEN price_minor ELSE 0 END) + sum(fee_minor), 0)::int
                  FROM scheduling.appointments) AS owed`);
      expect(totals[0].kept).toBe(totals[0].owed);
    } finally {
      await knex.destroy();
    }
  });
});
