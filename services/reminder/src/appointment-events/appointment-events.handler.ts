import { Inject, Injectable } from '@nestjs/common';
import { Envelope, EventData } from '@booking/contracts';
import { handleOnce, inSpan, PermanentEventError, Platform } from '@booking/platform';
import { Clock } from '../clock';
import { REMINDER_CONFIG, ReminderConfig } from '../config';
import { planReminders } from '../reminders/reminder-plan';
import { AppointmentSnapshot, RemindersRepository } from '../reminders/reminders.repository';

/** Inbox name of this service's appointment and notification consumers. */
export const INBOX_CONSUMER = 'reminder';

type AppointmentData = EventData<'AppointmentConfirmed'> | EventData<'AppointmentRescheduled'> | EventData<'AppointmentCancelled'>;

/**
 * Confirmed and Rescheduled both say "the appointment is confirmed for [start, end) as of version v":
 * the reminders of any older plan are cancelled and a new plan is written. Cancelled is terminal.
 * Each runs once per event (inbox) and writes the appointment row before any reminder row, the lock
 * order the workers rely on.
 */
@Injectable()
export class AppointmentEventsHandler {
  constructor(
    private readonly reminders: RemindersRepository,
    @Inject(Platform) private readonly platform: Platform,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(REMINDER_CONFIG) private readonly config: ReminderConfig,
  ) {}

  async plan(event: Envelope): Promise<void> {
    const snapshot = toSnapshot(event);
    await inSpan('plan reminders', { 'messaging.message.type': event.type }, () => this.write(event, snapshot));
  }

  private async write(event: Envelope, snapshot: ReturnType<typeof toSnapshot>): Promise<void> {
    await handleOnce(this.reminders.knex, this.platform.schema, INBOX_CONSUMER, event, async (trx) => {
      const now = this.clock.now();
      if (!(await this.reminders.applyConfirmed(trx, snapshot, now))) {
        this.platform.logger.info(
          { appointmentId: snapshot.appointmentId, version: snapshot.version, type: event.type },
          'appointment already cancelled or at a newer version; no reminders planned',
        );
        return;
      }
      await this.reminders.cancelScheduled(trx, snapshot.appointmentId, now);
      const planned = planReminders({
        start: snapshot.start,
        client: snapshot.client,
        now,
        offsetsMinutes: this.config.REMINDER_OFFSETS_MINUTES,
        missedGraceMs: this.config.REMINDER_MISSED_GRACE_SECONDS * 1000,
      });
      await this.reminders.insertPlanned(trx, snapshot.appointmentId, snapshot.version, planned, now);
    });
  }

  async cancel(event: Envelope): Promise<void> {
    const snapshot = toSnapshot(event);
    await handleOnce(this.reminders.knex, this.platform.schema, INBOX_CONSUMER, event, async (trx) => {
      const now = this.clock.now();
      await this.reminders.applyCancelled(trx, snapshot, now);
      await this.reminders.cancelScheduled(trx, snapshot.appointmentId, now);
    });
  }
}

/** The consumer already validated the data against its schema; what is left is what a schema cannot say. */
export function toSnapshot(event: Envelope): AppointmentSnapshot {
  const data = event.data as AppointmentData;
  if (event.aggregateId !== data.appointmentId) {
    throw new PermanentEventError(`${event.type}: aggregateId ${event.aggregateId} is not appointmentId ${data.appointmentId}`);
  }
  const start = new Date(data.start);
  const end = new Date(data.end);
  if (end.getTime() <= start.getTime()) {
    throw new PermanentEventError(`${event.type} ${data.appointmentId}: end ${data.end} is not after start ${data.start}`);
  }
  return {
    appointmentId: data.appointmentId,
    version: event.aggregateVersion,
    start,
    end,
    client: data.client,
    provider: data.provider,
  };
}
