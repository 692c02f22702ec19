import { Inject, Injectable } from '@nestjs/common';
import { currentCorrelation } from '@booking/platform';
import { Clock } from '../clock';
import { RemindersRepository } from '../reminders/reminders.repository';
import { reminderMetrics } from '../reminder.metrics';

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
 * One claim: one statement that moves due reminders to DISPATCHED and puts their ReminderDue in the
 * outbox (built by Postgres, see `claimStatement`). A single statement is a transaction of its own,
 * so production sends just that: no BEGIN and COMMIT round trips, and its locks last only as long as
 * the statement.
 */
@Injectable()
export class ReminderDispatcher {
  constructor(
    private readonly reminders: RemindersRepository,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  async dispatchDue(limit: number): Promise<DispatchResult> {
    const asOf = this.clock.now();
    // As the platform's buildEnvelope: the caller's correlation if there is one (a worker loop has
    // none), otherwise a fresh correlation id per event and no causation.
    const correlation = currentCorrelation();
    const { locked, dispatched, claimed, lateness } = await this.reminders.claimDue(this.reminders.knex, asOf, limit, {
      occurredAt: new Date(),
      correlationId: correlation?.correlationId ?? null,
      causationId: correlation?.causationId ?? null,
    });
    if (dispatched) reminderMetrics.fired.inc(dispatched);
    for (const seconds of lateness) reminderMetrics.lateness.observe(seconds);
    return { asOf, locked, dispatched, cancelled: claimed.length - dispatched };
  }
}
