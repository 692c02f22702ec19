import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { TOPICS } from '@booking/contracts';
import { EventHandler, Platform } from '@booking/platform';
import { AppointmentEventsHandler } from './appointment-events/appointment-events.handler';
import { DeliveryOutcomeHandler } from './delivery-outcome/delivery-outcome.handler';

/** The event types this service reads (its contract tests read every sample of each). */
export const REMINDER_CONSUMES = ['AppointmentConfirmed', 'AppointmentRescheduled', 'AppointmentCancelled', 'NotificationSent', 'NotificationFailed'] as const;

/** The events this service reacts to, in its own consumer group; anything else on these topics is skipped. */
@Injectable()
export class ReminderEventsKafkaController implements OnApplicationBootstrap {
  constructor(
    @Inject(Platform) private readonly platform: Platform,
    private readonly appointments: AppointmentEventsHandler,
    private readonly outcomes: DeliveryOutcomeHandler,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.platform.consume({
      groupId: 'reminder',
      topics: [TOPICS.appointment, TOPICS.notification],
      handlers: {
        AppointmentConfirmed: (event) => this.appointments.plan(event),
        AppointmentRescheduled: (event) => this.appointments.plan(event),
        AppointmentCancelled: (event) => this.appointments.cancel(event),
        NotificationSent: (event) => this.outcomes.sent(event),
        NotificationFailed: (event) => this.outcomes.failed(event),
      } satisfies Record<(typeof REMINDER_CONSUMES)[number], EventHandler>,
    });
  }
}
