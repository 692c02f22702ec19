import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Envelope, EventData } from '@booking/contracts';
import { handleOnce, PermanentEventError, Platform } from '@booking/platform';
import type { Logger } from 'pino';
import { PAYMENT_CONFIG, PaymentConfig } from '../config';
import { Payment } from '../payments/payment';
import { PaymentRepository } from '../payments/payment.repository';
import {
  IdempotencyKeyReuseError,
  PAYMENT_PROVIDER,
  PaymentProvider,
  ProviderTimeoutError,
  withDeadline,
} from '../provider/payment-provider';
import { PAYMENT_SCHEMA } from '../schema';
import { ChargeOutcome, recordChargeOutcome } from './record-charge-outcome';

export const CHARGE_CONSUMER = 'payment.charge-appointment';

/**
 * The gateway key of an appointment's charge. Derived from the appointment alone, so whatever is
 * redelivered or retried — even after a crash between the gateway's charge and our commit — asks the
 * gateway for the same charge and never for a second one.
 */
export const chargeIdempotencyKey = (appointmentId: string) => `appointment:${appointmentId}:charge`;

/** Scheduling passes the client's card token through at `data.paymentMethod`. */
const paymentMethodSchema = z.string().min(1).max(200).optional();

/**
 * AppointmentRequested with a price → one charge at the gateway → PaymentSucceeded / PaymentFailed.
 *
 * The gateway is called outside any transaction (never hold a transaction open across the network):
 * first the PENDING payment row commits, then the gateway is asked, then the outcome, the outbox event
 * and the inbox row commit together. A crash anywhere in between replays into the same row and the
 * same idempotency key.
 */
@Injectable()
export class ChargeAppointmentHandler {
  private readonly logger: Logger;

  constructor(
    @Inject(Platform) private readonly platform: Platform,
    private readonly payments: PaymentRepository,
    @Inject(PAYMENT_PROVIDER) private readonly provider: PaymentProvider,
    @Inject(PAYMENT_CONFIG) private readonly config: PaymentConfig,
  ) {
    this.logger = platform.logger.child({ component: 'charge-appointment' });
  }

  async handle(event: Envelope): Promise<void> {
    const data = event.data as EventData<'AppointmentRequested'>;
    // A free appointment is confirmed by scheduling itself; there is nothing to charge or record.
    if (data.price.amountMinor === 0) return;
    const method = paymentMethodSchema.safeParse(event.data.paymentMethod);
    if (!method.success) throw new PermanentEventError(`paymentMethod must be a card token string: ${method.error.issues[0]?.message}`);
    if (await this.payments.isHandled(CHARGE_CONSUMER, event.eventId)) return;

    const payment = await this.payments.findOrCreate({
      id: randomUUID(),
      appointmentId: data.appointmentId,
      amountMinor: data.price.amountMinor,
      currency: data.price.currency,
      idempotencyKey: chargeIdempotencyKey(data.appointmentId),
      correlationId: event.correlationId,
      requestEventId: event.eventId,
    });
    if (payment.amountMinor !== data.price.amountMinor || payment.currency !== data.price.currency) {
      throw new PermanentEventError(
        `appointment ${data.appointmentId} was already charged ${payment.amountMinor} ${payment.currency}, now asked for ${data.price.amountMinor} ${data.price.currency}`,
      );
    }
    // Only a payment nobody has an answer for yet is (re)charged; any other already had its outcome.
    const outcome = payment.status === 'PENDING' ? await this.charge(payment, method.data) : undefined;
    await handleOnce(this.platform.knex, PAYMENT_SCHEMA, CHARGE_CONSUMER, event, async (trx) => {
      if (outcome) await recordChargeOutcome(trx, this.payments, payment, 'PENDING', outcome);
    });
  }

  /** Asks the gateway, again with the same key when it does not answer in time, a bounded number of times. */
  private async charge(payment: Payment, paymentMethod: string | undefined): Promise<ChargeOutcome> {
    const { PAYMENT_PROVIDER_MAX_ATTEMPTS: attempts, PAYMENT_PROVIDER_TIMEOUT_MS: timeoutMs, PAYMENT_PROVIDER_RETRY_BACKOFF_MS: backoffMs } = this.config;
    for (let attempt = 1; ; attempt++) {
      try {
        return await withDeadline('charge', timeoutMs, (signal) =>
          this.provider.charge(
            { idempotencyKey: payment.idempotencyKey, amountMinor: payment.amountMinor, currency: payment.currency, paymentMethod },
            signal,
          ),
        );
      } catch (error) {
        if (error instanceof IdempotencyKeyReuseError) throw new PermanentEventError(error.message);
        // Anything else (gateway unreachable, database down) is the consumer's to retry with backoff.
        if (!(error instanceof ProviderTimeoutError)) throw error;
        this.logger.warn({ paymentId: payment.id, appointmentId: payment.appointmentId, attempt, attempts }, 'payment provider timed out');
        if (attempt >= attempts) return { status: 'timed_out' };
        await sleep(backoffMs);
      }
    }
  }
}
