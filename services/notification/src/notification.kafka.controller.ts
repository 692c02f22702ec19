import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { TOPICS } from '@booking/contracts';
import { EventHandler, Platform } from '@booking/platform';
import { NotificationConfig } from './config';
import { NotifyHandler } from './deliveries/notify.handler';
import { consumerRetryPolicy } from './deliveries/retry-policy';

export const NOTIFICATION_CONFIG = Symbol('NOTIFICATION_CONFIG');

/**
 * Appointment events (confirmed, cancelled, rescheduled) and due reminders, in the notification
 * group. An event with unfinished deliveries is run again by the consumer after a backoff — that is
 * how transient failures are retried — until each delivery is SENT or FAILED.
 */
@Injectable()
export class NotificationKafkaController implements OnApplicationBootstrap {
  constructor(
    @Inject(Platform) private readonly platform: Platform,
    @Inject(NotifyHandler) private readonly notify: NotifyHandler,
    @Inject(NOTIFICATION_CONFIG) private readonly config: NotificationConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const handle: EventHandler = (event) => this.notify.handle(event);
    await this.platform.consume({
      groupId: 'notification',
      topics: [TOPICS.appointment, TOPICS.reminder],
      handlers: { AppointmentConfirmed: handle, AppointmentCancelled: handle, AppointmentRescheduled: handle, ReminderDue: handle, LatePaymentRefundRequested: handle },
      ...consumerRetryPolicy({
        maxAttempts: this.config.NOTIFY_MAX_ATTEMPTS,
        leaseMs: this.config.NOTIFY_LEASE_MS,
        initialBackoffMs: this.config.NOTIFY_INITIAL_BACKOFF_MS,
        maxBackoffMs: this.config.NOTIFY_MAX_BACKOFF_MS,
      }),
    });
  }
}
