import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import { Envelope, EventData } from '@booking/contracts';
import { BatchContext, eventCorrelation, inSpan, PermanentEventError, Platform, withCorrelation } from '@booking/platform';
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
import { ChargeOutcome, ChargeRecord, recordChargeOutcomes } from './record-charge-outcome';

export const CHARGE_CONSUMER = 'payment.charge-appointment';

/** Gateway calls one batch has in flight at once. */
const GATEWAY_CONCURRENCY = 8;

/**
 * The gateway key of an appointment's charge. Derived from the appointment alone, so whatever is
 * redelivered or retried — even after a crash between the gateway's charge and our commit — asks the
 * gateway for the same charge and never for a second one.
 */
export const chargeIdempotencyKey = (appointmentId: string) => `appointment:${appointmentId}:charge`;

/**
 * AppointmentRequested with a price → one charge at the gateway → PaymentSucceeded / PaymentFailed.
 *
 * The gateway is called outside any transaction (never hold a transaction open across the network):
 * first the PENDING payment row commits, then the gateway is asked, then the outcome, the outbox event
 * and the inbox row commit together. A crash anywhere in between replays into the same row and the
 * same idempotency key. Each of the three steps is one statement: a charge costs three round trips to
 * Postgres (one of them the simulated gateway's own).
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
    await this.handleAll([event]);
  }

  /**
   * Several requests at once (distinct appointments, from one partition): one statement opens all
   * their payments, the gateway is asked for each (side by side, outside any transaction), one
   * statement records every outcome with its inbox row and event. Anything wrong with one of them
   * throws, and the consumer handles them one by one instead — which replays into the same rows and
   * the same idempotency keys, so nothing is charged twice.
   */
  async handleBatch(events: Envelope[], context: BatchContext): Promise<void> {
    await this.handleAll(events, context.heartbeat);
  }

  private async handleAll(events: Envelope[], heartbeat?: () => Promise<void>): Promise<void> {
    const requests: { event: Envelope; data: EventData<'AppointmentRequested'>; method: string | undefined }[] = [];
    for (const event of events) {
      const data = event.data as EventData<'AppointmentRequested'>;
      // A free appointment is confirmed by scheduling itself; there is nothing to charge or record.
      if (data.price.amountMinor === 0) continue;
      requests.push({ event, data, method: data.paymentMethod });
    }
    if (requests.length === 0) return;
    const opened = await this.payments.openCharges(
      CHARGE_CONSUMER,
      requests.map(({ event, data }) => ({
        eventId: event.eventId,
        payment: {
          id: randomUUID(),
          appointmentId: data.appointmentId,
          amountMinor: data.price.amountMinor,
          currency: data.price.currency,
          idempotencyKey: chargeIdempotencyKey(data.appointmentId),
          correlationId: event.correlationId,
          requestEventId: event.eventId,
        },
      })),
    );
    const toCharge: { event: Envelope; payment: Payment; method: string | undefined }[] = [];
    for (const { event, data, method } of requests) {
      const open = opened.get(event.eventId.toLowerCase());
      if (!open) throw new Error(`no payment opened for event ${event.eventId}`);
      if (open.handled) continue;
      const { payment } = open;
      if (payment.amountMinor !== data.price.amountMinor || payment.currency !== data.price.currency) {
        throw new PermanentEventError(
          `appointment ${data.appointmentId} was already charged ${payment.amountMinor} ${payment.currency}, now asked for ${data.price.amountMinor} ${data.price.currency}`,
        );
      }
      toCharge.push({ event, payment, method });
    }
    // Only a payment nobody has an answer for yet is (re)charged; any other already had its outcome.
    const records: ChargeRecord[] = await mapConcurrently(toCharge, GATEWAY_CONCURRENCY, async ({ event, payment, method }) => {
      // The charge is a span of the trace of the AppointmentRequested it answers.
      const outcome =
        payment.status === 'PENDING'
          ? await withCorrelation(eventCorrelation(event), () => inSpan('charge', { 'payment.provider.attempts.max': this.config.PAYMENT_PROVIDER_MAX_ATTEMPTS }, () => this.charge(payment, method)))
          : undefined;
      await heartbeat?.();
      return { event, payment, outcome };
    });
    // The outcomes leave through this instance's relay, woken once they commit, when it is the active one.
    await this.platform.writeOutbox((notify) => recordChargeOutcomes(this.platform.knex, CHARGE_CONSUMER, records, notify));
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

/**
 * `work` over `items` with at most `limit` running at once; results in the order of `items`. After a
 * failure no new item starts, and it is thrown only once the running ones are done, so nothing is
 * left running behind the caller's back.
 */
async function mapConcurrently<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      const index = next++;
      try {
        results[index] = await work(items[index]);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}
