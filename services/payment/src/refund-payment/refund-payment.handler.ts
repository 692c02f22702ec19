import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Envelope, EventData } from '@booking/contracts';
import { appendToOutbox, handleOnce, PermanentEventError, Platform } from '@booking/platform';
import { paymentMetrics } from '../payment.metrics';
import type { Logger } from 'pino';
import { PAYMENT_CONFIG, PaymentConfig } from '../config';
import { Balance, ClosingSettlement, settleClosing } from '../payments/ledger';
import { Payment, RefundReason, RetainedFeeReason } from '../payments/payment';
import { refundIssued } from '../payments/payment-events';
import { PaymentRepository } from '../payments/payment.repository';
import { findPaymentFor } from '../payments/find-payment';
import { IdempotencyKeyReuseError, PAYMENT_PROVIDER, PaymentProvider, RefundRejectedError, withDeadline } from '../provider/payment-provider';
import { PAYMENT_SCHEMA } from '../schema';

export const REFUND_CONSUMER = 'payment.refund-payment';

/** The gateway key of the refund one event causes: a redelivery or retry asks for the same refund. */
export const refundIdempotencyKey = (appointmentId: string, sourceEventId: string) => `appointment:${appointmentId}:refund:${sourceEventId}`;

type ClosingAsk = {
  appointmentId: string;
  paymentId: string | null;
  currency: string;
  refundMinor: number;
  refundReason: RefundReason;
  /** Kept by the provider; 'rest' keeps whatever the refund leaves. */
  fee: { minor: number | 'rest'; reason: RetainedFeeReason } | null;
};

/**
 * Events that give money back: a payment that arrived too late (LatePaymentRefundRequested), a
 * cancellation and a no-show (`refundMinor` as scheduling computed it from the policy snapshot).
 * Each refunds at most what the payment still holds, once per event: the gateway refund carries a key
 * derived from the event, and the refund row, the retained fee, the RefundIssued event and the inbox
 * row commit together.
 */
@Injectable()
export class RefundPaymentHandler {
  private readonly logger: Logger;

  constructor(
    @Inject(Platform) private readonly platform: Platform,
    private readonly payments: PaymentRepository,
    @Inject(PAYMENT_PROVIDER) private readonly provider: PaymentProvider,
    @Inject(PAYMENT_CONFIG) private readonly config: PaymentConfig,
  ) {
    this.logger = platform.logger.child({ component: 'refund-payment' });
  }

  latePayment(event: Envelope): Promise<void> {
    const data = event.data as EventData<'LatePaymentRefundRequested'>;
    return this.close(event, {
      appointmentId: data.appointmentId,
      paymentId: data.paymentId,
      currency: data.currency,
      refundMinor: data.amountMinor,
      refundReason: 'LATE_PAYMENT',
      fee: null,
    });
  }

  cancelled(event: Envelope): Promise<void> {
    const data = event.data as EventData<'AppointmentCancelled'>;
    return this.close(event, {
      appointmentId: data.appointmentId,
      paymentId: data.paymentId,
      currency: data.currency,
      refundMinor: data.refundMinor,
      refundReason: 'CANCELLATION',
      fee: { minor: data.feeMinor, reason: 'CANCELLATION_FEE' },
    });
  }

  noShow(event: Envelope): Promise<void> {
    const data = event.data as EventData<'AppointmentMarkedNoShow'>;
    return this.close(event, {
      appointmentId: data.appointmentId,
      paymentId: data.paymentId,
      currency: data.currency,
      refundMinor: data.refundMinor,
      refundReason: 'NO_SHOW',
      // A no-show closes the appointment: what is not refunded is forfeited.
      // Events written before forfeitedMinor was declared leave it out.
      fee: { minor: data.forfeitedMinor ?? 'rest', reason: 'NO_SHOW_FORFEIT' },
    });
  }

  private async close(event: Envelope, ask: ClosingAsk): Promise<void> {
    const asksForMoney = ask.refundMinor > 0 || (typeof ask.fee?.minor === 'number' && ask.fee.minor > 0);
    // Nothing was paid (an expired hold, a failed payment, a free appointment): nothing to move.
    if (ask.paymentId === null && !asksForMoney) return;
    if (await this.payments.isHandled(REFUND_CONSUMER, event.eventId)) return;
    const found = await findPaymentFor(this.payments, this.payments.knex, ask);
    if (!found) {
      if (!asksForMoney) return;
      throw new PermanentEventError(`no captured payment for appointment ${ask.appointmentId} to settle ${event.type} against`);
    }
    const settle = (balance: Balance) => settleClosing(balance, { refundMinor: ask.refundMinor, feeMinor: ask.fee?.minor ?? 0 });
    const planned = settle(await this.payments.balanceOf(this.payments.knex, found));
    if (planned.refundMinor < ask.refundMinor) {
      this.logger.warn({ paymentId: found.id, asked: ask.refundMinor, refundable: planned.refundMinor }, 'refund capped at what the payment still holds');
    }
    const providerRefundRef = planned.refundMinor > 0 ? await this.refundAtGateway(found, planned.refundMinor, event) : null;

    let refunded = false;
    await handleOnce(this.platform.knex, PAYMENT_SCHEMA, REFUND_CONSUMER, event, async (trx) => {
      const payment = await this.payments.lock(trx, found.id);
      const settlement = settle(await this.payments.balanceOf(trx, payment));
      if (!sameSettlement(settlement, planned)) {
        // Another event moved this payment's money since we asked the gateway. A retry recomputes; if the
        // amount changed, the gateway refuses the reused key and the event is dead-lettered for a person.
        throw new Error(`balance of payment ${payment.id} changed while refunding`);
      }
      const source = { paymentId: payment.id, appointmentId: payment.appointmentId, currency: payment.currency, sourceEventId: event.eventId, sourceEventType: event.type };
      if (providerRefundRef) {
        const refund = {
          ...source,
          id: randomUUID(),
          amountMinor: settlement.refundMinor,
          requestedMinor: ask.refundMinor,
          reason: ask.refundReason,
          providerRef: providerRefundRef,
        };
        await this.payments.insertRefund(trx, refund);
        await appendToOutbox(trx, PAYMENT_SCHEMA, [refundIssued(payment, refund, await this.payments.nextVersion(trx, payment.id))]);
        refunded = true;
      }
      if (ask.fee && settlement.retainedMinor > 0) {
        await this.payments.insertRetainedFee(trx, { ...source, id: randomUUID(), amountMinor: settlement.retainedMinor, reason: ask.fee.reason });
      }
    });
    if (refunded) paymentMetrics.refunds.inc();
  }

  private async refundAtGateway(payment: Payment, amountMinor: number, event: Envelope): Promise<string> {
    const chargeRef = payment.providerRef;
    if (!chargeRef) throw new PermanentEventError(`payment ${payment.id} has no gateway charge to refund`);
    try {
      const result = await withDeadline('refund', this.config.PAYMENT_PROVIDER_TIMEOUT_MS, (signal) =>
        this.provider.refund(
          {
            idempotencyKey: refundIdempotencyKey(payment.appointmentId, event.eventId),
            providerRef: chargeRef,
            amountMinor,
            currency: payment.currency,
          },
          signal,
        ),
      );
      return result.providerRefundRef;
    } catch (error) {
      // A timeout or an unreachable gateway is retried by the consumer with the same key; a refusal is not.
      if (error instanceof RefundRejectedError || error instanceof IdempotencyKeyReuseError) throw new PermanentEventError(error.message);
      throw error;
    }
  }
}

function sameSettlement(a: ClosingSettlement, b: ClosingSettlement): boolean {
  return a.refundMinor === b.refundMinor && a.retainedMinor === b.retainedMinor;
}
