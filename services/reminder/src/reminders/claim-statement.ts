import { createHash } from 'node:crypto';
import { envelopeSchema, eventContracts, eventDataSchemas } from '@booking/contracts';

/** The values the claim statement takes; each `$name` below becomes one numbered parameter. */
export type ClaimParameters = {
  /** The injected clock's "now": what is due, and the DISPATCHED row's `dispatched_at`. */
  now: Date;
  topic: string;
  /** Envelope `occurredAt`, already in `toISOString` form. */
  occurredAt: string;
  /** Envelope `correlationId` for every event of the claim; null: a fresh one per event. */
  correlationId: string | null;
  causationId: string | null;
  /** The relay's NOTIFY channel. */
  channel: string;
};

/** The statement as a named (server-side prepared) pg query. */
export type ClaimStatement = {
  name: string;
  text: string;
  /** The parameter behind `$1`, `$2`, …, in that order. */
  parameters: (keyof ClaimParameters)[];
};

/**
 * ISO-8601 in UTC with milliseconds, exactly what `Date#toISOString` prints for the years 0000-9999
 * (both truncate the microseconds Postgres keeps).
 */
const isoInstant = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * The ReminderDue data (libs/contracts `eventDataSchemas.ReminderDue`) as SQL over one row `e` of the
 * claim's `events` CTE. Typed by the schema's shape: a field added to or renamed in the contract fails
 * to compile here. That the result decodes with the contracts codec, and equals what the JS
 * envelope builder made from the same row, is tested in src/dispatch/reminder-due.int.spec.ts.
 */
const REMINDER_DUE_DATA: { [K in keyof typeof eventDataSchemas.ReminderDue.shape]: string } = {
  reminderId: 'e.reminder_id',
  appointmentId: 'e.appointment_id',
  channel: 'e.channel',
  offsetMinutes: 'e.offset_minutes',
  fireAt: isoInstant('e.fire_at'),
  start: isoInstant('e.start_time'),
  end: isoInstant('e.end_time'),
  client: 'e.client',
  provider: 'e.provider',
};

/**
 * The platform envelope (libs/contracts `envelopeSchema`, ARCHITECTURE.md decision 4) of one
 * ReminderDue, as the platform's `buildEnvelope` makes it: the caller's correlation if it has one,
 * otherwise a fresh correlation id per event and no causation.
 */
const REMINDER_DUE_ENVELOPE: { [K in keyof typeof envelopeSchema.shape]: string } = {
  eventId: 'e.event_id',
  type: `'ReminderDue'::text`,
  schemaVersion: String(eventContracts.ReminderDue.version),
  occurredAt: '$occurredAt::text',
  aggregateId: 'e.appointment_id',
  aggregateVersion: 'e.appointment_version',
  correlationId: 'COALESCE($correlationId::text, gen_random_uuid()::text)',
  causationId: '$causationId::text',
  data: jsonObject(REMINDER_DUE_DATA),
};

/** A `json` (not `jsonb`) object: the outbox keeps text, and json is built as text, in key order. */
function jsonObject(fields: Record<string, string>): string {
  const pairs = Object.entries(fields).map(([key, sql]) => `'${key}', ${sql}`);
  return `json_build_object(${pairs.join(', ')})`;
}

const PARAMETER = /\$(now|topic|occurredAt|correlationId|causationId|channel)\b/g;

/**
 * The claim, its ReminderDue events and the relay's wake-up, as one statement (README "Workers and
 * the claim"; `RemindersRepository.claimDue` runs it):
 * - `due`: the due head of the queue that no other worker holds, locked `FOR UPDATE SKIP LOCKED`;
 * - `current`: those reminders' appointment rows, locked `FOR SHARE SKIP LOCKED`. A row that a
 *   cancellation or reschedule is writing right now is skipped, and with it its reminders: they stay
 *   SCHEDULED and untouched, and the change, waiting for our row locks, cancels them after our commit;
 * - `updated`: DISPATCHED for each reminder whose appointment is CONFIRMED at the version that planned
 *   it, CANCELLED for any other (a last guard; the handlers never leave one);
 * - `outboxed`: one ReminderDue envelope per DISPATCHED reminder, built here from the updated row, in
 *   fire order (the relay publishes in outbox id order), with the reminder's `trace_parent` (the trace
 *   context of the event that planned it), so the relay publishes it within the booking's trace. `events` is MATERIALIZED so each row's one
 *   `gen_random_uuid()` is both the outbox `event_id` and the envelope's `eventId`;
 * - the NOTIFY that wakes the relay at commit, once, if anything was inserted (as `appendToOutbox`).
 * It returns one row: how many rows were locked (decided or left alone), how many envelopes were
 * written, the decided reminders' ids and statuses in fire order, and how late (seconds past its fire
 * time) each dispatched one went out — cast to fixed types, so that a
 * later migration cannot change the result type of a statement a running worker has prepared.
 *
 * The batch size is part of the text, not a parameter: with it known, Postgres settles on one generic
 * plan for the prepared statement after its first few runs instead of planning every claim again
 * (with `LIMIT $n` the generic plan's estimate is too pessimistic to be chosen), and that plan no
 * longer depends on the `now` of the claim that happened to be planned.
 */
export function claimStatement(outboxTable: string, limit: number): ClaimStatement {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`claim batch size must be a positive integer, got ${limit}`);
  const sql = `
    WITH due AS (
      SELECT reminder_id, appointment_id, appointment_version
        FROM reminders
       WHERE status = 'SCHEDULED' AND fire_at <= $now::timestamptz
       ORDER BY fire_at
       LIMIT ${limit}
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
             dispatched_at = CASE WHEN d.live THEN $now::timestamptz END,
             updated_at = $now::timestamptz
        FROM decided d
       WHERE r.reminder_id = d.reminder_id AND r.status = 'SCHEDULED'
      RETURNING r.reminder_id, r.appointment_id, r.appointment_version, r.channel, r.offset_minutes, r.fire_at, r.status, r.trace_parent,
                d.start_time, d.end_time, d.client, d.provider
    ), events AS MATERIALIZED (
      SELECT gen_random_uuid() AS event_id, u.* FROM updated u WHERE u.status = 'DISPATCHED'
    ), outboxed AS (
      INSERT INTO ${outboxTable} (event_id, topic, message_key, event_type, payload, trace_parent)
      SELECT e.event_id, $topic::text, e.appointment_id, 'ReminderDue', ${jsonObject(REMINDER_DUE_ENVELOPE)}, e.trace_parent
        FROM events e
       ORDER BY e.fire_at, e.reminder_id
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM due)::int AS locked,
           (SELECT count(*) FROM outboxed)::int AS dispatched,
           (SELECT array_agg(reminder_id::text ORDER BY fire_at, reminder_id) FROM updated) AS ids,
           (SELECT array_agg(status::text ORDER BY fire_at, reminder_id) FROM updated) AS statuses,
           (SELECT array_agg(extract(epoch FROM $now::timestamptz - fire_at)::float8) FROM events) AS lateness,
           (SELECT count(*) FROM (SELECT pg_notify($channel::text, '') FROM (SELECT 1 FROM outboxed LIMIT 1) AS once) AS n) AS notified`;
  const parameters: (keyof ClaimParameters)[] = [];
  const text = sql.replace(PARAMETER, (_, name: keyof ClaimParameters) => {
    if (!parameters.includes(name)) parameters.push(name);
    return `$${parameters.indexOf(name) + 1}`;
  });
  // Named by its text: prepared once per connection, and another text (batch size, schema) never reuses it.
  const name = `reminder_claim_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
  return { name, text, parameters };
}
