import { Inject, Injectable } from '@nestjs/common';
import { Knex } from 'knex';
import { Platform, query, quoteIdent } from '@booking/platform';
import { PAYMENT_SCHEMA } from '../schema';
import { Balance } from './ledger';
import { Credit, LedgerEntry, Payment, PaymentStatus, Refund, RetainedFee } from './payment';

type Db = Knex | Knex.Transaction;
type Row = Record<string, unknown>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type NewPayment = Pick<Payment, 'appointmentId' | 'amountMinor' | 'currency' | 'idempotencyKey' | 'correlationId' | 'requestEventId'> & {
  id: string;
};

export type NewLedgerEntry<E extends LedgerEntry<string>> = Omit<E, 'createdAt'>;

/** The payment schema's rows. Methods taking `db` run inside the caller's transaction. */
@Injectable()
export class PaymentRepository {
  readonly knex: Knex;

  constructor(@Inject(Platform) platform: Platform) {
    this.knex = platform.knex;
  }

  async isHandled(consumer: string, eventId: string): Promise<boolean> {
    const row = await this.table(this.knex, 'inbox').where({ consumer, event_id: eventId }).first('event_id');
    return row !== undefined;
  }

  /**
   * What charge requests start from, in one statement for all of them: each appointment's payment —
   * created PENDING (and committed) if it has none yet, so the gateway is only ever asked about a
   * payment we recorded — and whether `consumer` already handled the request's event. The requests
   * must be for distinct appointments. Keyed by event id.
   */
  async openCharges(consumer: string, requests: readonly { eventId: string; payment: NewPayment }[]): Promise<Map<string, { payment: Payment; handled: boolean }>> {
    const opened = new Map<string, { payment: Payment; handled: boolean }>();
    if (requests.length === 0) return opened;
    const column = <K extends keyof NewPayment>(key: K) => requests.map((r) => r.payment[key]);
    const payments = `${quoteIdent(PAYMENT_SCHEMA)}.payments`;
    const inbox = `${quoteIdent(PAYMENT_SCHEMA)}.inbox`;
    // Prepared once per connection: every charge runs it.
    const { rows } = await query(this.knex, {
      name: 'payment.open-charges.v1',
      text: `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::uuid[], $8::uuid[])
           AS i(id, appointment_id, amount_minor, currency, idempotency_key, correlation_id, request_event_id, event_id)
       ), created AS (
         INSERT INTO ${payments} (id, appointment_id, amount_minor, currency, status, idempotency_key, correlation_id, request_event_id)
         SELECT id, appointment_id, amount_minor, currency, 'PENDING', idempotency_key, correlation_id, request_event_id FROM input
         ON CONFLICT (appointment_id) DO NOTHING
         RETURNING *
       )
       SELECT c.*, i.event_id::text AS for_event, false AS handled
         FROM created c JOIN input i ON i.appointment_id = c.appointment_id
       UNION ALL
       SELECT p.*, i.event_id::text, EXISTS (SELECT 1 FROM ${inbox} WHERE consumer = $9 AND event_id = i.event_id)
         FROM ${payments} p JOIN input i ON i.appointment_id = p.appointment_id
        WHERE NOT EXISTS (SELECT 1 FROM created c WHERE c.appointment_id = p.appointment_id)`,
      values: [
        column('id'),
        column('appointmentId'),
        column('amountMinor'),
        column('currency'),
        column('idempotencyKey'),
        column('correlationId'),
        column('requestEventId'),
        requests.map((r) => r.eventId),
        consumer,
      ],
    });
    for (const row of rows as Row[]) opened.set(String(row.for_event).toLowerCase(), { payment: toPayment(row), handled: row.handled === true });
    // A payment created by a transaction that committed after this statement's snapshot was taken (two
    // deliveries racing) is not in the result: read it again now that it is visible.
    for (const { eventId, payment } of requests) {
      if (opened.has(eventId.toLowerCase())) continue;
      const [stored, handled] = await Promise.all([this.findByAppointment(this.knex, payment.appointmentId), this.isHandled(consumer, eventId)]);
      if (!stored) throw new Error(`payment of appointment ${payment.appointmentId} vanished`);
      opened.set(eventId.toLowerCase(), { payment: stored, handled });
    }
    return opened;
  }

  async findByAppointment(db: Db, appointmentId: string): Promise<Payment | undefined> {
    const row = await this.table(db, 'payments').where({ appointment_id: appointmentId }).first();
    return row && toPayment(row);
  }

  async findById(db: Db, id: string): Promise<Payment | undefined> {
    if (!UUID.test(id)) return undefined;
    const row = await this.table(db, 'payments').where({ id }).first();
    return row && toPayment(row);
  }

  /**
   * Moves a payment on from `from`, and only from there: of two racing writers one wins and emits,
   * the other finds nothing to update. `emits` raises the version for the event about to be written.
   */
  async transition(
    trx: Knex.Transaction,
    id: string,
    from: PaymentStatus,
    to: Pick<Payment, 'status' | 'providerRef' | 'failureReason'>,
    emits: boolean,
  ): Promise<Payment | undefined> {
    const [row] = await this.table(trx, 'payments')
      .where({ id, status: from })
      .update({
        status: to.status,
        provider_ref: to.providerRef,
        failure_reason: to.failureReason,
        ...(emits && { version: trx.raw('version + 1') }),
        updated_at: trx.fn.now(),
      })
      .returning('*');
    return row && toPayment(row);
  }

  /** Locks the payment for the rest of the transaction: its money moves one event at a time. */
  async lock(trx: Knex.Transaction, id: string): Promise<Payment> {
    const row = await this.table(trx, 'payments').where({ id }).forUpdate().first();
    if (!row) throw new Error(`payment ${id} vanished`);
    return toPayment(row);
  }

  async balanceOf(db: Db, payment: Payment): Promise<Balance> {
    const [refunded, retained] = await Promise.all(
      ['refunds', 'retained_fees'].map(async (table) => {
        const [sum] = await this.table(db, table).where({ payment_id: payment.id }).sum({ total: 'amount_minor' });
        return Number(sum?.total ?? 0);
      }),
    );
    return { capturedMinor: payment.status === 'SUCCEEDED' ? payment.amountMinor : 0, refundedMinor: refunded, retainedMinor: retained };
  }

  /** Raises the payment's version for one more event and returns it. */
  async nextVersion(trx: Knex.Transaction, id: string): Promise<number> {
    const [row] = await this.table(trx, 'payments')
      .where({ id })
      .update({ version: trx.raw('version + 1'), updated_at: trx.fn.now() })
      .returning('version');
    return Number(row.version);
  }

  async insertRefund(trx: Knex.Transaction, refund: NewLedgerEntry<Refund>): Promise<void> {
    await this.table(trx, 'refunds').insert({ ...entryRow(refund), requested_minor: refund.requestedMinor, provider_ref: refund.providerRef });
  }

  async insertCredit(trx: Knex.Transaction, credit: NewLedgerEntry<Credit>): Promise<void> {
    await this.table(trx, 'credits').insert(entryRow(credit));
  }

  async insertRetainedFee(trx: Knex.Transaction, fee: NewLedgerEntry<RetainedFee>): Promise<void> {
    await this.table(trx, 'retained_fees').insert(entryRow(fee));
  }

  /** Puts a payment still unsettled at the back of the queue, so charges the gateway sits on cannot starve the rest. */
  async touch(id: string): Promise<void> {
    await this.table(this.knex, 'payments').where({ id }).whereIn('status', ['PROCESSING', 'TIMED_OUT']).update({ updated_at: this.knex.fn.now() });
  }

  /**
   * Payments without a final outcome, least recently looked at first: those the gateway accepted but has
   * not settled, and those it never answered, while younger than `timedOutForHours`.
   */
  async listUnsettled(limit: number, timedOutForHours: number): Promise<Payment[]> {
    const rows = await this.table(this.knex, 'payments')
      .where({ status: 'PROCESSING' })
      .orWhere((q) => q.where({ status: 'TIMED_OUT' }).whereRaw('created_at > now() - make_interval(hours => ?)', [timedOutForHours]))
      .orderBy('updated_at')
      .limit(limit);
    return rows.map(toPayment);
  }

  async ledgerOf(appointmentId: string) {
    const payment = await this.findByAppointment(this.knex, appointmentId);
    if (!payment) return undefined;
    const entries = async <E>(table: string, map: (row: Row) => E) =>
      (await this.table(this.knex, table).where({ payment_id: payment.id }).orderBy([{ column: 'created_at' }, { column: 'id' }])).map(map);
    const [refunds, credits, retainedFees, balance] = await Promise.all([
      entries('refunds', (row) => ({ ...toEntry(row), requestedMinor: Number(row.requested_minor), providerRef: String(row.provider_ref) }) as Refund),
      entries('credits', (row) => toEntry(row) as Credit),
      entries('retained_fees', (row) => toEntry(row) as RetainedFee),
      this.table(this.knex, 'appointment_ledger').where({ payment_id: payment.id }).first(),
    ]);
    return {
      payment,
      refunds,
      credits,
      retainedFees,
      balance: {
        capturedMinor: Number(balance.captured_minor),
        refundedMinor: Number(balance.refunded_minor),
        retainedMinor: Number(balance.retained_minor),
        heldMinor: Number(balance.held_minor),
        creditMinor: balance.credit_minor === null ? null : Number(balance.credit_minor),
      },
    };
  }

  private table(db: Db, name: string) {
    return db.withSchema(PAYMENT_SCHEMA).table(name);
  }
}

function toPayment(row: Row): Payment {
  return {
    id: String(row.id),
    appointmentId: String(row.appointment_id),
    amountMinor: Number(row.amount_minor),
    currency: String(row.currency),
    status: row.status as PaymentStatus,
    idempotencyKey: String(row.idempotency_key),
    providerRef: (row.provider_ref as string | null) ?? null,
    failureReason: (row.failure_reason as string | null) ?? null,
    version: Number(row.version),
    correlationId: String(row.correlation_id),
    requestEventId: String(row.request_event_id),
    createdAt: row.created_at as Date,
    updatedAt: row.updated_at as Date,
  };
}

function entryRow(entry: NewLedgerEntry<LedgerEntry<string>>): Row {
  return {
    id: entry.id,
    payment_id: entry.paymentId,
    appointment_id: entry.appointmentId,
    amount_minor: entry.amountMinor,
    currency: entry.currency,
    reason: entry.reason,
    source_event_id: entry.sourceEventId,
    source_event_type: entry.sourceEventType,
  };
}

function toEntry(row: Row): LedgerEntry<string> {
  return {
    id: String(row.id),
    paymentId: String(row.payment_id),
    appointmentId: String(row.appointment_id),
    amountMinor: Number(row.amount_minor),
    currency: String(row.currency),
    reason: String(row.reason),
    sourceEventId: String(row.source_event_id),
    sourceEventType: String(row.source_event_type),
    createdAt: row.created_at as Date,
  };
}
