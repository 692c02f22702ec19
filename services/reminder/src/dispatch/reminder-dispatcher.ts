import { Inject, Injectable } from '@nestjs/common';
import { Knex } from 'knex';
import { currentCorrelation } from '@booking/platform';
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
 * A pause inside the claim transaction, after the claim statement (which wrote the outbox rows too),
 * before the commit, with every lock still held. Production never passes it; the interleaving tests
 * stop a real claim there.
 */
export type DispatchHooks = {
  beforeCommit?: (claimed: ClaimedReminder[], trx: Knex.Transaction) => Promise<void>;
};

/**
 * One claim: one statement that moves due reminders to DISPATCHED and puts their ReminderDue in the
 * outbox (built by Postgres, see `claimStatement`). A single statement is a transaction of its own,
 * so production sends just that: no BEGIN and COMMIT round trips, and its locks last only as long as
 * the statement. With a hook the same statement runs inside an explicit transaction, so a test can
 * stop it before the commit with every lock held.
 */
@Injectable()
export class ReminderDispatcher {
  constructor(
    private readonly reminders: RemindersRepository,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  async dispatchDue(limit: number, hooks: DispatchHooks = {}): Promise<DispatchResult> {
    const { beforeCommit } = hooks;
    if (!beforeCommit) return (await this.claim(this.reminders.knex, limit)).result;
    return this.reminders.knex.transaction(async (trx) => {
      const { result, claimed } = await this.claim(trx, limit);
      await beforeCommit(claimed, trx);
      return result;
    });
  }

  private async claim(db: Knex, limit: number): Promise<{ result: DispatchResult; claimed: ClaimedReminder[] }> {
    const asOf = this.clock.now();
    // As the platform's buildEnvelope: the caller's correlation if there is one (a worker loop has
    // none), otherwise a fresh correlation id per event and no causation.
    const correlation = currentCorrelation();
    const { locked, dispatched, claimed } = await this.reminders.claimDue(db, asOf, limit, {
      occurredAt: new Date(),
      correlationId: correlation?.correlationId ?? null,
      causationId: correlation?.causationId ?? null,
    });
    return { result: { asOf, locked, dispatched, cancelled: claimed.length - dispatched }, claimed };
  }
}
