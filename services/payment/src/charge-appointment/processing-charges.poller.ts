import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Platform, withCorrelation } from '@booking/platform';
import type { Logger } from 'pino';
import { PAYMENT_CONFIG, PaymentConfig } from '../config';
import { Payment } from '../payments/payment';
import { PaymentRepository } from '../payments/payment.repository';
import { PAYMENT_PROVIDER, PaymentProvider, withDeadline } from '../provider/payment-provider';
import { recordChargeOutcome } from './record-charge-outcome';
import { paymentMetrics } from '../payment.metrics';

const BATCH = 50;

/**
 * Charges without a final outcome are asked about on a timer, not waited for inside the consumer (a wait
 * that long would stall the partition and outlive the Kafka session):
 * - those the gateway accepted but settles later (`tok_success_delayed`), until it settles them;
 * - those it never answered (TIMED_OUT), for `PAYMENT_TIMEOUT_RECONCILE_HOURS`: a gateway that took the
 *   request and lost only its answer may have captured the money, and then the capture is reported like
 *   any other (scheduling confirms the appointment, or asks for a refund if the hold is gone). A gateway
 *   with no record of the key never charged it; nothing is emitted and the hold expires.
 * Any number of instances may poll; the status guard lets one of them emit.
 */
@Injectable()
export class ProcessingChargesPoller implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger: Logger;
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;
  private stopped = false;

  constructor(
    @Inject(Platform) platform: Platform,
    private readonly payments: PaymentRepository,
    @Inject(PAYMENT_PROVIDER) private readonly provider: PaymentProvider,
    @Inject(PAYMENT_CONFIG) private readonly config: PaymentConfig,
  ) {
    this.logger = platform.logger.child({ component: 'processing-charges' });
  }

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round;
  }

  /** One pass over the processing charges; returns how many reached an outcome. */
  async pollOnce(): Promise<number> {
    let settled = 0;
    for (const payment of await this.payments.listUnsettled(BATCH, this.config.PAYMENT_TIMEOUT_RECONCILE_HOURS)) {
      if (this.stopped) break;
      try {
        if (await this.settle(payment)) settled++;
      } catch (error) {
        this.logger.error({ err: error, paymentId: payment.id }, 'could not settle a processing charge; will ask again');
      }
    }
    return settled;
  }

  private async settle(payment: Payment): Promise<boolean> {
    const result = await withDeadline('retrieve charge', this.config.PAYMENT_PROVIDER_TIMEOUT_MS, (signal) =>
      this.provider.retrieveCharge(payment.idempotencyKey, signal),
    );
    if (!result) {
      if (payment.status === 'PROCESSING') this.logger.error({ paymentId: payment.id }, 'the payment provider does not know a charge it accepted');
      await this.payments.touch(payment.id);
      return false;
    }
    if (result.status === 'processing' && payment.status === 'PROCESSING') {
      await this.payments.touch(payment.id);
      return false;
    }
    if (payment.status === 'TIMED_OUT') {
      this.logger.warn({ paymentId: payment.id, outcome: result.status }, 'a charge the gateway never answered has an outcome after all; reporting it');
    }
    // The events continue the thread of the AppointmentRequested that started the charge. A timed-out
    // charge the gateway is still processing moves to PROCESSING (no event) and is settled like any other.
    const moved = await withCorrelation({ correlationId: payment.correlationId, causationId: payment.requestEventId }, () =>
      this.payments.knex.transaction((trx) => recordChargeOutcome(trx, this.payments, payment, payment.status, result)),
    );
    if (moved) paymentMetrics.payments.inc({ outcome: moved.status });
    return moved !== undefined && result.status !== 'processing';
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.round = this.pollOnce()
        .then(() => undefined)
        .catch((error) => this.logger.error({ err: error }, 'processing-charges round failed'))
        .finally(() => {
          this.round = undefined;
          this.schedule();
        });
    }, this.config.PAYMENT_SETTLEMENT_POLL_MS);
  }
}
