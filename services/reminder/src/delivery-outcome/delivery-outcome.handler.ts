import { Inject, Injectable } from '@nestjs/common';
import { Envelope, EventData } from '@booking/contracts';
import { handleOnce, PermanentEventError, Platform } from '@booking/platform';
import { INBOX_CONSUMER } from '../appointment-events/appointment-events.handler';
import { Clock } from '../clock';
import { DeliveryOutcome, RemindersRepository } from '../reminders/reminders.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The notification service's verdict on a ReminderDue: DISPATCHED (or FAILED) → SENT / FAILED. */
@Injectable()
export class DeliveryOutcomeHandler {
  constructor(
    private readonly reminders: RemindersRepository,
    @Inject(Platform) private readonly platform: Platform,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  async sent(event: Envelope): Promise<void> {
    await this.record(event, { status: 'SENT' });
  }

  async failed(event: Envelope): Promise<void> {
    await this.record(event, { status: 'FAILED', error: (event.data as EventData<'NotificationFailed'>).error });
  }

  private async record(event: Envelope, outcome: DeliveryOutcome): Promise<void> {
    const { reminderId } = event.data as EventData<'NotificationSent'>;
    // Confirmations and cancellation notices are deliveries too; only reminders carry an id.
    if (reminderId === null) return;
    if (!UUID.test(reminderId)) throw new PermanentEventError(`${event.type}: reminderId ${reminderId} is not a reminder of this service`);
    await handleOnce(this.reminders.knex, this.platform.schema, INBOX_CONSUMER, event, async (trx) => {
      const known = await this.reminders.recordOutcome(trx, reminderId, outcome, this.clock.now());
      if (!known) throw new PermanentEventError(`${event.type}: unknown reminder ${reminderId}`);
    });
  }
}
