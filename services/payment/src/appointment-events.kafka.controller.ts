import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { TOPICS } from '@booking/contracts';
import { EventHandler, Platform } from '@booking/platform';
import { ChargeAppointmentHandler } from './charge-appointment/charge-appointment.handler';
import { PAYMENT_CONFIG, PaymentConfig } from './config';
import { IssueCreditHandler } from './issue-credit/issue-credit.handler';
import { RefundPaymentHandler } from './refund-payment/refund-payment.handler';

/** The event types the payment consumer reads (its contract tests read every sample of each). */
export const PAYMENT_CONSUMES = ['AppointmentRequested', 'LatePaymentRefundRequested', 'AppointmentCancelled', 'AppointmentMarkedNoShow', 'AppointmentRescheduled'] as const;

/**
 * The payment service's one consumer: scheduling's appointment events, in the `payment` group. The
 * platform validates each envelope against the contracts, retries a failing handler with backoff and
 * dead-letters to `<topic>.dlq`; offsets are committed after the handler's transaction.
 */
@Injectable()
export class AppointmentEventsKafkaController implements OnApplicationBootstrap {
  constructor(
    @Inject(Platform) private readonly platform: Platform,
    @Inject(PAYMENT_CONFIG) private readonly config: PaymentConfig,
    private readonly charge: ChargeAppointmentHandler,
    private readonly refunds: RefundPaymentHandler,
    private readonly credits: IssueCreditHandler,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.platform.consume({
      groupId: 'payment',
      topics: [TOPICS.appointment],
      maxAttempts: this.config.PAYMENT_CONSUMER_MAX_ATTEMPTS,
      initialBackoffMs: this.config.PAYMENT_CONSUMER_INITIAL_BACKOFF_MS,
      maxBackoffMs: this.config.PAYMENT_CONSUMER_MAX_BACKOFF_MS,
      keyConcurrency: this.config.PAYMENT_CONSUMER_KEY_CONCURRENCY,
      handlers: {
        AppointmentRequested: (event) => this.charge.handle(event),
        LatePaymentRefundRequested: (event) => this.refunds.latePayment(event),
        AppointmentCancelled: (event) => this.refunds.cancelled(event),
        AppointmentMarkedNoShow: (event) => this.refunds.noShow(event),
        AppointmentRescheduled: (event) => this.credits.handle(event),
      } satisfies Record<(typeof PAYMENT_CONSUMES)[number], EventHandler>,
      batchHandlers: {
        AppointmentRequested: (events, context) => this.charge.handleBatch(events, context),
      },
    });
  }
}
