import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Envelope, EventData } from '@booking/contracts';
import { appendToOutbox, handleOnce, PermanentEventError, Platform } from '@booking/platform';
import { paymentMetrics } from '../payment.metrics';
import { findPaymentFor } from '../payments/find-payment';
import { settleReschedule } from '../payments/ledger';
import { creditIssued } from '../payments/payment-events';
import { PaymentRepository } from '../payments/payment.repository';
import { PAYMENT_SCHEMA } from '../schema';

export const CREDIT_CONSUMER = 'payment.issue-credit';

/**
 * AppointmentRescheduled moves the appointment (same id) to a new slot. The payment stays captured:
 * `creditMinor` of it is recorded as a credit that now stands behind the moved appointment, and a late
 * reschedule's `feeMinor` is kept as a retained fee. No money moves at the gateway, so credit row, fee
 * row, CreditIssued and the inbox row are one transaction.
 */
@Injectable()
export class IssueCreditHandler {
  constructor(
    @Inject(Platform) private readonly platform: Platform,
    private readonly payments: PaymentRepository,
  ) {}

  async handle(event: Envelope): Promise<void> {
    const data = event.data as EventData<'AppointmentRescheduled'>;
    const asksForMoney = data.creditMinor > 0 || data.feeMinor > 0;
    if (data.paymentId === null && !asksForMoney) return;
    let credited = false;
    await handleOnce(this.platform.knex, PAYMENT_SCHEMA, CREDIT_CONSUMER, event, async (trx) => {
      const found = await findPaymentFor(this.payments, trx, data);
      if (!found) {
        if (!asksForMoney) return;
        throw new PermanentEventError(`no captured payment for appointment ${data.appointmentId} to credit`);
      }
      const payment = await this.payments.lock(trx, found.id);
      const settlement = settleReschedule(await this.payments.balanceOf(trx, payment), data);
      const source = { paymentId: payment.id, appointmentId: payment.appointmentId, currency: payment.currency, sourceEventId: event.eventId, sourceEventType: event.type };
      if (settlement.retainedMinor > 0) {
        await this.payments.insertRetainedFee(trx, { ...source, id: randomUUID(), amountMinor: settlement.retainedMinor, reason: 'RESCHEDULE_FEE' });
      }
      if (settlement.creditMinor > 0) {
        const credit = { ...source, id: randomUUID(), amountMinor: settlement.creditMinor, reason: 'RESCHEDULED' as const };
        await this.payments.insertCredit(trx, credit);
        const version = await this.payments.nextVersion(trx, payment.id);
        await appendToOutbox(trx, PAYMENT_SCHEMA, [creditIssued(payment, credit, settlement.retainedMinor, version)]);
        credited = true;
      }
    });
    if (credited) paymentMetrics.credits.inc();
  }
}
