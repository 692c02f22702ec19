import { Inject, Injectable } from '@nestjs/common';
import { Knex } from 'knex';
import { EventData, TOPICS } from '@booking/contracts';
import { currentTraceparent, outboxChannel, Platform, query, quoteIdent, uuidv7 } from '@booking/platform';
import { ClaimParameters, ClaimStatement, claimStatement } from './claim-statement';
import type { PlannedReminder } from './reminder-plan';
import type { Channel, ReminderStatus } from './reminder-status';

export type Contact = EventData<'AppointmentConfirmed'>['client'];

/** An appointment as one of its events describes it, at that event's stream version. */
export type AppointmentSnapshot = {
  appointmentId: string;
  version: number;
  start: Date;
  end: Date;
  client: Contact;
  provider: Contact;
};

/** A reminder the claim decided: DISPATCHED (its ReminderDue is in the outbox) or CANCELLED. */
export type ClaimedReminder = {
  reminderId: string;
  status: Extract<ReminderStatus, 'DISPATCHED' | 'CANCELLED'>;
};

export type ClaimResult = {
  /** Rows the claim locked, whether it decided them or left them to a cancellation in flight. */
  locked: number;
  /** ReminderDue envelopes written to the outbox (one per DISPATCHED reminder). */
  dispatched: number;
  /** The decided reminders, in fire order. */
  claimed: ClaimedReminder[];
  /** Seconds past its fire time at which each dispatched reminder was claimed. */
  lateness: number[];
};

type ClaimRow = { locked: number; dispatched: number; ids: string[] | null; statuses: ClaimedReminder['status'][] | null; lateness: number[] | null };

/** What the envelopes of one claim share; a null correlation id is made fresh per event by Postgres. */
export type ReminderDueContext = {
  occurredAt: Date;
  correlationId: string | null;
  causationId: string | null;
};

export type ReminderView = {
  reminderId: string;
  appointmentId: string;
  channel: Channel;
  offsetMinutes: number;
  fireAt: string;
  status: ReminderStatus;
  attempts: number;
  lastError: string | null;
  dispatchedAt: string | null;
  updatedAt: string;
};

export type DeliveryOutcome = { status: 'SENT' } | { status: 'FAILED'; error: string };

/**
 * Every statement on the reminder schema. The handlers write an appointment row before its reminders;
 * the claim locks reminders first but never waits for an appointment row (SKIP LOCKED), so a change
 * in flight makes the claim let go and the two can never deadlock (README "Cancel while claimed").
 */
@Injectable()
export class RemindersRepository {
  readonly knex: Knex;
  private readonly claims = new Map<number, ClaimStatement>();
  private readonly outboxTable: string;
  private readonly outboxChannel: string;

  constructor(@Inject(Platform) platform: Platform) {
    this.knex = platform.knex;
    this.outboxTable = `${quoteIdent(platform.schema)}.outbox`;
    this.outboxChannel = outboxChannel(platform.schema);
  }

  /**
   * Makes `snapshot` the appointment's current, confirmed version, unless the service already applied
   * a newer version or a cancellation (terminal). Locks the appointment row either way.
   */
  async applyConfirmed(trx: Knex.Transaction, snapshot: AppointmentSnapshot, at: Date): Promise<boolean> {
    const { rows } = await trx.raw(
      `INSERT INTO appointments AS a (appointment_id, version, status, start_time, end_time, client, provider, updated_at)
       VALUES (?, ?, 'CONFIRMED', ?, ?, ?, ?, ?)
       ON CONFLICT (appointment_id) DO UPDATE
         SET version = EXCLUDED.version, status = 'CONFIRMED', start_time = EXCLUDED.start_time,
             end_time = EXCLUDED.end_time, client = EXCLUDED.client, provider = EXCLUDED.provider,
             updated_at = EXCLUDED.updated_at
         WHERE a.status = 'CONFIRMED' AND a.version < EXCLUDED.version
       RETURNING version`,
      [snapshot.appointmentId, snapshot.version, snapshot.start, snapshot.end, snapshot.client, snapshot.provider, at],
    );
    return rows.length === 1;
  }

  /** Records the cancellation; it is terminal, so it holds whatever version arrives later. */
  async applyCancelled(trx: Knex.Transaction, snapshot: AppointmentSnapshot, at: Date): Promise<void> {
    await trx.raw(
      `INSERT INTO appointments AS a (appointment_id, version, status, start_time, end_time, client, provider, updated_at)
       VALUES (?, ?, 'CANCELLED', ?, ?, ?, ?, ?)
       ON CONFLICT (appointment_id) DO UPDATE
         SET version = GREATEST(a.version, EXCLUDED.version), status = 'CANCELLED', updated_at = EXCLUDED.updated_at`,
      [snapshot.appointmentId, snapshot.version, snapshot.start, snapshot.end, snapshot.client, snapshot.provider, at],
    );
  }

  /** Cancels the appointment's reminders that have not fired; waits for a worker that holds one. */
  async cancelScheduled(trx: Knex.Transaction, appointmentId: string, at: Date): Promise<void> {
    await trx.raw(`UPDATE reminders SET status = 'CANCELLED', updated_at = ? WHERE appointment_id = ? AND status = 'SCHEDULED'`, [
      at,
      appointmentId,
    ]);
  }

  /**
   * Writes the planned reminders with the trace context they were planned in (the `plan reminders`
   * span of the event's processing, when tracing is on): their ReminderDue continues that trace.
   */
  async insertPlanned(trx: Knex.Transaction, appointmentId: string, version: number, planned: PlannedReminder[], at: Date): Promise<void> {
    if (planned.length === 0) return;
    const traceParent = currentTraceparent();
    await trx('reminders').insert(
      planned.map((p) => ({
        reminder_id: uuidv7(),
        appointment_id: appointmentId,
        appointment_version: version,
        channel: p.channel,
        offset_minutes: p.offsetMinutes,
        fire_at: p.fireAt,
        status: p.status,
        trace_parent: traceParent,
        created_at: at,
        updated_at: at,
      })),
    );
  }

  /**
   * Applies a delivery outcome to a dispatched reminder. A success is final; a failure may still be
   * followed by a success. Returns false for an unknown reminder.
   */
  async recordOutcome(trx: Knex.Transaction, reminderId: string, outcome: DeliveryOutcome, at: Date): Promise<boolean> {
    const error = outcome.status === 'FAILED' ? outcome.error : null;
    const { rows } = await trx.raw(
      `UPDATE reminders SET status = ?, last_error = COALESCE(?, last_error), updated_at = ?
        WHERE reminder_id = ? AND status IN ('DISPATCHED','FAILED')
       RETURNING reminder_id`,
      [outcome.status, error, at, reminderId],
    );
    if (rows.length === 1) return true;
    const known = await trx('reminders').where({ reminder_id: reminderId }).first('reminder_id');
    return known !== undefined;
  }

  async listByAppointment(appointmentId: string): Promise<ReminderView[]> {
    const rows = await this.knex('reminders')
      .where({ appointment_id: appointmentId })
      .orderBy([{ column: 'fire_at' }, { column: 'channel' }, { column: 'created_at' }])
      .select('*');
    return rows.map((r) => ({
      reminderId: r.reminder_id,
      appointmentId: r.appointment_id,
      channel: r.channel,
      offsetMinutes: r.offset_minutes,
      fireAt: r.fire_at.toISOString(),
      status: r.status,
      attempts: r.attempts,
      lastError: r.last_error,
      dispatchedAt: r.dispatched_at ? r.dispatched_at.toISOString() : null,
      updatedAt: r.updated_at.toISOString(),
    }));
  }

  /**
   * The claim and its ReminderDue events, in one statement (`claimStatement`, README "Workers and the
   * claim"): locks the due head of the queue, decides each row, writes the DISPATCHED rows' envelopes
   * to the outbox and wakes the relay. No row data travels to node and back.
   *
   * `db` is the knex instance (the statement is then its own transaction: one round trip, locks
   * released at its end) or a transaction (locks held until that commits). It runs as a named,
   * server-side prepared statement on the connection knex gives it, so Postgres parses it once per
   * connection instead of once per claim.
   */
  async claimDue(db: Knex | Knex.Transaction, now: Date, limit: number, event: ReminderDueContext): Promise<ClaimResult> {
    const values: ClaimParameters = {
      now,
      topic: TOPICS.reminder,
      occurredAt: event.occurredAt.toISOString(),
      correlationId: event.correlationId,
      causationId: event.causationId,
      channel: this.outboxChannel,
    };
    const claim = this.claimStatement(limit);
    const { rows } = await query<ClaimRow>(db, { name: claim.name, text: claim.text, values: claim.parameters.map((name) => values[name]) });
    const { locked, dispatched, ids, statuses, lateness } = rows[0];
    return {
      locked,
      dispatched,
      lateness: lateness ?? [],
      claimed: (ids ?? []).map((reminderId, i) => ({ reminderId, status: (statuses ?? [])[i] })),
    };
  }

  /** One statement per batch size (a service uses one; tests a few). */
  private claimStatement(limit: number): ClaimStatement {
    let claim = this.claims.get(limit);
    if (!claim) {
      claim = claimStatement(this.outboxTable, limit);
      this.claims.set(limit, claim);
    }
    return claim;
  }

  /** Reminders due now and not yet dispatched (counted up to `cap`, so that a scrape stays cheap). */
  async dueBacklog(cap = 100_000): Promise<number> {
    const { rows } = await this.knex.raw(`SELECT count(*)::int AS due FROM (SELECT 1 FROM reminders WHERE status = 'SCHEDULED' AND fire_at <= now() LIMIT ${cap}) AS d`);
    return rows[0].due;
  }

  /** The earliest fire time still waiting, so an idle worker can wake for it instead of a full poll. */
  async nextFireAt(): Promise<Date | null> {
    const { rows } = await this.knex.raw(`SELECT min(fire_at) AS next FROM reminders WHERE status = 'SCHEDULED'`);
    return rows[0].next ?? null;
  }
}
