import { Knex } from 'knex';
import { query, quoteIdent } from '@booking/platform';
import { GatewayCharge, GatewayRefund, GatewayStore } from './gateway-store';

type ChargeRow = {
  idempotency_key: string;
  charge_id: string;
  amount_minor: string | number;
  currency: string;
  payment_method: string;
  status: GatewayCharge['status'];
  failure_reason: string | null;
  completes_at: Date | null;
  refunded_minor: string | number;
  requests: number;
  updated_at: Date;
};

type RefundRow = { idempotency_key: string; refund_id: string; charge_id: string; amount_minor: string | number; currency: string };

/** The simulated gateway's memory in `provider_charges` / `provider_refunds`, each call its own transaction. */
export class KnexGatewayStore implements GatewayStore {
  constructor(
    private readonly knex: Knex,
    private readonly schema: string,
  ) {}

  async putCharge(charge: Omit<GatewayCharge, 'refundedMinor' | 'requests'>): Promise<GatewayCharge> {
    // Prepared once per connection: every charge runs it.
    const { rows } = await query<ChargeRow>(this.knex, {
      name: `gateway.put-charge.${this.schema}`,
      text: `INSERT INTO ${quoteIdent(this.schema)}.provider_charges
               (idempotency_key, charge_id, amount_minor, currency, payment_method, status, failure_reason, completes_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (idempotency_key) DO UPDATE SET requests = provider_charges.requests + 1, updated_at = CURRENT_TIMESTAMP
             RETURNING *`,
      values: [
        charge.idempotencyKey,
        charge.chargeId,
        charge.amountMinor,
        charge.currency,
        charge.paymentMethod,
        charge.status,
        charge.failureReason,
        charge.completesAt,
      ],
    });
    const row = rows[0];
    return toCharge(row as ChargeRow);
  }

  private async getCharge(idempotencyKey: string): Promise<GatewayCharge | undefined> {
    const row = await this.charges(this.knex).where({ idempotency_key: idempotencyKey }).first();
    return row && toCharge(row);
  }

  async settleCharge(idempotencyKey: string, now: Date): Promise<GatewayCharge | undefined> {
    await this.charges(this.knex)
      .where({ idempotency_key: idempotencyKey, status: 'PROCESSING' })
      .andWhere('completes_at', '<=', now)
      .update({ status: 'SUCCEEDED', updated_at: this.knex.fn.now() });
    return this.getCharge(idempotencyKey);
  }

  async putRefund(refund: GatewayRefund, check: (charge: GatewayCharge | undefined) => void): Promise<GatewayRefund> {
    return this.knex.transaction(async (trx) => {
      const known = await this.findRefund(trx, refund.idempotencyKey);
      if (known) return known;
      const charge = await this.charges(trx).where({ charge_id: refund.chargeId }).forUpdate().first();
      // A concurrent call with the same key held the charge lock before us: answer with its refund.
      const raced = await this.findRefund(trx, refund.idempotencyKey);
      if (raced) return raced;
      check(charge && toCharge(charge));
      await trx.withSchema(this.schema).table('provider_refunds').insert({
        idempotency_key: refund.idempotencyKey,
        refund_id: refund.refundId,
        charge_id: refund.chargeId,
        amount_minor: refund.amountMinor,
        currency: refund.currency,
      });
      await this.charges(trx)
        .where({ charge_id: refund.chargeId })
        .update({ refunded_minor: trx.raw('refunded_minor + ?', [refund.amountMinor]), updated_at: trx.fn.now() });
      return refund;
    });
  }

  private charges(knex: Knex) {
    return knex<ChargeRow>('provider_charges').withSchema(this.schema);
  }

  private async findRefund(trx: Knex.Transaction, idempotencyKey: string): Promise<GatewayRefund | undefined> {
    const row: RefundRow | undefined = await trx.withSchema(this.schema).table('provider_refunds').where({ idempotency_key: idempotencyKey }).first();
    return (
      row && {
        idempotencyKey: row.idempotency_key,
        refundId: row.refund_id,
        chargeId: row.charge_id,
        amountMinor: Number(row.amount_minor),
        currency: row.currency,
      }
    );
  }
}

function toCharge(row: ChargeRow): GatewayCharge {
  return {
    idempotencyKey: row.idempotency_key,
    chargeId: row.charge_id,
    amountMinor: Number(row.amount_minor),
    currency: row.currency,
    paymentMethod: row.payment_method,
    status: row.status,
    failureReason: row.failure_reason,
    completesAt: row.completes_at,
    refundedMinor: Number(row.refunded_minor),
    requests: row.requests,
  };
}
