import { Knex } from 'knex';
import { outboxChannel, query } from '@booking/platform';

/**
 * A booking is one SQL statement, so it is one implicit transaction and one round trip. Every write
 * in it is gated by `go`: the provider still has the version whose rules validated the slot, no
 * blocked time covers the slot, and (with an Idempotency-Key) the key is free and not yet recorded.
 * If `go` is empty nothing is written and the returned row says why. The projection insert is
 * guarded by the exclusion constraint, so a lost race aborts the whole statement (events, outbox and
 * key included). NOTIFY is queued only when outbox rows were written and is delivered at commit.
 */
export type BookingParams = {
  providerId: string;
  providerVersion: number;
  blockedFrom: Date;
  blockedTo: Date;
  appointmentId: string;
  correlationId: string | null;
  occurredAt: Date;
  events: { event_id: string; version: number; type: string; data: unknown }[];
  appointment: Record<string, unknown>;
  outbox: { event_id: string; topic: string; message_key: string; event_type: string; payload: unknown; trace_parent?: string | null }[];
  /** `responseText`: the answer's JSON text, exactly as it is sent. */
  idempotency?: { caller: string; key: string; requestHash: string; responseText: string };
};

export type BookingOutcome = {
  appended: number;
  providerVersion: number | null;
  blocked: boolean;
  /** False when another request with the same Idempotency-Key holds it right now. */
  locked: boolean;
  prior: StoredAnswer | null;
};

/** A recorded booking answer: its JSON text as sent (`response_body` only on rows from before the text was kept). */
export type StoredAnswer = { request_hash: string; response_status: number; response_text: string | null; response_body?: unknown };

const texts = new Map<string, string>();

/**
 * The statement's text; `keyed` adds the Idempotency-Key lock, lookup and record. The bench's pgbench
 * anchor runs this text with its writes gated on the projection insert (bench/booking-workload.ts).
 */
export function bookingStatement(schema: string, keyed: boolean): string {
  const id = `${schema}:${keyed}`;
  let text = texts.get(id);
  if (!text) texts.set(id, (text = buildStatement(schema, keyed)));
  return text;
}

/**
 * Bookings whose blocked ranges overlap take turns: each first takes a transaction advisory lock for
 * every hour of the provider's time its blocked range touches, in ascending order (so two can never
 * wait on each other), and holds them to its commit. Two overlapping ranges share at least one hour, so
 * the later booking's exclusion check finds the earlier one committed and fails at once with 23P01.
 * Without the turns, two overlapping inserts each found the other's uncommitted row and waited for it:
 * a deadlock, one second (deadlock_timeout) per victim, and under a pile-up on one slot those seconds
 * queued past the pool's acquire timeout (seen in CI: 29 deadlocks, one a second, 30 requests failed).
 * Bookings in different hours, or of other providers, never meet here.
 */
export const SLOT_HOURS_LOCK = `SELECT count(pg_advisory_xact_lock(hashtextextended('booking-hour:' || $1::text || ':' || h, 0))) AS taken
      FROM generate_series(floor(extract(epoch FROM $3::timestamptz) / 3600)::bigint,
                           floor((extract(epoch FROM $4::timestamptz) - 0.001) / 3600)::bigint) AS h`;

function buildStatement(schema: string, keyed: boolean): string {
  return `WITH provider AS (
    SELECT version FROM ${schema}.providers WHERE id = $1::uuid AND deleted_at IS NULL
  ), blocked AS (
    SELECT 1 FROM ${schema}.blocked_times WHERE provider_id = $1::uuid AND tstzrange(start_time, end_time, '[)') && tstzrange($3::timestamptz, $4::timestamptz, '[)') LIMIT 1
  ), hours AS (
    ${SLOT_HOURS_LOCK}
  ), ${
    keyed
      ? `lock AS (
    SELECT pg_try_advisory_xact_lock(hashtextextended($11::text || E'\\n' || $12::text, 0)) AS locked
  ), prior AS (
    SELECT request_hash, response_status, response_text, response_body FROM ${schema}.idempotency_keys WHERE caller = $11::text AND key = $12::text
  ), go AS (
    SELECT 1 FROM provider WHERE version = $2::int AND NOT EXISTS (SELECT 1 FROM blocked)
       AND (SELECT locked FROM lock) AND NOT EXISTS (SELECT 1 FROM prior) AND (SELECT taken FROM hours) > 0
  ), remembered AS (
    INSERT INTO ${schema}.idempotency_keys (caller, key, request_hash, response_status, response_text)
    SELECT $11::text, $12::text, $13::text, 201, $14::text FROM go
    RETURNING 1
  ), `
      : `go AS (
    SELECT 1 FROM provider WHERE version = $2::int AND NOT EXISTS (SELECT 1 FROM blocked) AND (SELECT taken FROM hours) > 0
  ), `
  }appended AS (
    INSERT INTO ${schema}.events (event_id, stream_id, stream_type, version, type, data, correlation_id, occurred_at)
    SELECT e.event_id, $5::uuid, 'appointment', e.version, e.type, e.data, $6::text, $7::timestamptz
      FROM go, jsonb_to_recordset($8::jsonb) AS e(event_id uuid, version int, type text, data jsonb)
    RETURNING 1
  ), projected AS (
    INSERT INTO ${schema}.appointments SELECT r.* FROM go, jsonb_populate_record(NULL::${schema}.appointments, $9::jsonb) AS r
    RETURNING 1
  ), published AS (
    INSERT INTO ${schema}.outbox (event_id, topic, message_key, event_type, payload, trace_parent)
    SELECT o.event_id, o.topic, o.message_key, o.event_type, o.payload, o.trace_parent
      FROM go, json_to_recordset($10::json) AS o(event_id uuid, topic text, message_key text, event_type text, payload json, trace_parent text)
    RETURNING 1
  )
  SELECT ${keyed ? '(SELECT count(*) FROM remembered)::int AS remembered, ' : ''}(SELECT count(*) FROM appended)::int AS appended,
         (SELECT count(*) FROM projected)::int AS projected,
         (SELECT version FROM provider) AS provider_version,
         EXISTS (SELECT 1 FROM blocked) AS blocked,
         ${keyed ? '(SELECT locked FROM lock)' : 'true'} AS locked,
         ${keyed ? '(SELECT to_jsonb(prior) FROM prior)' : 'NULL::jsonb'} AS prior,
         CASE WHEN EXISTS (SELECT 1 FROM published) THEN pg_notify('${outboxChannel(schema)}', '') END AS notified`;
}

export function bookingValues(p: BookingParams): unknown[] {
  const values: unknown[] = [
    p.providerId,
    p.providerVersion,
    p.blockedFrom,
    p.blockedTo,
    p.appointmentId,
    p.correlationId,
    p.occurredAt,
    JSON.stringify(p.events),
    JSON.stringify(p.appointment),
    JSON.stringify(p.outbox),
  ];
  if (p.idempotency) values.push(p.idempotency.caller, p.idempotency.key, p.idempotency.requestHash, p.idempotency.responseText);
  return values;
}

/**
 * Runs the booking statement on a connection of the service's pool, as a named (prepared) statement:
 * it is parsed and planned once per connection, not per booking.
 */
export async function runBookingStatement(knex: Knex, schema: string, params: BookingParams): Promise<BookingOutcome> {
  const keyed = params.idempotency !== undefined;
  const { rows } = await query<{ appended: number; provider_version: number | null; blocked: boolean; locked: boolean; prior: BookingOutcome['prior'] }>(knex, {
    name: keyed ? `${schema}.book-keyed.v3` : `${schema}.book.v2`,
    text: bookingStatement(schema, keyed),
    values: bookingValues(params),
  });
  const row = rows[0];
  return { appended: row.appended, providerVersion: row.provider_version, blocked: row.blocked, locked: row.locked, prior: row.prior };
}
