import { Inject, Injectable } from '@nestjs/common';
import { Knex } from 'knex';
import { EventData, TOPICS } from '@booking/contracts';
import { appendToOutbox, OutgoingEvent, Platform } from '@booking/platform';
import { Clock } from '../clock';
import { ClaimedReminder, RemindersRepository } from '../reminders/reminders.repository';

export type DispatchResult = {
  /** The time the claim took as "now": rows due at or before it were eligible. */
  asOf: Date;
  /** Rows the claim locked, whether it decided them or left them to a cancellation in flight. */
  locked: number;
  /** ReminderDue written to the outbox. */
  dispatched: number;
  /** Held rows whose appointment was no longer confirmed at their version. */
  cancelled: number;
};

/**
 * A pause inside the claim transaction, after the claim and the outbox write, before the commit, with
 * every lock still held. Production never passes it; the interleaving tests stop a real claim there.
 */
export type DispatchHooks = {
  beforeCommit?: (claimed: ClaimedReminder[], trx: Knex.Transaction) => Promise<void>;
};

/** One claim: a short transaction that moves due reminders to DISPATCHED and puts ReminderDue in the outbox. */
@Injectable()
export class ReminderDispatcher {
  constructor(
    private readonly reminders: RemindersRepository,
    @Inject(Platform) private readonly platform: Platform,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  async dispatchDue(limit: number, hooks: DispatchHooks = {}): Promise<DispatchResult> {
    return this.reminders.knex.transaction(async (trx) => {
      const asOf = this.clock.now();
      const { locked, claimed } = await this.reminders.claimDue(trx, asOf, limit);
      const due = claimed.filter((c) => c.status === 'DISPATCHED');
      await appendToOutbox(trx, this.platform.schema, due.map(reminderDueEvent));
      await hooks.beforeCommit?.(claimed, trx);
      return { asOf, locked, dispatched: due.length, cancelled: claimed.length - due.length };
    });
  }
}

function reminderDueEvent(reminder: ClaimedReminder): OutgoingEvent {
  const data: EventData<'ReminderDue'> = {
    reminderId: reminder.reminderId,
    appointmentId: reminder.appointmentId,
    channel: reminder.channel,
    offsetMinutes: reminder.offsetMinutes,
    fireAt: reminder.fireAt.toISOString(),
    start: reminder.start.toISOString(),
    end: reminder.end.toISOString(),
    client: reminder.client,
    provider: reminder.provider,
  };
  return {
    topic: TOPICS.reminder,
    type: 'ReminderDue',
    aggregateId: reminder.appointmentId,
    aggregateVersion: reminder.appointmentVersion,
    data,
  };
}
