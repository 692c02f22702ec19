import { Knex } from 'knex';
import { appendToOutbox } from '@booking/platform';
import { ChargeResult } from '../provider/payment-provider';
import { paymentFailed, paymentSucceeded } from '../payments/payment-events';
import { Payment, PaymentStatus } from '../payments/payment';
import { PaymentRepository } from '../payments/payment.repository';
import { PAYMENT_SCHEMA } from '../schema';

/** What came of charging: the gateway's answer, or none at all after every attempt timed out. */
export type ChargeOutcome = ChargeResult | { status: 'timed_out' };

/**
 * Records the outcome on the payment and, for a final one, the event scheduling waits for — in the
 * caller's transaction. Only a payment still in `from` moves, so a racing writer emits nothing.
 */
export async function recordChargeOutcome(
  trx: Knex.Transaction,
  payments: PaymentRepository,
  payment: Payment,
  from: PaymentStatus,
  outcome: ChargeOutcome,
): Promise<Payment | undefined> {
  switch (outcome.status) {
    case 'succeeded': {
      const moved = await payments.transition(trx, payment.id, from, { status: 'SUCCEEDED', providerRef: outcome.providerRef, failureReason: null }, true);
      if (moved) await appendToOutbox(trx, PAYMENT_SCHEMA, [paymentSucceeded(moved)]);
      return moved;
    }
    case 'failed': {
      const moved = await payments.transition(trx, payment.id, from, { status: 'FAILED', providerRef: outcome.providerRef, failureReason: outcome.reason }, true);
      if (moved) await appendToOutbox(trx, PAYMENT_SCHEMA, [paymentFailed(moved)]);
      return moved;
    }
    case 'processing':
      return payments.transition(trx, payment.id, from, { status: 'PROCESSING', providerRef: outcome.providerRef, failureReason: null }, false);
    case 'timed_out':
      // No PaymentFailed: without an answer we cannot say the card was declined. The appointment is
      // left to its hold, which expires in scheduling and frees the slot.
      return payments.transition(trx, payment.id, from, { status: 'TIMED_OUT', providerRef: null, failureReason: 'provider_timeout' }, false);
    default: {
      const unknown: never = outcome;
      throw new Error(`unknown charge outcome ${JSON.stringify(unknown)}`);
    }
  }
}
