import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Knex } from 'knex';
import type { EventData } from '@booking/contracts';
import { Platform } from '@booking/platform';
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

export type ClaimedReminder = {
  reminderId: string;
  appointmentId: string;
  appointmentVersion: number;
  channel: Channel;
  offsetMinutes: number;
  fireAt: Date;
  status: Extract<ReminderStatus, 'DISPATCHED' | 'CANCELLED'>;
  start: Date;
  end: Date;
  client: Contact;
  provider: Contact;
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

  constructor(@Inject(Platform) platform: Platform) {
    this.knex = platform.knex;
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

  async insertPlanned(trx: Knex.Transaction, appointmentId: string, version: number, planned: PlannedReminder[], at: Date): Promise<void> {
    if (planned.length === 0) return;
    await trx('reminders').insert(
      planned.map((p) => ({
        reminder_id: randomUUID(),
        appointment_id: appointmentId,
        appointment_version: version,
        channel: p.channel,
        offset_minutes: p.offsetMinutes,
        fire_at: p.fireAt,
        status: p.status,
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
   * The claim, in one statement (README "Workers and the claim"):
   * 1. lock the due head of the queue that no other worker holds (`FOR UPDATE SKIP LOCKED`);
   * 2. lock those reminders' appointment rows `FOR SHARE SKIP LOCKED`. An appointment row that a
   *    cancellation or reschedule is writing right now is locked, so it is skipped and its reminders
   *    are left SCHEDULED and untouched: the cancellation, waiting for our row locks, cancels them
   *    once we commit;
   * 3. mark each reminder whose appointment is CONFIRMED at the version that planned it DISPATCHED,
   *    and any other (a last guard; the handlers never leave one) CANCELLED.
   * Returns the decided reminders and how many rows were locked (decided or left alone).
   */
  async claimDue(trx: Knex.Transaction, now: Date, limit: number): Promise<{ locked: number; claimed: ClaimedReminder[] }> {
    const { rows } = await trx.raw(
      `WITH due AS (
         SELECT reminder_id, appointment_id, appointment_version
           FROM reminders
          WHERE status = 'SCHEDULED' AND fire_at <= ?
          ORDER BY fire_at
          LIMIT ?
          FOR UPDATE SKIP LOCKED
       ), current AS (
         SELECT appointment_id, version, status, start_time, end_time, client, provider
           FROM appointments
          WHERE appointment_id = ANY (ARRAY(SELECT appointment_id FROM due))
          FOR SHARE SKIP LOCKED
       ), decided AS (
         SELECT d.reminder_id, (c.status = 'CONFIRMED' AND c.version = d.appointment_version) AS live,
                c.start_time, c.end_time, c.client, c.provider
           FROM due d JOIN current c ON c.appointment_id = d.appointment_id
       ), updated AS (
         UPDATE reminders r
            SET status = CASE WHEN d.live THEN 'DISPATCHED' ELSE 'CANCELLED' END,
                attempts = r.attempts + d.live::int,
                dispatched_at = CASE WHEN d.live THEN ?::timestamptz END,
                updated_at = ?
           FROM decided d
          WHERE r.reminder_id = d.reminder_id AND r.status = 'SCHEDULED'
         RETURNING r.reminder_id, r.appointment_id, r.appointment_version, r.channel, r.offset_minutes, r.fire_at, r.status,
                   d.start_time, d.end_time, d.client, d.provider
       )
       SELECT u.*, l.locked
         FROM (SELECT count(*)::int AS locked FROM due) l
         LEFT JOIN updated u ON true`,
      [now, limit, now, now],
    );
    const locked: number = rows[0].locked;
    const claimed = rows
      .filter((r: { reminder_id: string | null }) => r.reminder_id !== null)
      .map(
        (r: Record<string, unknown>): ClaimedReminder => ({
          reminderId: r.reminder_id as string,
          appointmentId: r.appointment_id as string,
          appointmentVersion: r.appointment_version as number,
          channel: r.channel as Channel,
          offsetMinutes: r.offset_minutes as number,
          fireAt: r.fire_at as Date,
          status: r.status as ClaimedReminder['status'],
          start: r.start_time as Date,
          end: r.end_time as Date,
          client: r.client as Contact,
          provider: r.provider as Contact,
        }),
      );
    return { locked, claimed };
  }

  /** The earliest fire time still waiting, so an idle worker can wake for it instead of a full poll. */
  async nextFireAt(): Promise<Date | null> {
    const { rows } = await this.knex.raw(`SELECT min(fire_at) AS next FROM reminders WHERE status = 'SCHEDULED'`);
    return rows[0].next ?? null;
  }
}
